// Runs a node script with a fake sysfs bind-mounted over /sys and a private /etc/iscsi and /run/lock, in a
// private mount namespace: libopeniscsiusr's paths are compiled in, and the host's real files stay untouched.
import { spawnSync } from 'node:child_process';

export interface NamespaceRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `unprivileged`: node runs as root with every capability dropped (no CAP_SYS_ADMIN, no CAP_DAC_OVERRIDE), so
 * files the fixture made unreadable (mode 000) give EACCES, as the kernel's CHAP attributes do for non-root.
 */
export function runInMountNamespace(opts: { sysfsRoot?: string; etcSetup?: string[]; script: string; timeoutMs?: number; unprivileged?: boolean }): NamespaceRun {
  const lines = [
    'set -e',
    ...(opts.sysfsRoot ? [`mount --bind ${opts.sysfsRoot} /sys`] : []),
    'mount -t tmpfs tmpfs /etc/iscsi',
    'mount -t tmpfs tmpfs /run/lock',
    'mkdir -p /etc/iscsi/ifaces /etc/iscsi/nodes',
    ...(opts.etcSetup ?? []),
    `exec ${opts.unprivileged ? 'setpriv --inh-caps=-all --bounding-set=-all ' : ''}${process.execPath} -e ${JSON.stringify(opts.script).replace(/\$/g, '\\$')}`,
  ];
  const out = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', lines.join('\n')], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  if (out.error) throw out.error;
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}
