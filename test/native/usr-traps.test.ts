// libopeniscsiusr's traps, reproduced with the real library in a private mount namespace (fake /sys, tmpfs
// /etc/iscsi and /run/lock): sessions hidden from a caller without CAP_SYS_ADMIN, node and iface files it
// refuses (unknown keys, unknown enum values, IPv6 keys in an IPv4 iface), its database lock, and WWIDs
// that only vpd_pg83 carries.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { standardTree } from '../fixtures/fakesys';
import { runInMountNamespace } from './namespace';

const pkg = path.resolve(__dirname, '../../dist/index.js');
const nodeFixture = path.resolve(__dirname, '../fixtures/etc-iscsi/node_record_eth-bound.txt');
const tree = standardTree();
afterAll(() => tree.remove());

interface Outcome {
  ok?: any;
  err?: { name: string; code: string; errno?: number; message: string; details?: Record<string, unknown> };
  problems: Array<{ code: string; details: Record<string, unknown> }>;
  ms: number;
}

/** Runs `expr` (with `problems` collecting onProblem reports) against the package inside the namespace. */
function call(expr: string, o: { etcSetup?: string[]; unprivileged?: boolean; sysfsRoot?: string } = {}): Outcome {
  const script = `
    const lib = require(${JSON.stringify(pkg)});
    const problems = [];
    const onProblem = (p) => problems.push({ code: p.code, details: p.details });
    const t0 = Date.now();
    (${expr}).then(
      (r) => ({ ok: r }),
      (e) => ({ err: { name: e.name, code: e.code, errno: e.errno, message: e.message, details: e.details } }),
    ).then((r) => { console.log(JSON.stringify({ ...r, problems, ms: Date.now() - t0 })); process.exit(0); });`.replace(/\n\s*/g, ' ');
  const out = runInMountNamespace({ sysfsRoot: o.sysfsRoot ?? tree.root, etcSetup: o.etcSetup ?? [], script, unprivileged: o.unprivileged ?? false });
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as Outcome;
}

const nodeDir = (t: string, portal: string) => `"/etc/iscsi/nodes/iqn.2003-01.org.example:${t}/${portal}"`;
/** A node record written by iscsiadm 2.1.8 for target `t`, then edited by `sed`. */
const nodeFile = (t: string, portal: string, iface: string, ...sed: string[]) => [
  `mkdir -p ${nodeDir(t, portal)}`,
  `sed ${['s/tgt1/' + t + '/', `s/= 192.0.2.10$/= ${portal.split(',')[0]}/`, ...sed].map((e) => `-e '${e}'`).join(' ')} ${nodeFixture} > ${nodeDir(t, portal)}/${iface}`,
];

describe('the permission trap (no CAP_SYS_ADMIN: the kernel hides username/password)', () => {
  const hidden = standardTree();
  afterAll(() => hidden.remove());
  for (const s of fs.readdirSync(path.join(hidden.root, 'class/iscsi_session'))) {
    for (const a of ['username', 'password', 'username_in', 'password_in']) fs.chmodSync(path.join(hidden.root, 'class/iscsi_session', s, a), 0);
  }
  const unprivileged = { unprivileged: true, sysfsRoot: hidden.root };

  it.each(['sysfs', 'libopeniscsiusr'])('sessions({ source: %j }) raises SESSIONS_PERMISSION_DENIED instead of returning an empty list', (source) => {
    const r = call(`lib.sessions({ source: '${source}' })`, unprivileged);
    expect(r.err).toMatchObject({ name: 'IscsiPermissionError', code: 'SESSIONS_PERMISSION_DENIED', details: { missing: [1, 2, 5, 6] } });
  });

  it.each(['sysfs', 'libopeniscsiusr'])('session(sid, { source: %j }) raises the same code', (source) => {
    expect(call(`lib.session(5, { source: '${source}' })`, unprivileged).err).toMatchObject({ name: 'IscsiPermissionError', code: 'SESSIONS_PERMISSION_DENIED', errno: 13 });
  });

  it('the same tree read with privileges lists all four sessions', () => {
    expect(call('lib.sessions()', { sysfsRoot: hidden.root }).ok.map((s: { sid: number }) => s.sid)).toEqual([1, 2, 5, 6]);
  });

  it('nodes(): an unreadable node database is a permission error, not an empty list', () => {
    const r = call('lib.nodes({ onProblem })', { ...unprivileged, etcSetup: [...nodeFile('tgt1', '192.0.2.10,3260,1', 'default'), 'chown -R 65534 /etc/iscsi/nodes', 'chmod 700 /etc/iscsi/nodes'] });
    expect(r.err).toMatchObject({ name: 'IscsiPermissionError', code: 'USR_BUG' });
    expect(r.err!.message).toMatch(/scandir \/etc\/iscsi\/nodes/);
    expect(r.problems).toEqual([]);
  });
});

