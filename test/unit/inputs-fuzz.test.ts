// Property-based input fuzz of every public call that takes input (issue 16): a valid call with one field
// replaced by a generated bad value (wrong type, out of range, control characters, path escapes, huge
// strings) must reject with an IscsiValidationError carrying a documented code, and have done nothing: no
// native call (the addon is replaced by a recorder), no socket opened, no DNS asked, no file or directory
// written (fs is watched, and the temporary directories the seams point at are compared before and after).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type * as NetTypes from 'node:net';
import { IscsiValidationError } from '../../lib/errors';

// The CommonJS objects (what the library's `fs.promises.open(...)` calls reach), not the ES namespaces.
const req = createRequire(__filename);
const fs = req('node:fs') as typeof import('node:fs');
const dns = req('node:dns') as typeof import('node:dns');
const net = req('node:net') as typeof import('node:net');

const rec = vi.hoisted(() => ({ calls: [] as string[] }));

// Every native call is recorded and refused: with valid input the calls below would reach the addon.
vi.mock('../../lib/native', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../lib/native')>();
  const binding = new Proxy(
    {},
    {
      get: (_t, name) => {
        if (name === 'then') return undefined;
        return (..._a: unknown[]) => {
          rec.calls.push(`native.${String(name)}`);
          return Promise.reject(Object.assign(new Error('recorder: no native calls in the fuzz'), { code: 'RECORDER' }));
        };
      },
    },
  );
  return { ...real, native: () => binding };
});

import * as api from '../../lib/index';

/** The codes a bad input may be refused with (the user-facing list in the report). */
const CODES = new Set([
  'INVALID_IQN', 'INVALID_PORTAL', 'INVALID_IFACE_NAME', 'INVALID_TIMEOUT', 'INVALID_LUN', 'INVALID_SID', 'INVALID_AUTH',
  'INVALID_CHAP_USER', 'INVALID_CHAP_SECRET', 'INVALID_CHAP_ALGORITHM', 'INVALID_VALUE', 'VALUE_TOO_LONG', 'INVALID_OPTION',
  'INVALID_OPTIONS', 'UNKNOWN_OPTION', 'INVALID_ADDRESS', 'INVALID_NETDEV', 'INVALID_HWADDRESS', 'UNKNOWN_TRANSPORT', 'PATH_ESCAPE',
  'IFACE_BINDING_REQUIRED', 'IPADDRESS_REQUIRED',
]);

// ---- watching for side effects ----------------------------------------------------------------------

const WRITES = ['open', 'writeFile', 'appendFile', 'mkdir', 'mkdtemp', 'link', 'symlink', 'rename', 'unlink', 'rm', 'rmdir', 'chmod', 'chown', 'truncate', 'copyFile', 'utimes'] as const;
const READ_FLAGS = new Set([undefined, 'r', fs.constants.O_RDONLY]);
const spies: Array<{ mockRestore: () => void }> = [];
let tmp = '';

function watch(): void {
  for (const name of WRITES) {
    const p = fs.promises as unknown as Record<string, (...a: unknown[]) => unknown>;
    const orig = p[name]!;
    spies.push(
      vi.spyOn(p, name).mockImplementation((...a: unknown[]) => {
        if (!(name === 'open' && READ_FLAGS.has(a[1] as string | number | undefined))) rec.calls.push(`fs.promises.${name}(${String(a[0])})`);
        return orig.apply(fs.promises, a);
      }) as never,
    );
    const syncName = `${name}Sync`;
    const s = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
    if (typeof s[syncName] === 'function') {
      const o = s[syncName]!;
      spies.push(
        vi.spyOn(s, syncName).mockImplementation((...a: unknown[]) => {
          if (!(name === 'open' && READ_FLAGS.has(a[1] as string | number | undefined))) rec.calls.push(`fs.${syncName}(${String(a[0])})`);
          return o.apply(fs, a);
        }) as never,
      );
    }
  }
  spies.push(
    vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: NetTypes.Socket) {
      rec.calls.push('net.connect');
      process.nextTick(() => this.destroy(new Error('recorder: no sockets in the fuzz')));
      return this;
    }) as never,
  );
  spies.push(
    vi.spyOn(dns.promises, 'lookup').mockImplementation(async (h: string) => {
      rec.calls.push(`dns.lookup(${h})`);
      throw new Error('recorder: no DNS in the fuzz');
    }) as never,
  );
  syncBuiltinESMExports();
}

