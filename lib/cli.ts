#!/usr/bin/env node
// `openiscsi`: every capability of the library from a shell, as tables or --json. Secrets are read from
// the environment (--chap-secret-env NAME), never from argv, and never printed.
import { parseArgs } from 'node:util';
import { IscsiError, IscsiPermissionError, IscsiTimeoutError, IscsiUnsupportedError, IscsiValidationError } from './errors';
import { transports, hosts } from './read/sysfs';
import { ifaces } from './read/ifaces';
import { sessions } from './read/sessions';
import type { ConnectEvent } from './attach/connect';
import { checkHardware, connect, createIface, deleteIface, discover, disconnect, login, logout, resolveIface } from './on-demand';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, PERMISSION: 3, UNSUPPORTED: 4, TIMEOUT: 5 } as const;

const USAGE = `usage: openiscsi <command> [options] [--json]

  transports                         transports the kernel registered, with their caps
  hosts                              iSCSI hosts (software sessions and offload HBAs)
  ifaces                             ifaces (/etc/iscsi/ifaces and the built-ins)
  sessions                           sessions with their LUNs and block devices
  check <transport> | --iface NAME   hardware check for a transport or an iface
  create-iface --transport T --hwaddress MAC [--ipaddress IP] [--netdev DEV] [--name N] [--no-check]
  delete-iface NAME [--force]
  resolve --source-ip IP | --target-ip IP
  discover --portal HOST[:PORT] [--iface NAME]
  login --target IQN --portal HOST[:PORT] [--iface NAME]
  logout --sid N | --target IQN --portal HOST[:PORT]
  connect --portal HOST[:PORT] [--target IQN] [--transport T | --iface NAME] [--lun N] [--no-fallback]
  disconnect --sid N [--lun N] [--force]   removes the LUN's device (all, without --lun); refuses one in use unless --force

  --timeout-ms N                     deadline for a command that waits (iscsid, a target, open-iscsi's database lock)
  CHAP: --chap-user NAME --chap-secret-env VAR (the secret is read from that environment variable)
  exit codes: 0 ok, 1 failed, 2 usage or invalid input, 3 permission, 4 unsupported or hardware unavailable, 5 timeout or aborted`;

type Row = Record<string, unknown>;

