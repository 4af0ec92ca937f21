#!/usr/bin/env node
// `openiscsi`: every capability of the library from a shell, as tables or --json. Secrets are read from
// the environment (--chap-secret-env NAME), never from argv, and never printed.
//
// Parsing (this file) is separate from validation (the library's own validators, lib/validate.ts): the CLI
// turns argv into typed values (a flag's presence, whole numbers) and refuses what it cannot parse; every
// value is then checked by the same code as an API caller's, and its messages are put in the CLI's terms.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { IscsiError, IscsiPermissionError, IscsiTimeoutError, IscsiUnsupportedError, IscsiValidationError } from './errors';
import { nativeStatus } from './native';
import { transports, hosts } from './read/sysfs';
import { ifaces } from './read/ifaces';
import { nodes } from './read/nodes';
import { sessions } from './read/sessions';
import type { ConnectEvent } from './attach/connect';
import type { Transport } from './attach/transport';
import { checkHardware, connect, createIface, deleteIface, discover, disconnect, login, logout, resolveIface } from './on-demand';

/** The exit codes, the same for every command (README, "CLI"). */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, PERMISSION: 3, UNSUPPORTED: 4, TIMEOUT: 5 } as const;

const EXIT_TABLE = `exit codes: 0 done, 1 failed, 2 usage or a bad value, 3 permission (run as root),
            4 unsupported here (hardware, kernel transport, iscsid version, library), 5 timeout or aborted`;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

type Values = Record<string, string | boolean | undefined>;
interface Parsed {
  v: Values;
  args: string[];
}
interface Ctx {
  io: CliIo;
  json: boolean;
  print: (data: unknown, human: () => string) => void;
}

interface Flag {
  type: 'string' | 'boolean';
  /** The value's placeholder in help, e.g. IQN. */
  value?: string;
  help: string;
}

interface Command {
  /** What follows `openiscsi <name>` in the usage line. */
  usage: string;
  summary: string;
  flags: Record<string, Flag>;
  /** Positional arguments: their names in help; more than these is a usage error. */
  positionals?: string[];
  run: (p: Parsed, c: Ctx) => Promise<number>;
}

/** A command line the CLI cannot parse: exit 2, one line, never a stack trace. */
class UsageError extends Error {}

const TIMEOUT: Record<string, Flag> = { 'timeout-ms': { type: 'string', value: 'N', help: 'give up after N milliseconds (iscsid, a target, the database lock)' } };
const CHAP: Record<string, Flag> = {
  'chap-user': { type: 'string', value: 'NAME', help: 'CHAP user name' },
  'chap-secret-env': { type: 'string', value: 'VAR', help: 'environment variable holding the CHAP secret (never on the command line)' },
};

// ---- values: parsing only (the library validates) -------------------------------------------------------

const str = (v: Values, flag: string): string | undefined => {
  const x = v[flag];
  return typeof x === 'string' ? x : undefined;
};

function required(v: Values, flag: string, what: string): string {
  const x = str(v, flag);
  if (x === undefined) throw new UsageError(`--${flag} ${what} is required`);
  if (x === '') throw new UsageError(`--${flag} must not be empty`);
  return x;
}

/**
 * A transport as typed on the command line. Not checked here: the library refuses a name it does not know with
 * UNKNOWN_TRANSPORT (listing the valid ones) before anything happens, as it does for a JavaScript caller; checking
 * here would load lib/attach for every command.
 */
function asTransport<T extends string | undefined>(x: T): Transport | Extract<T, undefined> {
  return x as Transport | Extract<T, undefined>;
}

/** A whole number from a flag; the library checks its range. */
function int(v: Values, flag: string): number | undefined {
  const x = str(v, flag);
  if (x === undefined) return undefined;
  if (!/^\d{1,15}$/.test(x)) throw new UsageError(`--${flag} must be a whole number, got ${JSON.stringify(x)}`);
  return Number(x);
}