describe('node files libopeniscsiusr refuses', () => {
  it('an unknown enum value (libopeniscsiusr names no file): the file is found, named and skipped', () => {
    const r = call('lib.nodes({ onProblem })', {
      etcSetup: [
        ...nodeFile('tgt1', '192.0.2.10,3260,1', 'default'),
        ...nodeFile('tgt2', '192.0.2.11,3260,1', 'default', 's/^node.startup = manual/node.startup = sometimes/'),
      ],
    });
    expect(r.ok.map((n: { targetName: string }) => n.targetName)).toEqual(['iqn.2003-01.org.example:tgt1']);
    expect(r.problems).toEqual([
      {
        code: 'NODE_FILE_INVALID',
        details: { file: '/etc/iscsi/nodes/iqn.2003-01.org.example:tgt2/192.0.2.11,3260,1/default', key: 'node.startup', reason: 'unknown value', value: 'sometimes' },
      },
    ]);
  });

  it('several bad files (an unknown key, a bad Yes/No): each is named, every good record is returned', () => {
    const r = call('lib.nodes({ onProblem })', {
      etcSetup: [
        ...nodeFile('tgt1', '192.0.2.10,3260,1', 'default'),
        ...nodeFile('tgt2', '192.0.2.11,3260,1', 'default', '$a node.session.sess_reopen_log_freq = 5'),
        ...nodeFile('tgt3', '192.0.2.12,3260,1', 'default', 's/IFMarker = No/IFMarker = no/'),
        ...nodeFile('tgt4', '192.0.2.13,3260,1', 'eth-bound'),
        // old layout: a plain file for tpgt -1
        `mkdir -p /etc/iscsi/nodes/iqn.2003-01.org.example:tgt5`,
        `sed -e 's/tgt1/tgt5/' -e 's/= 192.0.2.10$/= 192.0.2.14/' -e 's/^node.tpgt = 1/node.tpgt = -1/' ${nodeFixture} > "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt5/192.0.2.14,3260"`,
      ],
    });
    expect(r.ok.map((n: { targetName: string; tpgt: number }) => `${n.targetName} ${n.tpgt}`)).toEqual([
      'iqn.2003-01.org.example:tgt1 1',
      'iqn.2003-01.org.example:tgt4 1',
      'iqn.2003-01.org.example:tgt5 -1',
    ]);
    expect(r.problems.map((p) => [p.details.file, p.details.key])).toEqual([
      ['/etc/iscsi/nodes/iqn.2003-01.org.example:tgt2/192.0.2.11,3260,1/default', 'node.session.sess_reopen_log_freq'],
      ['/etc/iscsi/nodes/iqn.2003-01.org.example:tgt3/192.0.2.12,3260,1/default', 'node.conn[0].iscsi.IFMarker'],
    ]);
  });

  it('the same good records come straight from libopeniscsiusr when no file is bad', () => {
    const r = call('lib.nodes({ onProblem })', { etcSetup: [...nodeFile('tgt1', '192.0.2.10,3260,1', 'default'), ...nodeFile('tgt4', '192.0.2.13,3260,1', 'eth-bound')] });
    expect(r.problems).toEqual([]);
    expect(r.ok).toEqual([
      { targetName: 'iqn.2003-01.org.example:tgt1', address: '192.0.2.10', port: 3260, tpgt: 1, portal: '192.0.2.10:3260', ifaceName: 'eth-bound' },
      { targetName: 'iqn.2003-01.org.example:tgt4', address: '192.0.2.13', port: 3260, tpgt: 1, portal: '192.0.2.13:3260', ifaceName: 'eth-bound' },
    ]);
  });
});