function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(`${p}:${e.isDirectory() ? 'd' : fs.statSync(p).size}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort().join('\n');
}

// ---- bad values --------------------------------------------------------------------------------------

const notString = fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.constant({}), fc.array(fc.string(), { maxLength: 2 }), fc.constant(() => 'x'), fc.bigInt());
const notNumber = fc.oneof(fc.constant(null), fc.string({ maxLength: 4 }), fc.boolean(), fc.constant({}), fc.constant([1]), fc.bigInt(), fc.constant('5'));
const CONTROLS = ['\0', '\n', '\r', '\t', '\x01', '\x1b', '\x7f', '\x85', '\u2028'];
/** `s` with one control character inserted somewhere. */
const withControl = (base: string) => fc.tuple(fc.constantFrom(...CONTROLS), fc.nat(base.length)).map(([c, i]) => base.slice(0, i) + c + base.slice(i));
const huge = fc.integer({ min: 300, max: 5000 }).map((n) => 'a'.repeat(n));
const PATH_TRICKS = ['../../../../etc/x', '..', '.', 'a/b', '/etc/passwd', 'x/../../y', '..\\..\\x', 'a b', ' a', 'a\n'];

const iqnBase = 'iqn.2026-11.org.example:t1';
const badIqn = fc.oneof(
  notString,
  fc.constant(undefined),
  fc.constant(''),
  fc.constantFrom(...PATH_TRICKS.filter((p) => p !== '.').map((p) => `iqn.2003-01.org.example:${p}`), 'iqn.2003-13.org.x', 'iqn.03-01.org.x', 'eui.123', 'naa.XYZ', 'target1', 'iqn.2003-01.org.example:a_b'),
  withControl(iqnBase),
  fc.constantFrom('/', ' ', '\\', '_', '*', '?', '"', "'", '<', '|', '\u00a0', '\ufeff').chain((c) => fc.nat(8).map((i) => `${iqnBase}${'x'.repeat(i)}${c}`)),
  huge.map((s) => `${iqnBase}${s}`),
);
const badPortal = fc.oneof(
  notString,
  fc.constant(undefined),
  fc.constantFrom('', '1.2.3.4:0', '1.2.3.4:65536', '[1.2.3.4]:3260', '[zz::1]:3260', 'host name', 'a/b:3260', '1.2.3.4:32a', '1.2.3.4,99999', '../x', '1.2.3.4:3260/x', 'fe80::1%eth0/../x'),
  withControl('192.0.2.10:3260'),
  huge,
);
const badIface = fc.oneof(notString, fc.constantFrom('', ...PATH_TRICKS, 'a..b', 'x'.repeat(65)), withControl('eth-bound'));
const badTimeout = fc.oneof(notNumber, fc.constantFrom(-5, -1, 0, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, Number.MAX_VALUE), fc.double({ min: 1.0001, max: 1e6, noInteger: true }), fc.integer({ max: 0 }));
const badLun = fc.oneof(notNumber, fc.constantFrom(-1, 1.5, 70000, 65536, NaN, Infinity, -Infinity, 2 ** 64), fc.integer({ max: -1 }), fc.integer({ min: 65536 }));
const badSid = fc.oneof(notNumber, fc.constant(undefined), fc.constantFrom(-1, 0, 1.5, 2 ** 31, NaN, Infinity, 4294967295), fc.integer({ max: 0 }));
const badChapText = (base: string) => fc.oneof(notString, fc.constant(''), withControl(base), fc.constantFrom(` ${base}`, `${base} `, `${base}\n`, `\t${base}`), fc.constant('u'.repeat(256)));
const badSecret = fc.oneof(badChapText('s3cret-s3cret'), fc.string({ maxLength: 11 }).filter((s) => Buffer.byteLength(s) < 12));
const badAlgorithms = fc.oneof(notString, fc.constant([]), fc.constant(['MD5', 'MD5']), fc.constant(['MD4']), fc.constant(['toString']), fc.constant(['__proto__']), fc.constant(['MD5', 'SHA1', 'SHA256', 'MD5', 'SHA1', 'SHA256']), fc.constant([5]));
const badAuth = fc.oneof(
  notString.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
  badChapText('user').map((username) => ({ username, password: 's3cret-s3cret' })),
  badSecret.map((password) => ({ username: 'user', password })),
  fc.constant({ username: 'user', password: 's3cret-s3cret', usernameIn: 'tgt' }),
  fc.constant({ username: 'user', password: 's3cret-s3cret', passwordIn: 'other-secret!' }),
  fc.constant({ username: 'user', password: 's3cret-s3cret', usernameIn: 'tgt', passwordIn: 's3cret-s3cret' }),
  fc.constant({ password: 's3cret-s3cret' }),
  fc.constant({ username: 'user', password: 's3cret-s3cret', userName: 'typo' }),
  badChapText('tgt').map((usernameIn) => ({ username: 'user', password: 's3cret-s3cret', usernameIn, passwordIn: 'other-secret!' })),
  badSecret.map((passwordIn) => ({ username: 'user', password: 's3cret-s3cret', usernameIn: 'tgt', passwordIn })),
  badAlgorithms.map((algorithms) => ({ username: 'user', password: 's3cret-s3cret', algorithms })),
);
const badOptionsObject = fc.constantFrom(null, 5, 'x', [1], true);
const badSignal = fc.oneof(fc.constantFrom(5, 'abort', {}, { aborted: false }, true), fc.constant([]));
const badBool = fc.constantFrom(1, 0, 'yes', 'true', null, {});
const badAddress = fc.oneof(notString, fc.constantFrom('', '1.2.3', '300.1.1.1', 'host.example', '1.2.3.4/24', 'fe80::1%eth0/x', '::1 '), withControl('192.0.2.1'));
const badDir = fc.oneof(notString, fc.constantFrom('', 'relative/dir', '/tmp/\0x'));
const badNodeOptions = fc.oneof(
  badOptionsObject,
  fc.constant({ 'node.startup': 'automatic\nnode.session.auth.username = x' }),
  fc.constant({ 'node.no_such_key': 1 }),
  fc.constant({ 'node.session.cmds_max': 1.5 }),
  fc.constant({ 'node.session.cmds_max': NaN }),
  fc.constant({ 'node.session.cmds_max': {} }),
  fc.constant({ 'node.conn[0].tcp.congestion_control': 'bbr\n' }),
  fc.constant({ 'node.session.auth.username': 'x' }),
);

// ---- the calls ---------------------------------------------------------------------------------------

type Args = Record<string, unknown>;
interface Case {
  name: string;
  /** A valid call's arguments (fresh each time). */
  base: () => Args;
  /** Field path (dot-separated, `$` for the whole argument) → bad values. */
  bad: Record<string, fc.Arbitrary<unknown>>;
  call: (a: Args) => Promise<unknown>;
}

function setPath(obj: Args, p: string, v: unknown): Args {
  if (p === '$') return v as Args;
  const keys = p.split('.');
  let o: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys.at(-1)!] = v;
  return obj;
}

const lookup = async (h: string) => {
  rec.calls.push(`deps.lookup(${h})`);
  throw new Error('recorder');
};
const auth = () => ({ username: 'user', password: 's3cret-s3cret', usernameIn: 'tgt', passwordIn: 'other-secret!', algorithms: ['MD5'] });
const loginDeps = () => ({ lookup, iscsidConfPath: path.join(tmp, 'iscsid.conf'), initiatorNamePath: path.join(tmp, 'initiatorname.iscsi'), lockDir: path.join(tmp, 'lock'), nodesDir: path.join(tmp, 'nodes') });
const wait = { timeoutMs: badTimeout, signal: badSignal };
const sysfs = () => ({ sysfsRoot: path.join(tmp, 'sys'), procRoot: path.join(tmp, 'proc'), ifacesDir: path.join(tmp, 'ifaces') });

const CASES: Case[] = [
  {
    name: 'login',
    base: () => ({ o: { target: iqnBase, portal: '192.0.2.10:3260', iface: 'default', auth: auth(), persist: true, timeoutMs: 1000, deps: loginDeps() } }),
    bad: { '$.o': badOptionsObject, 'o.target': badIqn, 'o.portal': badPortal, 'o.iface': badIface, 'o.auth': badAuth, 'o.options': badNodeOptions, 'o.persist': badBool, 'o.timeoutMs': badTimeout, 'o.signal': badSignal, 'o.abi': notString.filter((v) => v !== null) },
    call: (a) => api.login(a.o as never),
  },
  {
    name: 'logout by sid',
    base: () => ({ what: { sid: 3 }, o: { timeoutMs: 1000 } }),
    bad: { 'what.sid': badSid, '$.what': badOptionsObject, '$.o': badOptionsObject, ...prefixed('o', wait) },
    call: (a) => api.logout(a.what as never, a.o as never),
  },
  {
    name: 'logout by target',
    base: () => ({ what: { target: iqnBase, portal: '192.0.2.10:3260', iface: 'default' }, o: { timeoutMs: 1000, deps: { lookup } } }),
    bad: { 'what.target': badIqn, 'what.portal': badPortal, 'what.iface': badIface, ...prefixed('o', wait) },
    call: (a) => api.logout(a.what as never, a.o as never),
  },
  { name: 'sessionState', base: () => ({ sid: 3, o: { timeoutMs: 1000 } }), bad: { '$.sid': badSid, '$.o': badOptionsObject, ...prefixed('o', wait) }, call: (a) => api.sessionState(a.sid as never, a.o as never) },
  { name: 'sessionStats', base: () => ({ sid: 3, o: { timeoutMs: 1000 } }), bad: { '$.sid': badSid, '$.o': badOptionsObject, ...prefixed('o', wait) }, call: (a) => api.sessionStats(a.sid as never, a.o as never) },
  { name: 'initiatorName', base: () => ({ o: { timeoutMs: 1000 } }), bad: { '$.o': badOptionsObject, ...prefixed('o', wait) }, call: (a) => api.initiatorName(a.o as never) },
  {
    name: 'discoverSendTargets',
    base: () => ({ o: { portal: '192.0.2.10:3260', initiatorName: iqnBase, auth: auth(), timeoutMs: 1000, lookup } }),
    bad: { '$.o': badOptionsObject, 'o.portal': badPortal, 'o.initiatorName': badIqn, 'o.localAddress': badAddress, 'o.auth': badAuth, 'o.maxRedirects': fc.oneof(notNumber, fc.constantFrom(-1, 17, 1.5, NaN)), ...prefixed('o', wait) },
    call: (a) => api.discoverSendTargets(a.o as never),
  },
  {
    name: 'discover',
    base: () => ({ o: { portal: '192.0.2.10:3260', iface: 'default', auth: auth(), timeoutMs: 1000 } }),
    bad: { '$.o': badOptionsObject, 'o.portal': badPortal, 'o.iface': badIface, 'o.auth': badAuth, 'o.initiatorName': badIqn.filter((v) => v !== undefined), ...prefixed('o', wait) },
    call: (a) => api.discover(a.o as never),
  },
  {
    name: 'connect',
    base: () => ({ o: { target: iqnBase, portal: '192.0.2.10:3260', lun: 1, transport: 'tcp', auth: auth(), discoveryAuth: auth(), timeoutMs: 1000 } }),
    bad: {
      '$.o': badOptionsObject, 'o.target': badIqn.filter((v) => v !== undefined), 'o.portal': badPortal, 'o.lun': badLun, 'o.transport': fc.oneof(notString, fc.constantFrom('cxgb9i', 'default', '', 'tcp\n')),
      'o.iface': badIface, 'o.auth': badAuth, 'o.discoveryAuth': badAuth, 'o.fallback': badBool, 'o.discovery': badBool, 'o.onEvent': fc.constantFrom(5, 'f', {}), 'o.hardware': badOptionsObject, 'o.hardware.sysfsRoot': badDir, ...prefixed('o', wait),
    },
    call: (a) => api.connect(a.o as never),
  },
  {
    name: 'disconnect',
    base: () => ({ o: { sid: 3, lun: 1, timeoutMs: 1000, sysfsRoot: path.join(tmp, 'sys') } }),
    bad: { '$.o': badOptionsObject, 'o.sid': badSid, 'o.lun': badLun, 'o.sysfsRoot': badDir, 'o.force': badBool, ...prefixed('o', wait) },
    call: (a) => api.disconnect(a.o as never),
  },
  {
    name: 'createIface',
    base: () => ({ o: { transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', name: 'cxgb4i.test', initiatorName: iqnBase, checkHardware: false, timeoutMs: 1000, ...sysfs(), lockDir: path.join(tmp, 'lock') } }),
    bad: {
      '$.o': badOptionsObject, 'o.transport': fc.oneof(notString, fc.constantFrom('cxgb9i', '', 'tcp\n')), 'o.hwaddress': fc.oneof(notString, fc.constantFrom('zz', '00:07:43:aa:bb', '00:00:00:00:00:00', '00:07:43:aa:bb:cc\n')),
      'o.ipaddress': badAddress, 'o.netdev': fc.oneof(notString, fc.constantFrom('', '..', '.', 'a/b', 'eth0\n', 'x'.repeat(16), 'a b')), 'o.initiatorName': badIqn.filter((v) => v !== undefined), 'o.name': badIface,
      'o.checkHardware': badBool, 'o.ifacesDir': badDir, 'o.lockDir': badDir, ...prefixed('o', wait),
    },
    call: (a) => api.createIface(a.o as never),
  },
  {
    name: 'deleteIface',
    base: () => ({ name: 'cxgb4i.test', o: { timeoutMs: 1000, ...sysfs(), lockDir: path.join(tmp, 'lock'), inUse: async () => [] } }),
    bad: { '$.name': fc.oneof(badIface, fc.constantFrom('default', 'iser')), '$.o': badOptionsObject, 'o.force': badBool, 'o.ifacesDir': badDir, 'o.lockDir': badDir, 'o.sessions': fc.constantFrom(5, 'x', [1]), ...prefixed('o', wait) },
    call: (a) => api.deleteIface(a.name as never, a.o as never),
  },
  {
    name: 'checkHardware',
    base: () => ({ what: { transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc' }, o: sysfs() }),
    bad: {
      '$.what': fc.oneof(fc.constantFrom(5, null, [], 'cxgb9i', '', 'tcp\n'), badIface.map((iface) => ({ iface }))), 'what.transport': fc.oneof(notString, fc.constantFrom('cxgb9i')), 'what.hwaddress': fc.oneof(fc.constantFrom(5, 'zz', '00:07:43:aa:bb:cc\n'), withControl('00:07:43:aa:bb:cc')),
      'what.netdev': fc.constantFrom(5, '../../x', 'eth0\n', 'a/b'), 'what.ipaddress': badAddress.filter((v) => v !== undefined && v !== ''), '$.o': badOptionsObject, 'o.sysfsRoot': badDir, 'o.procRoot': badDir, 'o.ifacesDir': badDir, 'o.signal': badSignal,
    },
    call: (a) => api.checkHardware(a.what as never, a.o as never),
  },
  {
    name: 'resolveIface',
    base: () => ({ by: { sourceIp: '192.0.2.1' }, o: sysfs() }),
    bad: { '$.by': fc.constantFrom(5, null, 'x', [], {}), 'by.sourceIp': badAddress, '$.o': badOptionsObject, 'o.sysfsRoot': badDir, 'o.procRoot': badDir, 'o.networkInterfaces': fc.constantFrom(5, 'x', {}), 'o.signal': badSignal },
    call: (a) => api.resolveIface(a.by as never, a.o as never),
  },
  { name: 'routeTo', base: () => ({ ip: '192.0.2.1', proc: path.join(tmp, 'proc') }), bad: { '$.ip': badAddress, '$.proc': badDir }, call: (a) => api.routeTo(a.ip as never, a.proc as never) },
  {
    name: 'sessions',
    base: () => ({ o: { target: iqnBase, sids: [1, 2], timeoutMs: 1000 } }),
    bad: { '$.o': badOptionsObject, 'o.target': badIqn.filter((v) => v !== undefined), 'o.sids': fc.oneof(fc.constantFrom(null, 5, 'x', true, {}), badSid.map((s) => [1, s])), 'o.source': fc.constantFrom('usr', 5, ''), ...prefixed('o', wait) },
    call: (a) => api.sessions(a.o as never),
  },
  { name: 'session', base: () => ({ sid: 3, o: { timeoutMs: 1000 } }), bad: { '$.sid': badSid, '$.o': badOptionsObject, 'o.source': fc.constantFrom('usr', 5), ...prefixed('o', wait) }, call: (a) => api.session(a.sid as never, a.o as never) },
  { name: 'ifaces', base: () => ({ o: { timeoutMs: 1000, ifacesDir: path.join(tmp, 'ifaces') } }), bad: { '$.o': badOptionsObject, 'o.ifacesDir': badDir, 'o.lockDir': badDir, 'o.onProblem': fc.constantFrom(5, 'x'), ...prefixed('o', wait) }, call: (a) => api.ifaces(a.o as never) },
  { name: 'nodes', base: () => ({ o: { timeoutMs: 1000, nodesDir: path.join(tmp, 'nodes') } }), bad: { '$.o': badOptionsObject, 'o.nodesDir': badDir, 'o.lockDir': badDir, ...prefixed('o', wait) }, call: (a) => api.nodes(a.o as never) },
  { name: 'setupDefaultIfaces', base: () => ({ o: { timeoutMs: 1000 } }), bad: { '$.o': badOptionsObject, 'o.lockDir': badDir, ...prefixed('o', wait) }, call: (a) => api.setupDefaultIfaces(a.o as never) },
  { name: 'transports', base: () => ({ o: sysfs() }), bad: { '$.o': badOptionsObject, 'o.sysfsRoot': badDir, 'o.signal': badSignal }, call: (a) => api.transports(a.o as never) },
  { name: 'hosts', base: () => ({ o: sysfs() }), bad: { '$.o': badOptionsObject, 'o.sysfsRoot': badDir, 'o.signal': badSignal }, call: (a) => api.hosts(a.o as never) },
  { name: 'readIfaceFile', base: () => ({ name: 'eth-bound', o: { ifacesDir: path.join(tmp, 'ifaces') } }), bad: { '$.name': badIface, '$.o': badOptionsObject, 'o.ifacesDir': badDir }, call: async (a) => api.readIfaceFile(a.name as never, a.o as never) },
  { name: 'listIfaceFiles', base: () => ({ o: { ifacesDir: path.join(tmp, 'ifaces') } }), bad: { '$.o': badOptionsObject, 'o.ifacesDir': badDir }, call: async (a) => api.listIfaceFiles(a.o as never) },
  {
    name: 'formatIfaceFile',
    base: () => ({ name: 'eth-bound', f: { transport: 'tcp', netdev: 'eth1', initiatorName: iqnBase } }),
    bad: { '$.name': badIface, '$.f': badOptionsObject, 'f.transport': fc.oneof(withControl('tcp'), fc.constantFrom('tcp\niface.hwaddress = x', ' tcp')), 'f.netdev': fc.oneof(withControl('eth1'), fc.constant('eth1\niface.ipaddress = 1.2.3.4')), 'f.hwaddress': withControl('00:07:43:aa:bb:cc'), 'f.initiatorName': withControl(iqnBase), 'f.ipaddress': withControl('192.0.2.1'), 'f.ifaceNum': fc.constantFrom(1.5, 2.5, Infinity) },
    call: async (a) => api.formatIfaceFile(a.name as never, a.f as never),
  },
  {
    name: 'detectIscsidVersion',
    base: () => ({ o: { procRoot: path.join(tmp, 'proc'), dpkgStatusPath: path.join(tmp, 'status') } }),
    bad: { '$.o': badOptionsObject, 'o.procRoot': badDir, 'o.dpkgStatusPath': badDir, 'o.abi': fc.oneof(notString, withControl('2.1.8'), huge) },
    call: (a) => api.detectIscsidVersion(a.o as never),
  },
  { name: 'parsePortal', base: () => ({ p: '192.0.2.10:3260' }), bad: { '$.p': badPortal }, call: async (a) => api.parsePortal(a.p) },
  { name: 'validateIscsiName', base: () => ({ n: iqnBase }), bad: { '$.n': badIqn }, call: async (a) => api.validateIscsiName(a.n) },
  { name: 'parseTransport', base: () => ({ t: 'tcp' }), bad: { '$.t': fc.oneof(notString, fc.constantFrom('', 'default', 'TCP', 'tcp\n')) }, call: async (a) => api.parseTransport(a.t) },
];

function prefixed(prefix: string, fields: Record<string, fc.Arbitrary<unknown>>): Record<string, fc.Arbitrary<unknown>> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [`${prefix}.${k}`, v]));
}

/** A case's arguments with one field made bad. `$.x` replaces argument x whole. */
function badArgs(c: Case): fc.Arbitrary<{ field: string; args: Args }> {
  return fc.oneof(
    ...Object.entries(c.bad).map(([field, arb]) =>
      arb.map((v) => {
        const args = c.base();
        if (field.startsWith('$.')) args[field.slice(2)] = v;
        else setPath(args, field, v);
        return { field, args };
      }),
    ),
  );
}

async function outcome(c: Case, args: Args): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      c.call(args).then(
        () => new Error(`${c.name} resolved`),
        (e: unknown) => e,
      ),
      new Promise((r) => (timer = setTimeout(() => r(new Error(`${c.name} did not settle within 3 s`)), 3000))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-fuzz-'));
  for (const d of ['sys', 'proc', 'ifaces', 'nodes', 'lock']) fs.mkdirSync(path.join(tmp, d));
  fs.writeFileSync(path.join(tmp, 'ifaces', 'eth-bound'), '# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = eth-bound\niface.transport_name = tcp\n# END RECORD\n');
  watch();
});
afterAll(() => {
  for (const s of spies) s.mockRestore();
  syncBuiltinESMExports();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('input fuzz: every public call refuses bad input with a typed error and does nothing', () => {
  it('(the watch itself sees a file written, a socket opened, a DNS query and a native call)', async () => {
    const before = snapshot(tmp);
    rec.calls.length = 0;
    await fs.promises.writeFile(path.join(tmp, 'probe'), 'x');
    const { native } = await import('../../lib/native');
    await native().getIface('x').catch(() => {});
    net.connect({ host: '192.0.2.1', port: 3260 }).on('error', () => {});
    await dns.promises.lookup('example.invalid').catch(() => {});
    const { lookup } = await import('node:dns/promises');
    await lookup('example.invalid').catch(() => {});
    expect(rec.calls.map((c) => c.replace(/\(.*\)/, ''))).toEqual(['fs.promises.writeFile', 'native.getIface', 'net.connect', 'dns.lookup', 'dns.lookup']);
    expect(snapshot(tmp)).not.toBe(before);
    fs.unlinkSync(path.join(tmp, 'probe'));
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    await fc.assert(
      fc.asyncProperty(badArgs(c), async ({ field, args }) => {
        const before = snapshot(tmp);
        rec.calls.length = 0;
        const e = await outcome(c, args);
        const what = `${c.name} with bad ${field}`;
        expect(e, what).toBeInstanceOf(IscsiValidationError);
        expect(CODES.has((e as IscsiValidationError).code), `${what}: code ${(e as IscsiValidationError).code}`).toBe(true);
        expect(rec.calls, what).toEqual([]);
        expect(snapshot(tmp), what).toBe(before);
      }),
      { numRuns: 60 },
    );
  });
});