function table(rows: Row[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (v === undefined || v === null || v === '' ? '-' : Array.isArray(v) ? v.join(',') : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

function exitCodeOf(e: unknown): number {
  if (e instanceof IscsiValidationError) return EXIT.USAGE;
  if (e instanceof IscsiPermissionError) return EXIT.PERMISSION;
  if (e instanceof IscsiUnsupportedError) return EXIT.UNSUPPORTED;
  if (e instanceof IscsiTimeoutError || (e instanceof IscsiError && e.code === 'ABORTED')) return EXIT.TIMEOUT;
  return EXIT.FAILED;
}

function chap(v: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): { username: string; password: string } | undefined {
  const user = v['chap-user'];
  if (typeof user !== 'string') return undefined;
  const varName = v['chap-secret-env'];
  if (typeof varName !== 'string') throw new IscsiValidationError('CHAP_SECRET_MISSING', '--chap-user needs --chap-secret-env VAR naming the environment variable that holds the secret');
  const password = env[varName];
  if (!password) throw new IscsiValidationError('CHAP_SECRET_MISSING', `environment variable ${varName} is empty or unset`);
  return { username: user, password };
}

const num = (v: unknown, what: string): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new IscsiValidationError('INVALID_ARGUMENT', `${what} must be a non-negative integer`);
  return Number(v);
};
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

/** Runs one command; returns the exit code. */
export async function main(argv: string[], io: CliIo = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`), env: process.env }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        iface: { type: 'string' },
        transport: { type: 'string' },
        hwaddress: { type: 'string' },
        ipaddress: { type: 'string' },
        netdev: { type: 'string' },
        name: { type: 'string' },
        'no-check': { type: 'boolean' },
        force: { type: 'boolean' },
        'source-ip': { type: 'string' },
        'target-ip': { type: 'string' },
        portal: { type: 'string' },
        target: { type: 'string' },
        lun: { type: 'string' },
        sid: { type: 'string' },
        'no-fallback': { type: 'boolean' },
        'chap-user': { type: 'string' },
        'chap-secret-env': { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const { values: v, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (v.help || !command) {
    (v.help ? io.out : io.err)(USAGE);
    return v.help ? EXIT.OK : EXIT.USAGE;
  }
  const json = v.json === true;
  const print = (data: unknown, human: () => string) => io.out(json ? JSON.stringify(data, null, 2) : human());
  let timeoutMs: number | undefined;
  try {
    timeoutMs = num(v['timeout-ms'], '--timeout-ms');
    switch (command) {
      case 'transports': {
        const t = await transports();
        print(t, () => table(t.map((x) => ({ name: x.name, caps: `0x${x.caps.toString(16)}`, flags: x.flags }))));
        return EXIT.OK;
      }
      case 'hosts': {
        const h = await hosts();
        print(h, () => table(h.map((x) => ({ host: x.hostNo, transport: x.transport, hwaddress: x.hwaddress, ipaddress: x.ipaddress, netdev: x.netdev, port: x.portState, speed: x.portSpeed, ifaces: x.ifaces.map((i) => i.name) }))));
        return EXIT.OK;
      }
      case 'ifaces': {
        const l = await ifaces({ timeoutMs });
        print(l, () => table(l.map((i) => ({ name: i.name, transport: i.transport, hwaddress: i.hwaddress, ipaddress: i.ipaddress, netdev: i.netdev, initiator: i.initiatorName }))));
        return EXIT.OK;
      }
      case 'sessions': {
        const l = await sessions({ timeoutMs });
        print(l, () =>
          table(
            l.flatMap((s) => {
              const base = { sid: s.sid, target: s.targetName, portal: `${s.address}:${s.port},${s.tpgt}`, iface: s.iface.name, transport: s.iface.transport, state: s.state };
              return s.devices.length ? s.devices.map((d) => ({ ...base, hctl: d.hctl, disk: d.blockDevice, size: d.sizeBytes })) : [{ ...base, hctl: '', disk: undefined, size: undefined }];
            }),
          ),
        );
        return EXIT.OK;
      }
      case 'check': {
        const what = v.iface !== undefined ? { ...(await ifaces()).find((i) => i.name === v.iface) } : rest[0];
        if (what === undefined || (typeof what === 'object' && !('transport' in what))) throw new IscsiValidationError('INVALID_ARGUMENT', v.iface ? `no iface ${v.iface}` : 'check needs a transport or --iface NAME');
        const r = await checkHardware(what as Parameters<typeof checkHardware>[0]);
        print(r, () =>
          [
            `transport  ${r.transport} (${r.offload ? 'offload' : 'software'}), ${r.registered ? 'registered' : 'not registered'}${r.caps ? `, caps 0x${r.caps.value.toString(16)}` : ''}`,
            ...(r.host ? [`host       host${r.host.hostNo} matched by ${r.host.matchedBy}${r.host.hwaddress ? `, ${r.host.hwaddress}` : ''}${r.host.portState ? `, ${r.host.portState}` : ''}`] : []),
            ...(r.pci ? [`pci        ${r.pci.slot} vendor ${r.pci.vendor} device ${r.pci.device} driver ${r.pci.driver}`] : []),
            ...(r.nic ? [`nic        ${r.nic.name} ${r.nic.mac ?? ''} ${r.nic.operstate ?? ''}`] : []),
            ...r.problems.map((p) => `problem    ${p.code}: ${p.message}`),
            r.ok ? 'result     usable' : 'result     NOT usable',
          ].join('\n'),
        );
        return r.ok ? EXIT.OK : EXIT.UNSUPPORTED;
      }
      case 'create-iface': {
        const r = await createIface({ transport: str(v.transport) ?? '', hwaddress: str(v.hwaddress), ipaddress: str(v.ipaddress), netdev: str(v.netdev), name: str(v.name), checkHardware: v['no-check'] !== true, timeoutMs });
        print(r, () => `${r.created ? 'created' : 'already present'}: ${r.name} (${r.file})`);
        return EXIT.OK;
      }
      case 'delete-iface': {
        const r = await deleteIface(rest[0] ?? '', { force: v.force === true, timeoutMs });
        print(r, () => (r.deleted ? `deleted ${rest[0]}` : `${rest[0]} did not exist`));
        return EXIT.OK;
      }
      case 'resolve': {
        const by = v['source-ip'] !== undefined ? { sourceIp: str(v['source-ip'])! } : { targetIp: str(v['target-ip']) ?? '' };
        const r = await resolveIface(by);
        print(r, () => table(r.steps.map((s) => ({ step: s.step, value: s.value, how: s.how }))));
        return EXIT.OK;
      }
      case 'discover': {
        const r = await discover({ portal: str(v.portal) ?? '', iface: str(v.iface), auth: chap(v, io.env), timeoutMs });
        print(r, () => table(r.targets.flatMap((t) => t.portals.map((p) => ({ target: t.name, portal: p.portal, tpgt: p.tpgt })))));
        return EXIT.OK;
      }
      case 'login': {
        const s = await login({ target: str(v.target) ?? '', portal: str(v.portal) ?? '', iface: str(v.iface), auth: chap(v, io.env), timeoutMs });
        print(s, () => `session ${s.sid}: ${s.targetName} ${s.address}:${s.port} ${s.devices.filter((d) => d.blockDevice).map((d) => `/dev/${d.blockDevice}`).join(' ')}`);
        return EXIT.OK;
      }
      case 'logout': {
        const sid = num(v.sid, '--sid');
        const sids = await logout(sid !== undefined ? { sid } : { target: str(v.target) ?? '', portal: str(v.portal) ?? '', ...(v.iface ? { iface: str(v.iface)! } : {}) }, { timeoutMs });
        print(sids, () => (sids.length ? `logged out ${sids.map((s) => `session ${s}`).join(', ')}` : 'no such session'));
        return EXIT.OK;
      }
      case 'connect': {
        const t0 = Date.now();
        const progress = (e: ConnectEvent) => {
          if (json) return;
          const at = `[${((Date.now() - t0) / 1000).toFixed(2)} s]`;
          if (e.type === 'phase') io.err(`${at} ${e.phase} ${e.status === 'start' ? '…' : `done (${e.ms} ms)`}`);
          else if (e.type === 'fallback') io.err(`${at} FALLBACK ${e.from} → ${e.to}: ${e.reason}`);
          else io.err(`${at} ${e.message}`);
        };
        const r = await connect({
          portal: str(v.portal) ?? '', target: str(v.target), transport: str(v.transport), iface: str(v.iface), lun: num(v.lun, '--lun'),
          fallback: v['no-fallback'] !== true, auth: chap(v, io.env), timeoutMs, onEvent: progress,
        });
        print(r, () =>
          [
            `connected: ${r.device.path} (LUN ${r.device.lun}, ${r.device.sizeBytes ?? '?'} bytes) in session ${r.session.sid} to ${r.session.targetName}`,
            `transport: requested ${r.transport.requested}, used ${r.transport.used} via iface ${r.transport.iface}${r.transport.fallbackReason ? `\n  fallback because ${r.transport.fallbackReason}` : ''}`,
            `timings:   ${Object.entries(r.timings).map(([k, ms]) => `${k.replace(/Ms$/, '')} ${Math.round(ms)} ms`).join(', ')}`,
          ].join('\n'),
        );
        return EXIT.OK;
      }
      case 'disconnect': {
        const r = await disconnect({ sid: num(v.sid, '--sid') ?? -1, lun: num(v.lun, '--lun'), force: v.force === true, timeoutMs });
        print(r, () => `removed ${r.removed.length ? r.removed.join(', ') : 'no device'}; ${r.loggedOut ? 'logged out' : r.remaining.length ? `session kept for LUN ${r.remaining.join(', ')}` : 'session already gone'}`);
        return EXIT.OK;
      }
      default:
        io.err(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return EXIT.USAGE;
    }
  } catch (e) {
    const code = e instanceof IscsiError ? e.code : 'ERROR';
    if (json) io.out(JSON.stringify({ error: { name: (e as Error).name, code, errno: (e as IscsiError).errno, message: (e as Error).message } }, null, 2));
    else io.err(`openiscsi ${command}: ${(e as Error).message} [${code}]`);
    return exitCodeOf(e);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