describe('iface files libopeniscsiusr refuses', () => {
  it('an IPv6-only key in an iface whose name lacks "ipv6" is refused; the same key in an ipv6 iface is not', () => {
    const r = call('lib.ifaces({ onProblem })', {
      etcSetup: [
        'printf "iface.transport_name = qla4xxx\\niface.hwaddress = 00:0e:1e:11:22:33\\niface.ipv6_autocfg = nd\\n" > /etc/iscsi/ifaces/qla4xxx.00:0e:1e:11:22:33.ipv4.0',
        'printf "iface.transport_name = qla4xxx\\niface.hwaddress = 00:0e:1e:11:22:33\\niface.ipv6_autocfg = nd\\n" > /etc/iscsi/ifaces/qla4xxx.00:0e:1e:11:22:33.ipv6.0',
        'printf "iface.transport_name = tcp\\niface.net_ifacename = eth0\\n" > /etc/iscsi/ifaces/eth0',
      ],
    });
    expect(r.ok.map((i: { name: string }) => i.name)).toEqual(['eth0', 'qla4xxx.00:0e:1e:11:22:33.ipv6.0', 'default', 'iser']);
    expect(r.problems).toEqual([
      { code: 'IFACE_FILE_INVALID', details: { file: '/etc/iscsi/ifaces/qla4xxx.00:0e:1e:11:22:33.ipv4.0', key: 'iface.ipv6_autocfg', reason: 'unknown key' } },
    ]);
  });
});

describe("libopeniscsiusr's database lock", () => {
  const stale = ['mkdir -p /run/lock/iscsi', 'touch /run/lock/iscsi/lock', 'ln /run/lock/iscsi/lock /run/lock/iscsi/lock.write'];

  it.each(['nodes', 'ifaces', 'setupDefaultIfaces'])(
    "a stale lock.write: %s() waits for it on timers, up to timeoutMs, without parking a thread in the library's 30 s spin",
    (fn) => {
      const t0 = Date.now();
      const r = call(`lib.${fn}({ timeoutMs: 400 })`, { etcSetup: stale });
      expect(r.err).toMatchObject({ name: 'IscsiTimeoutError', code: 'ISCSI_DB_LOCKED' });
      expect(r.ms).toBeGreaterThanOrEqual(390);
      // the process exited at once: no worker was left spinning on the lock
      expect(Date.now() - t0).toBeLessThan(5000);
    },
  );

  it('an AbortSignal ends the wait for the lock', () => {
    const r = call('(() => { const ac = new AbortController(); setTimeout(() => ac.abort(), 100); return lib.nodes({ signal: ac.signal }); })()', { etcSetup: stale });
    expect(r.err).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(r.ms).toBeLessThan(1000);
  });

  it('the listing goes ahead once the lock is released', () => {
    const r = call('(setTimeout(() => require("fs").unlinkSync("/run/lock/iscsi/lock.write"), 200), lib.nodes({ onProblem }))', { etcSetup: [...stale, ...nodeFile('tgt1', '192.0.2.10,3260,1', 'default')] });
    expect(r.ok.map((n: { targetName: string }) => n.targetName)).toEqual(['iqn.2003-01.org.example:tgt1']);
    expect(r.ms).toBeGreaterThanOrEqual(190);
  });
});

describe('WWIDs', () => {
  it('come from the wwid attribute, else from vpd_pg83 (the LUN\'s best designator)', () => {
    const { ok } = call('lib.sessions()');
    const wwids = Object.fromEntries(ok.flatMap((s: { devices: Array<{ blockDevice?: string; wwid?: string }> }) => s.devices.map((d) => [d.blockDevice ?? '-', d.wwid ?? null])));
    expect(wwids).toMatchObject({
      sdb: 'naa.60014051234567890',
      sdd: 'naa.6001405aabbccdd00112233445566778',
      sde: 'eui.0011223344556677',
      sdf: null,
    });
  });
});