function timeoutOf(v: Values): { timeoutMs?: number } {
  const ms = int(v, 'timeout-ms');
  if (ms === 0) throw new UsageError('--timeout-ms must be at least 1');
  return ms === undefined ? {} : { timeoutMs: ms };
}

function chap(v: Values, env: NodeJS.ProcessEnv): { username: string; password: string } | undefined {
  const user = str(v, 'chap-user');
  const varName = str(v, 'chap-secret-env');
  if (user === undefined) {
    if (varName !== undefined) throw new UsageError('--chap-secret-env needs --chap-user NAME');
    return undefined;
  }
  if (varName === undefined) throw new UsageError('--chap-user needs --chap-secret-env VAR naming the environment variable that holds the secret');
  const password = env[varName];
  if (!password) throw new IscsiValidationError('CHAP_SECRET_MISSING', `environment variable ${varName} (--chap-secret-env) is empty or unset`);
  return { username: user, password };
}

function oneOf(v: Values, flags: string[]): void {
  const given = flags.filter((f) => v[f] !== undefined);
  if (given.length > 1) throw new UsageError(`give ${flags.map((f) => `--${f}`).join(' or ')}, not both`);
}

/** The library's option names in a message, as this CLI's flags. */
const CLI_TERMS: Array<[RegExp, string]> = [
  [/\bpass checkHardware: false\b/g, 'pass --no-check'],
  [/\bcheckHardware: false\b/g, '--no-check'],
  [/\bpass force: true\b/g, 'pass --force'],
  [/\bforce: true\b/g, '--force'],
  [/\ballow fallback to tcp\b/g, 'drop --no-fallback'],
  [/\bfallback: false\b/g, '--no-fallback'],
  [/\btimeoutMs\b/g, '--timeout-ms'],
  [/\bauth\.username\b/g, '--chap-user'],
  [/\bauth\.password\b/g, 'the CHAP secret (--chap-secret-env)'],
  [/\btargetIp\b/g, '--target-ip'],
  [/\bsourceIp\b/g, '--source-ip'],
  [/\binitiatorName\b/g, '--initiator-name'],
];
export function inCliTerms(message: string): string {
  let m = message.replace(/\s*\n\s*/g, ' ');
  for (const [re, to] of CLI_TERMS) m = m.replace(re, to);
  return m;
}

// ---- output -----------------------------------------------------------------------------------------------

type Row = Record<string, unknown>;

