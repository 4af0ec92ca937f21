// Other Debian releases' iscsid in the lab guest: each release's root is built on the host from Debian's archive
// (guest/release-root.sh, cached), and the guest runs that release's iscsid chrooted into it with /etc/iscsi,
// /run, /proc, /sys and /dev shared, so the library (from the guest's own root) reaches it through the abstract
// socket as it would reach the distribution's own daemon. One guest serves every release: the daemons are swapped.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { AbiFamily } from '../../lib/iscsid/version';
import { repoRoot, type Lab } from './lab';

export interface Release {
  /** Debian code name. */
  suite: string;
  /** The open-iscsi package version the archive serves for that suite. */
  pkg: string;
  /** What its iscsid embeds. */
  version: string;
  family: AbiFamily;
  /** Where its iscsiadm keeps nodes and ifaces (the build's dbroot). */
  dbRoot: '/etc/iscsi' | '/var/lib/iscsi';
}

const guestDir = path.join(repoRoot, 'test', 'lab', 'guest');

/** Builds (once; cached in the lab cache) the root holding that release's open-iscsi, and returns its path. */
export function releaseRoot(r: Release): string {
  const out = spawnSync('bash', [path.join(guestDir, 'release-root.sh'), r.suite, r.pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  if (out.error) throw new Error(`lab: could not run release-root.sh: ${out.error.message}`);
  if (out.status !== 0) throw new Error(`lab: test/lab/guest/release-root.sh ${r.suite} ${r.pkg} failed (exit ${out.status})`);
  const root = out.stdout.trim().split('\n').pop() ?? '';
  if (!root.startsWith('/')) throw new Error(`lab: release-root.sh printed no root for ${r.suite}`);
  return root;
}

const SOCKET = "grep -q '@ISCSIADM_ABSTRACT_NAMESPACE' /proc/net/unix";

/**
 * Stops whatever iscsid runs in the guest and starts the one of `root` (chrooted), or the guest's own
 * (Debian 12's) when root is undefined; resolves once the new daemon listens.
 */
export async function switchIscsid(lab: Lab, root: string | undefined): Promise<void> {
  const start = root
    ? [
        `R=${root}`,
        // the guest's /var/lib/iscsi (an empty directory of its read-only root) gets a writable one, shared
        // with the root's, for the releases that keep their database there
        'mkdir -p /tmp/var-lib-iscsi && { mountpoint -q /var/lib/iscsi || mount --bind /tmp/var-lib-iscsi /var/lib/iscsi; }',
        'for d in proc sys dev run etc/iscsi var/lib/iscsi; do mountpoint -q "$R/$d" || mount --bind "/$d" "$R/$d"; done',
        'chroot "$R" /usr/sbin/iscsid',
      ]
    : ['iscsid'];
  await lab.shOk(
    [
      'set -e',
      'pids=$(pidof iscsid || true); [ -z "$pids" ] || kill $pids',
      `for i in $(seq 200); do if ! pidof iscsid >/dev/null && ! ${SOCKET}; then break; fi; sleep 0.05; done`,
      `! ${SOCKET} || { echo "the old iscsid still listens"; exit 1; }`,
      ...start,
      `for i in $(seq 200); do ${SOCKET} && break; sleep 0.05; done`,
      `${SOCKET} || { echo "iscsid did not start listening"; exit 1; }`,
    ].join('\n'),
  );
}

export interface RootRead {
  /** glibc's version in the process (process.report). */
  glibc: string;
  ifaces?: Array<{ name: string; transport: string; netdev?: string }>;
  nodes?: Array<{ targetName: string; portal: string; tpgt: number; ifaceName: string }>;
  /** The libopeniscsiusr and libc files the process had mapped, as its chroot names them. */
  mapped?: string[];
  /** Loading the package, or a call, failed. */
  error?: { code?: string; message: string };
}

/**
 * ifaces() and nodes() in a node process running on `root`'s own glibc, libstdc++ and libopeniscsiusr: chrooted
 * into it, with the guest's root (node, the checkout) bind-mounted at /host and /etc/iscsi, /var/lib/iscsi, /run,
 * /proc, /sys and /dev shared as for its iscsid (switchIscsid binds them).
 */
export async function readInRoot(lab: Lab, root: string, entry: string): Promise<RootRead> {
  const script = path.join(guestDir, 'release-read.js');
  const out = await lab.shOk(
    [
      `R=${root}`,
      'mountpoint -q "$R/host" || mount --rbind / "$R/host"',
      `chroot "$R" /host${process.execPath} /host${script} /host${entry}`,
    ].join('\n'),
    { timeoutMs: 120_000 },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as RootRead;
}

/**
 * That release's own iscsiadm logging in to `target` at `portal` (a node its discovery made), captured by a
 * stand-in for iscsid in a private network namespace: the exact request bytes it sends.
 */
export async function captureLogin(lab: Lab, root: string, target: string, portal: string): Promise<Buffer> {
  const out = `/tmp/login-capture-${path.basename(root)}.bin`;
  const script = [
    'ip link set lo up',
    `python3 ${path.join(guestDir, 'capture-login.py')} ${out} > /tmp/capture.log 2>&1 &`,
    `for i in $(seq 100); do ${SOCKET} && break; sleep 0.05; done`,
    // exits non-zero: the stand-in answers "transport error"
    `chroot ${root} /usr/sbin/iscsiadm -m node -T ${target} -p ${portal} --login > /tmp/capture-iscsiadm.log 2>&1 || true`,
    'wait',
  ].join('\n');
  await lab.shOk(`rm -f ${out}\ncat > /tmp/capture.sh <<'EOF'\n${script}\nEOF\nunshare -n bash /tmp/capture.sh; cat /tmp/capture.log; test -s ${out}`, { timeoutMs: 60_000 });
  return Buffer.from((await lab.shOk(`base64 -w0 ${out}`)).trim(), 'base64');
}

/** Where the request's byte `at` lies, for a failure message: the record's part and the offset inside it. */
export function fieldAt(at: number, parts: { conn: number; iface: number; node: number }): string {
  if (at < 16) return `header +${at} (${at < 4 ? 'command' : at < 8 ? 'payload_len' : 'sid'})`;
  const r = at - 16;
  const part: Array<[string, number]> = [
    ['list', 0], ['name', 16], ['tpgt', 272], ['startup', 276], ['leading_login', 280], ['session', 288],
    ['conn[0]', parts.conn], ['iface', parts.iface], ['disc_type', parts.iface + 11720], ['disc_address', parts.iface + 11724], ['disc_port', parts.node - 8],
  ];
  const [name, base] = part.filter(([, b]) => b <= r).pop()!;
  return `node_rec+${r} (${name}+${r - base})`;
}