function table(rows: Row[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (v === undefined || v === null || v === '' ? '-' : Array.isArray(v) ? v.join(',') : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

/** A file system refusal that reached the CLI without being classified (EACCES, EPERM). */
const deniedByOs = (e: unknown): boolean => !(e instanceof IscsiError) && e instanceof Error && ['EACCES', 'EPERM'].includes(String((e as NodeJS.ErrnoException).code));

function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError || e instanceof IscsiValidationError) return EXIT.USAGE;
  if (e instanceof IscsiPermissionError || deniedByOs(e)) return EXIT.PERMISSION;
  if (e instanceof IscsiUnsupportedError) return EXIT.UNSUPPORTED;
  if (e instanceof IscsiTimeoutError || (e instanceof IscsiError && e.code === 'ABORTED')) return EXIT.TIMEOUT;
  return EXIT.FAILED;
}

// ---- commands ---------------------------------------------------------------------------------------------

const COMMANDS: Record<string, Command> = {
  transports: {
    usage: '',
    summary: 'the iSCSI transports the kernel registered, with their caps',
    flags: {},
    async run(_p, c) {
      const t = await transports();
      c.print(t, () => table(t.map((x) => ({ name: x.name, caps: `0x${x.caps.toString(16)}`, flags: x.flags }))));
      if (t.length === 0 && !c.json) c.io.err('the kernel has no iSCSI transport loaded: load one (modprobe iscsi_tcp), or let iscsid load it when it logs in');
      return EXIT.OK;
    },
  },
  hosts: {
    usage: '',
    summary: 'iSCSI hosts (software sessions and offload HBAs)',
    flags: {},
    async run(_p, c) {
      const h = await hosts();
      c.print(h, () => table(h.map((x) => ({ host: x.hostNo, transport: x.transport, hwaddress: x.hwaddress, ipaddress: x.ipaddress, netdev: x.netdev, port: x.portState, speed: x.portSpeed, ifaces: x.ifaces.map((i) => i.name) }))));
      return EXIT.OK;
    },
  },
  ifaces: {
    usage: '',
    summary: 'ifaces: /etc/iscsi/ifaces and the built-ins',
    flags: { ...TIMEOUT },
    async run(p, c) {
      const l = await ifaces({ ...timeoutOf(p.v), onProblem: (e) => c.io.err(`skipped: ${inCliTerms(e.message)} [${e.code}]`) });
      c.print(l, () => table(l.map((i) => ({ name: i.name, transport: i.transport, hwaddress: i.hwaddress, ipaddress: i.ipaddress, netdev: i.netdev, initiator: i.initiatorName }))));
      return EXIT.OK;
    },
  },
  nodes: {
    usage: '',
    summary: 'node records: /etc/iscsi/nodes (what iscsiadm -m node lists)',
    flags: { ...TIMEOUT },
    async run(p, c) {
      const l = await nodes({ ...timeoutOf(p.v), onProblem: (e) => c.io.err(`skipped: ${inCliTerms(e.message)} [${e.code}]`) });
      c.print(l, () => table(l.map((n) => ({ target: n.targetName, portal: `${n.portal},${n.tpgt}`, iface: n.ifaceName }))));
      return EXIT.OK;
    },
  },
  sessions: {
    usage: '',
    summary: 'sessions with their LUNs and block devices',
    flags: { ...TIMEOUT },
    async run(p, c) {
      const l = await sessions(timeoutOf(p.v));
      c.print(l, () =>
        table(
          l.flatMap((s) => {
            const base = { sid: s.sid, target: s.targetName, portal: `${s.address}:${s.port},${s.tpgt}`, iface: s.iface.name, transport: s.iface.transport, state: s.state };
            return s.devices.length ? s.devices.map((d) => ({ ...base, hctl: d.hctl, disk: d.blockDevice, size: d.sizeBytes })) : [{ ...base, hctl: '', disk: undefined, size: undefined }];
          }),
        ),
      );
      return EXIT.OK;
    },
  },
  check: {
    usage: '<transport> | --iface NAME',
    summary: 'whether a transport (or an iface) is usable on this machine, and if not, why (exit 4)',
    flags: { iface: { type: 'string', value: 'NAME', help: 'check this iface (its transport and binding)' } },
    positionals: ['transport'],
    async run(p, c) {
      const iface = str(p.v, 'iface');
      if (iface !== undefined && p.args.length) throw new UsageError('give a transport or --iface NAME, not both');
      if (iface === undefined && !p.args.length) throw new UsageError('a transport (tcp, iser, cxgb4i, ...) or --iface NAME is required');
      const r = await checkHardware(iface !== undefined ? { iface } : asTransport(p.args[0]!));
      c.print(r, () =>
        [
          `transport  ${r.transport} (${r.offload ? 'offload' : 'software'}), ${r.registered ? 'registered' : 'not registered'}${r.caps ? `, caps 0x${r.caps.value.toString(16)}` : ''}`,
          ...(r.host ? [`host       host${r.host.hostNo} matched by ${r.host.matchedBy}${r.host.hwaddress ? `, ${r.host.hwaddress}` : ''}${r.host.portState ? `, ${r.host.portState}` : ''}`] : []),
          ...(r.pci ? [`pci        ${r.pci.slot} vendor ${r.pci.vendor} device ${r.pci.device} driver ${r.pci.driver}`] : []),
          ...(r.nic ? [`nic        ${r.nic.name} ${r.nic.mac ?? ''} ${r.nic.operstate ?? ''}`] : []),
          ...r.problems.map((x) => `problem    ${x.code}: ${inCliTerms(x.message)}`),
          r.ok ? 'result     usable' : 'result     NOT usable',
        ].join('\n'),
      );
      return r.ok ? EXIT.OK : EXIT.UNSUPPORTED;
    },
  },
  'create-iface': {
    usage: '--transport T --hwaddress MAC [--ipaddress IP] [--netdev DEV] [--name N] [--initiator-name IQN] [--no-check]',
    summary: 'write an iface file for offload hardware (checked first: a failed check exits 4)',
    flags: {
      transport: { type: 'string', value: 'T', help: 'cxgb4i, bnx2i, qla4xxx, ... (or tcp, iser)' },
      hwaddress: { type: 'string', value: 'MAC', help: 'the port\'s hardware address' },
      ipaddress: { type: 'string', value: 'IP', help: 'the address the HBA uses (bnx2i, qedi need one)' },
      netdev: { type: 'string', value: 'DEV', help: 'bind by network device' },
      name: { type: 'string', value: 'N', help: 'the iface name (default <transport>.<hwaddress>)' },
      'initiator-name': { type: 'string', value: 'IQN', help: 'an initiator name for this iface' },
      'no-check': { type: 'boolean', help: 'write it without checking the hardware' },
      ...TIMEOUT,
    },
    async run(p, c) {
      const transport = asTransport(required(p.v, 'transport', 'T (cxgb4i, bnx2i, ...)'));
      const r = await createIface({
        transport, hwaddress: str(p.v, 'hwaddress'), ipaddress: str(p.v, 'ipaddress'), netdev: str(p.v, 'netdev'), name: str(p.v, 'name'),
        initiatorName: str(p.v, 'initiator-name'), checkHardware: p.v['no-check'] !== true, ...timeoutOf(p.v),
      });
      c.print(r, () => `${r.created ? 'created' : 'already present'}: ${r.name} (${r.file})`);
      return EXIT.OK;
    },
  },
  'delete-iface': {
    usage: 'NAME [--force]',
    summary: 'remove an iface file this library created (--force: any), never one a session uses',
    flags: { force: { type: 'boolean', help: 'delete it even if openiscsi did not create it' }, ...TIMEOUT },
    positionals: ['name'],
    async run(p, c) {
      const name = p.args[0];
      if (name === undefined) throw new UsageError('the iface NAME is required');
      const r = await deleteIface(name, { force: p.v.force === true, ...timeoutOf(p.v) });
      c.print(r, () => (r.deleted ? `deleted ${name}` : `${name} did not exist`));
      return EXIT.OK;
    },
  },
  resolve: {
    usage: '--source-ip IP | --target-ip IP',
    summary: 'the iface and host to use for a local address, or for the route to a target',
    flags: { 'source-ip': { type: 'string', value: 'IP', help: 'a local address' }, 'target-ip': { type: 'string', value: 'IP', help: 'the target\'s address (its route is followed)' } },
    async run(p, c) {
      oneOf(p.v, ['source-ip', 'target-ip']);
      const source = str(p.v, 'source-ip');
      const by = source !== undefined ? { sourceIp: source } : { targetIp: required(p.v, 'target-ip', 'IP (or --source-ip IP)') };
      const r = await resolveIface(by);
      c.print(r, () => table(r.steps.map((s) => ({ step: s.step, value: s.value, how: s.how }))));
      return EXIT.OK;
    },
  },
  discover: {
    usage: '--portal HOST[:PORT] [--iface NAME] [--chap-user NAME --chap-secret-env VAR]',
    summary: 'the targets a portal offers (SendTargets); writes nothing',
    flags: { portal: { type: 'string', value: 'HOST[:PORT]', help: 'the portal to ask' }, iface: { type: 'string', value: 'NAME', help: 'discover from this iface\'s address and initiator name' }, ...CHAP, ...TIMEOUT },
    async run(p, c) {
      const portal = required(p.v, 'portal', 'HOST[:PORT]');
      const r = await discover({ portal, iface: str(p.v, 'iface'), auth: chap(p.v, c.io.env), ...timeoutOf(p.v) });
      c.print(r, () => table(r.targets.flatMap((t) => t.portals.map((x) => ({ target: t.name, portal: x.portal, tpgt: x.tpgt })))));
      return EXIT.OK;
    },
  },
  login: {
    usage: '--target IQN --portal HOST[:PORT] [--iface NAME] [--persist] [--chap-user NAME --chap-secret-env VAR]',
    summary: 'log in through iscsid (an existing session is returned)',
    flags: {
      target: { type: 'string', value: 'IQN', help: 'the target name' },
      portal: { type: 'string', value: 'HOST[:PORT]', help: 'its portal (",tpgt" optional)' },
      iface: { type: 'string', value: 'NAME', help: 'the iface (default: default, software tcp)' },
      persist: { type: 'boolean', help: 'also write the node record, as iscsiadm would, for boot-time logins' },
      ...CHAP,
      ...TIMEOUT,
    },
    async run(p, c) {
      const target = required(p.v, 'target', 'IQN');
      const portal = required(p.v, 'portal', 'HOST[:PORT]');
      const s = await login({ target, portal, iface: str(p.v, 'iface'), auth: chap(p.v, c.io.env), persist: p.v.persist === true, ...timeoutOf(p.v) });
      c.print(s, () => `session ${s.sid}: ${s.targetName} ${s.address}:${s.port} ${s.devices.filter((d) => d.blockDevice).map((d) => `/dev/${d.blockDevice}`).join(' ')}`.trimEnd());
      return EXIT.OK;
    },
  },
  logout: {
    usage: '--sid N | --target IQN --portal HOST[:PORT] [--iface NAME]',
    summary: 'log out one session, or every session of a target and portal',
    flags: {
      sid: { type: 'string', value: 'N', help: 'the session id (see openiscsi sessions)' },
      target: { type: 'string', value: 'IQN', help: 'the target name' },
      portal: { type: 'string', value: 'HOST[:PORT]', help: 'its portal' },
      iface: { type: 'string', value: 'NAME', help: 'only sessions through this iface' },
      ...TIMEOUT,
    },
    async run(p, c) {
      const sid = int(p.v, 'sid');
      if (sid !== undefined && (p.v.target !== undefined || p.v.portal !== undefined || p.v.iface !== undefined)) throw new UsageError('give --sid N or --target and --portal, not both');
      const what = sid !== undefined ? { sid } : { target: required(p.v, 'target', 'IQN (or --sid N)'), portal: required(p.v, 'portal', 'HOST[:PORT]'), ...(str(p.v, 'iface') !== undefined ? { iface: str(p.v, 'iface')! } : {}) };
      const sids = await logout(what, timeoutOf(p.v));
      c.print(sids, () => (sids.length ? `logged out ${sids.map((s) => `session ${s}`).join(', ')}` : 'no such session'));
      return EXIT.OK;
    },
  },
  connect: {
    usage: '--portal HOST[:PORT] [--target IQN] [--transport T | --iface NAME] [--lun N] [--no-fallback] [--chap-user NAME --chap-secret-env VAR]',
    summary: 'attach a volume: check the transport, discover, log in, wait for the disk (progress on stderr)',
    flags: {
      portal: { type: 'string', value: 'HOST[:PORT]', help: 'the portal' },
      target: { type: 'string', value: 'IQN', help: 'the target (default: the only one the portal offers)' },
      transport: { type: 'string', value: 'T', help: 'tcp (default), iser, cxgb4i, ...' },
      iface: { type: 'string', value: 'NAME', help: 'an iface instead of a transport' },
      lun: { type: 'string', value: 'N', help: 'the LUN whose disk to wait for (default: the first disk)' },
      'no-fallback': { type: 'boolean', help: 'fail instead of falling back to software tcp' },
      ...CHAP,
      ...TIMEOUT,
    },
    async run(p, c) {
      oneOf(p.v, ['transport', 'iface']);
      const portal = required(p.v, 'portal', 'HOST[:PORT]');
      const lun = int(p.v, 'lun');
      const auth = chap(p.v, c.io.env);
      const timeout = timeoutOf(p.v);
      const t0 = Date.now();
      const progress = (e: ConnectEvent) => {
        if (c.json) return;
        const at = `[${((Date.now() - t0) / 1000).toFixed(2)} s]`;
        if (e.type === 'phase') {
          if (e.status === 'start') c.io.err(`${at} ${e.phase} …`);
          else c.io.err(`${at} ${e.phase} ${e.status === 'done' ? 'done' : 'failed'} (${e.ms} ms)`);
        } else if (e.type === 'fallback') c.io.err(`${at} FALLBACK ${e.from} → ${e.to}: ${inCliTerms(e.reason)}`);
        else c.io.err(`${at} ${inCliTerms(e.message)}`);
      };
      const r = await connect({
        portal, target: str(p.v, 'target'), transport: asTransport(str(p.v, 'transport')), iface: str(p.v, 'iface'), lun,
        fallback: p.v['no-fallback'] !== true, auth, ...timeout, onEvent: progress,
      });
      c.print(r, () =>
        [
          `connected: ${r.device.path} (LUN ${r.device.lun}, ${r.device.sizeBytes ?? '?'} bytes) in session ${r.session.sid} to ${r.session.targetName}`,
          `transport: requested ${r.transport.requested}, used ${r.transport.used} via iface ${r.transport.iface}${r.transport.fallbackReason ? `\n  fallback because ${inCliTerms(r.transport.fallbackReason)}` : ''}`,
          `timings:   ${Object.entries(r.timings).map(([k, ms]) => `${k.replace(/Ms$/, '')} ${Math.round(ms)} ms`).join(', ')}`,
        ].join('\n'),
      );
      return EXIT.OK;
    },
  },
  disconnect: {
    usage: '--sid N [--lun N] [--force]',
    summary: 'remove the LUN\'s disk (all, without --lun), then log out when no LUN keeps the session; refuses a disk in use',
    flags: {
      sid: { type: 'string', value: 'N', help: 'the session id' },
      lun: { type: 'string', value: 'N', help: 'only this LUN' },
      force: { type: 'boolean', help: 'remove a disk even if it is in use (mounted, held, open)' },
      ...TIMEOUT,
    },
    async run(p, c) {
      const sid = int(p.v, 'sid');
      if (sid === undefined) throw new UsageError('--sid N is required');
      const lun = int(p.v, 'lun');
      const r = await disconnect({ sid, ...(lun === undefined ? {} : { lun }), force: p.v.force === true, ...timeoutOf(p.v) });
      c.print(r, () => `removed ${r.removed.length ? r.removed.join(', ') : 'no device'}; ${r.loggedOut ? 'logged out' : r.remaining.length ? `session kept for LUN ${r.remaining.join(', ')}` : 'session already gone'}`);
      return EXIT.OK;
    },
  },
};

// ---- help and version ---------------------------------------------------------------------------------------

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'usage: openiscsi <command> [flags] [--json]',
    '       openiscsi <command> --help     the command\'s flags',
    '       openiscsi --version',
    '',
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
    '',
    'CHAP secrets are read from an environment variable (--chap-secret-env VAR), never from the command line.',
    EXIT_TABLE,
  ].join('\n');
}

function commandHelp(name: string, c: Command): string {
  const flags: Array<[string, string]> = Object.entries(c.flags).map(([f, d]) => [`--${f}${d.value ? ` ${d.value}` : ''}`, d.help]);
  flags.push(['--json', 'print JSON (errors too) on stdout'], ['--help', 'this help']);
  const width = Math.max(...flags.map(([f]) => f.length));
  return [`usage: openiscsi ${name} ${c.usage}`.trimEnd(), '', c.summary, '', ...flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`), '', EXIT_TABLE].join('\n');
}

function version(): { version: string; native: Record<string, unknown> } {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  const s = nativeStatus();
  return {
    version: pkg.version,
    native: { loaded: s.loaded, libopeniscsiusr: s.libopeniscsiusr, ...(s.binary ? { binary: s.binary.path, prebuilt: s.binary.prebuilt } : {}), ...(s.error ? { error: s.error.message } : {}) },
  };
}

function humanVersion(v: ReturnType<typeof version>): string {
  const n = v.native;
  const addon = n['loaded'] ? `addon ${n['prebuilt'] ? 'prebuilt' : 'built'} (${String(n['binary'])})` : `addon not loaded: ${String(n['error'])}`;
  const usr = n['loaded'] ? (n['libopeniscsiusr'] ? 'libopeniscsiusr loaded' : `libopeniscsiusr missing: ${String(n['error'])}`) : '';
  return [`openiscsi ${v.version}`, addon, usr].filter(Boolean).join('\n');
}

// ---- main -------------------------------------------------------------------------------------------------

/** Runs one command; returns the exit code. */
export async function main(argv: string[], io: CliIo = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`), env: process.env }): Promise<number> {
  // The command comes first; before it, only --help, --version and --json.
  const name = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  const json = argv.includes('--json');
  const cmd = name === undefined ? undefined : Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  const fail = (e: unknown): number => {
    const code = e instanceof IscsiError ? e.code : e instanceof UsageError ? 'USAGE' : deniedByOs(e) ? String((e as NodeJS.ErrnoException).code) : 'ERROR';
    const message = inCliTerms(e instanceof Error ? e.message : String(e)) + (deniedByOs(e) ? ': run as root' : '');
    const where = name !== undefined && cmd ? `openiscsi ${name}` : 'openiscsi';
    if (json) io.out(JSON.stringify({ error: { name: e instanceof Error ? e.name : 'Error', code, ...(e instanceof IscsiError && e.errno !== undefined ? { errno: e.errno } : {}), message } }, null, 2));
    else io.err(`${where}: ${message}${e instanceof UsageError ? ` (see ${where} --help)` : ` [${code}]`}`);
    return exitCodeOf(e);
  };

  if (cmd === undefined) {
    if (name !== undefined) return fail(new UsageError(`unknown command ${JSON.stringify(name)}; the commands: ${Object.keys(COMMANDS).join(', ')}`));
    if (argv.includes('--version') || argv.includes('-V')) {
      const v = version();
      io.out(json ? JSON.stringify(v, null, 2) : humanVersion(v));
      return EXIT.OK;
    }
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(usage());
      return EXIT.OK;
    }
    const other = argv.find((a) => a !== '--json');
    if (other !== undefined) return fail(new UsageError(other.startsWith('-') ? `unknown flag ${other} (a command comes first)` : `the command comes first, before ${argv[0]}`));
    io.err(usage());
    return EXIT.USAGE;
  }

  let parsed: Parsed;
  try {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };
    for (const [f, d] of Object.entries(cmd.flags)) options[f] = { type: d.type };
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options });
    const args = positionals.slice(1);
    if (values['help'] === true) {
      io.out(commandHelp(name!, cmd));
      return EXIT.OK;
    }
    const max = cmd.positionals?.length ?? 0;
    if (args.length > max) throw new UsageError(`unexpected argument${args.length - max > 1 ? 's' : ''} ${args.slice(max).map((a) => JSON.stringify(a)).join(' ')}`);
    parsed = { v: values as Values, args };
  } catch (e) {
    if (e instanceof UsageError) return fail(e);
    // node:util's messages name the flag; keep their first sentence.
    const m = (e as Error).message.replace(/\. To specify.*$/s, '').replace(/^Unknown option '(.*)'$/, 'unknown flag $1');
    return fail(new UsageError(m));
  }

  const print = (data: unknown, human: () => string) => io.out(json ? JSON.stringify(data, null, 2) : human());
  try {
    return await cmd.run(parsed, { io, json, print });
  } catch (e) {
    return fail(e);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
