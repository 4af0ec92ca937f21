// The whole read path (addon + libopeniscsiusr + sysfs joins) on a fake sysfs mounted over /sys.
import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { FakeSys, standardTree, type LunSpec } from '../fixtures/fakesys';
import { runInMountNamespace } from './namespace';

const pkg = path.resolve(__dirname, '../../dist/index.js');
const tree = standardTree();
afterAll(() => tree.remove());

function call(expr: string, etcSetup: string[] = []): unknown {
  const script = `require(${JSON.stringify(pkg)}).${expr}.then((r) => console.log(JSON.stringify({ ok: r })), (e) => console.log(JSON.stringify({ err: { name: e.name, code: e.code, errno: e.errno, message: e.message, details: e.details } })))`;
  const out = runInMountNamespace({ sysfsRoot: tree.root, etcSetup, script });
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout.trim().split('\n').pop()!);
}

describe('read path through libopeniscsiusr on a fake sysfs', () => {
  it('sessions(): software and offload sessions with their own devices', () => {
    const { ok } = call('sessions()') as { ok: Array<Record<string, any>> };
    expect(ok.map((s) => s.sid)).toEqual([1, 2, 5, 6]);
    const byId = new Map(ok.map((s) => [s.sid, s]));
    expect(byId.get(1)).toMatchObject({ targetName: 'iqn.2026-11.org.example:tcp1', address: '192.0.2.10', port: 3260, tpgt: 1, hostNo: 3, state: 'LOGGED_IN' });
    expect(byId.get(1)!.iface).toMatchObject({ name: 'default', transport: 'tcp', ipaddress: '192.0.2.1' });
    expect(byId.get(1)!.devices.map((d: any) => [d.hctl, d.blockDevice ?? null])).toEqual([['3:0:0:0', null], ['3:0:0:1', 'sdb']]);
    expect(byId.get(1)!.devices[1]).toMatchObject({ blockDevice: 'sdb', sizeBytes: 204800 * 512, wwid: 'naa.60014051234567890', type: 0, vendor: 'IET', state: 'running' });
    expect(byId.get(1)!.devices[0]).toMatchObject({ type: 12, model: 'Controller' });
    expect(byId.get(2)).toMatchObject({ state: 'FAILED', connectionState: 'failed', username: 'chapuser', tpgt: 2, port: 3261 });
    expect(byId.get(2)!.devices[0]).toMatchObject({ state: 'blocked', blockDevice: 'sdc' });
    expect(byId.get(5)).toMatchObject({ hostNo: 7, targetId: 0 });
    expect(byId.get(5)!.devices.map((d: any) => d.blockDevice)).toEqual(['sdd', 'sde']);
    const hba = byId.get(6)!;
    expect(hba.iface).toMatchObject({ name: 'cxgb4i.00:07:43:aa:bb:cc', transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', netdev: 'eth2', portState: 'LINK UP', portSpeed: '10 Gbps' });
    expect(hba.devices.map((d: any) => d.hctl)).toEqual(['7:0:1:0']);
    expect(JSON.stringify(ok)).not.toContain('never-returned-secret');
  });

  it("the addon's sysfs reader gives exactly libopeniscsiusr's records (iscsi_session_get + the device walk)", () => {
    const addon = path.resolve(__dirname, '../../build/Release/openiscsi.node');
    const script = `const a = require(${JSON.stringify(addon)}); Promise.all([a.getSessions(), a.getSessions({ libopeniscsiusr: true })]).then(([x, y]) => console.log(JSON.stringify({ x, y })))`;
    const out = runInMountNamespace({ sysfsRoot: tree.root, script });
    expect(out.status, out.stderr).toBe(0);
    const { x, y } = JSON.parse(out.stdout.trim().split('\n').pop()!);
    expect(x.sessions).toHaveLength(4);
    expect(x).toEqual(y);
  });

  it('session(99) is SESSION_NOT_FOUND', () => {
    expect(call('session(99)')).toMatchObject({ err: { code: 'SESSION_NOT_FOUND', errno: 2 } });
  });

  it('transports() and hosts() read the mounted /sys', () => {
    expect((call('transports()') as { ok: Array<{ name: string }> }).ok.map((t) => t.name)).toEqual(['cxgb4i', 'qla4xxx', 'tcp']);
    expect((call('hosts()') as { ok: Array<{ hostNo: number }> }).ok.map((h) => h.hostNo)).toEqual([3, 4, 7, 9]);
  });

  it('ifaces(): one file with an unknown key is skipped and named, the others are listed', () => {
    const r = call('ifaces({ onProblem: (p) => console.log("PROBLEM", p.code, p.details.file) })', [
      'printf "iface.transport_name = tcp\\niface.net_ifacename = eth0\\n" > /etc/iscsi/ifaces/good1',
      'printf "iface.transport_name = tcp\\niface.made_up_key = 1\\n" > /etc/iscsi/ifaces/bad1',
    ]) as { ok: Array<{ name: string; netdev: string }> };
    expect(r.ok.map((i) => i.name)).toEqual(['good1', 'default', 'iser']);
    expect(r.ok[0]!.netdev).toBe('eth0');
  });

  it('setupDefaultIfaces() writes the qla4xxx iface files named after its iscsi_iface entries', () => {
    const r = call('setupDefaultIfaces()') as { ok?: Array<{ name: string; transport: string; hwaddress: string }>; err?: unknown };
    expect(r.err).toBeUndefined();
    const names = r.ok!.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['qla4xxx.00:0e:1e:11:22:33.ipv4.0', 'qla4xxx.00:0e:1e:11:22:33.ipv4.1', 'default', 'iser']));
    expect(r.ok!.find((i) => i.name === 'qla4xxx.00:0e:1e:11:22:33.ipv4.0')).toMatchObject({ transport: 'qla4xxx', hwaddress: '00:0e:1e:11:22:33' });
  });

  it('nodes(): a node file with an unknown key does not hide the others', () => {
    const fixture = path.resolve(__dirname, '../fixtures/etc-iscsi/node_record_eth-bound.txt');
    const r = call('nodes({ onProblem: () => {} })', [
      'mkdir -p "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt1/192.0.2.10,3260,1" "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt2/192.0.2.11,3260,1"',
      `cp ${fixture} "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt1/192.0.2.10,3260,1/eth-bound"`,
      `sed 's/tgt1/tgt2/' ${fixture} > "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt2/192.0.2.11,3260,1/eth-bound"`,
      'echo "node.session.sess_reopen_log_freq = 5" >> "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt2/192.0.2.11,3260,1/eth-bound"',
    ]) as { ok: Array<{ targetName: string }> };
    expect(r.ok.map((n) => n.targetName)).toEqual(['iqn.2003-01.org.example:tgt1']);
  });
});

describe('many sessions: the listing is split over threads and must equal reading each session alone', () => {
  // 10 software sessions (one host each) and 10 on one offload host (target ids 0..9), two disks each.
  const many = new FakeSys().transport('tcp', 0x39).transport('cxgb4i', 0x30b9);
  let disk = 0;
  const luns = () => [0, 1].map((lun): LunSpec => ({ lun, block: { name: `sd${String.fromCharCode(97 + Math.floor(disk / 26))}${String.fromCharCode(97 + (disk++ % 26))}`, dev: `8:${disk}`, sectors: 2048 * (disk + 1) } }));
  for (let i = 1; i <= 10; i++) {
    many.host({ hostNo: 10 + i, procName: 'iscsi_tcp', ipaddress: '192.0.2.1' });
    const l = luns();
    // Characters the addon's JSON serialisation must escape.
    if (i === 3) l[0]!.model = 'Q"uo\\te\ttab\u0001';
    // INQUIRY data that disagrees with the vendor/model/rev files (a kernel never shows that): which one
    // the reader uses becomes visible.
    if (i === 3) l[1]!.inquiry = { vendor: 'INQ', model: 'FROM-INQUIRY', rev: '0002' };
    // Kernels without the inquiry attribute, and inquiry data too short to hold the strings.
    if (i === 4) Object.assign(l[0]!, { inquiry: 'absent', vendor: 'OLDKRNL', model: 'NO-INQUIRY' }), Object.assign(l[1]!, { inquiry: 'short', vendor: 'SHORT', model: 'SHORT-INQUIRY' });
    // A block device under a type no block driver binds (only a fake tree has that), and one under a LUN
    // whose type cannot be read: which LUNs the reader looks in becomes visible.
    if (i === 6) Object.assign(l[0]!, { type: 0x0c }), Object.assign(l[1]!, { type: 'absent' });
    if (i === 7) Object.assign(l[1]!, { type: 0x05 }); // sr: CD/DVD
    if (i === 8) Object.assign(l[1]!, { type: 0x14 }); // sd: zoned
    if (i === 9) Object.assign(l[1]!, { type: 0x01 }); // a tape: st makes no block device
    many.session({ hostNo: 10 + i, sid: i, targetName: `iqn.2026-11.org.example:many${i}`, address: '192.0.2.10', port: 3260, luns: l });
  }
  many.host({ hostNo: 40, procName: 'cxgb4i', parent: 'devices/pci0000:00/0000:00:03.0/0000:03:00.4', hwaddress: '00:07:43:aa:bb:cc', ipaddress: '198.51.100.5', netdev: 'eth2' });
  for (let i = 11; i <= 20; i++) {
    many.session({ hostNo: 40, sid: i, targetName: `iqn.2026-11.org.example:many${i}`, address: '198.51.100.20', port: 3260, targetId: i - 11, ifaceName: 'cxgb4i.00:07:43:aa:bb:cc', luns: luns() });
  }
  afterAll(() => many.remove());

  function run(body: string): any {
    const script = `const m = require(${JSON.stringify(pkg)}); (async () => { ${body} })().then((r) => console.log(JSON.stringify({ ok: r })), (e) => console.log(JSON.stringify({ err: { code: e.code, message: e.message } })))`;
    const out = runInMountNamespace({ sysfsRoot: many.root, script });
    expect(out.status, out.stderr).toBe(0);
    return JSON.parse(out.stdout.trim().split('\n').pop()!);
  }

  it('sessions() lists all 20 in sid order, each equal to session(sid), each LUN under its own host and target id', () => {
    const { ok, err } = run('const all = await m.sessions(); const one = []; for (const s of all) one.push(await m.session(s.sid)); return { all, one };');
    expect(err).toBeUndefined();
    expect(ok.all.map((s: any) => s.sid)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(ok.all).toEqual(ok.one);
    for (const s of ok.all) {
      expect(s.targetName).toBe(`iqn.2026-11.org.example:many${s.sid}`);
      expect(s.devices).toHaveLength(2);
      for (const d of s.devices) expect([d.host, d.target]).toEqual([s.hostNo, s.sid > 10 ? s.sid - 11 : 0]);
    }
    expect(ok.all[2].devices[0].model).toBe('Q"uo\\te\ttab\u0001');
    const names = ok.all.flatMap((s: any) => s.devices.map((d: any) => d.blockDevice)).filter(Boolean);
    expect(new Set(names).size).toBe(38); // 40 block directories, one under a controller LUN and one under a tape (not looked for)
  });

  it('vendor, model and revision come from their own files, whatever the inquiry attribute holds', () => {
    const { ok } = run('return (await m.sessions({ sids: [3, 4] })).map((s) => s.devices.map((d) => [d.vendor, d.model, d.revision]));');
    expect(ok).toEqual([
      [['IET', 'Q"uo\\te\ttab\u0001', '0001'], ['IET', 'VIRTUAL-DISK', '0001']],
      [['OLDKRNL', 'NO-INQUIRY', '0001'], ['SHORT', 'SHORT-INQUIRY', '0001']],
    ]);
  });

  it('looks for a block device only under a LUN whose type sd or sr binds, or whose type is unknown', () => {
    const { ok } = run('return (await m.sessions({ sids: [6, 7, 8, 9] })).map((s) => s.devices.map((d) => [d.type ?? null, d.blockDevice ?? null]));');
    const disk = expect.stringMatching(/^sd/);
    expect(ok).toEqual([
      [[12, null], [null, disk]],
      [[0, disk], [5, disk]],
      [[0, disk], [20, disk]],
      [[0, disk], [1, null]],
    ]);
  });

  it('a listing starts no thread of its own, and concurrent listings agree', () => {
    const addon = JSON.stringify(path.resolve(__dirname, '../../build/Release/openiscsi.node'));
    const { ok, err } = run(
      [
        `const fs = require('node:fs'); const a = require(${addon}); const tasks = () => fs.readdirSync('/proc/self/task').length;`,
        "await fs.promises.access('/'); const base = tasks();", // libuv's pool is started by the first queued work
        'const first = await a.getSessions(); const afterOne = tasks();',
        'const together = await Promise.all(Array.from({ length: 8 }, () => a.getSessions())); const afterMany = tasks();',
        'a.releaseSysfsFds(); const again = await a.getSessions(); a.releaseSysfsFds();',
        'return { base, afterOne, afterMany, same: together.every((t) => JSON.stringify(t) === JSON.stringify(first)) && JSON.stringify(again) === JSON.stringify(first), sids: first.sessions.length };',
      ].join(' '),
    );
    expect(err).toBeUndefined();
    expect(ok.sids).toBe(20);
    expect(ok.afterOne).toBe(ok.base);
    expect(ok.afterMany).toBe(ok.base);
    expect(ok.same).toBe(true);
  });

  it('keeps sysfs descriptors between reads, bounded, and closes them on release', () => {
    const count = "require('node:fs').readdirSync('/proc/self/fd').filter((f) => { try { return require('node:fs').readlinkSync('/proc/self/fd/' + f).startsWith('/sys/'); } catch { return false; } }).length";
    const { ok } = run(`const a = require(${JSON.stringify(path.resolve(__dirname, '../../build/Release/openiscsi.node'))}); await a.getSessions(); const kept = ${count}; const again = (await a.getSessions()).sessions.length; const kept2 = ${count}; const link = '/sys/class/iscsi_session/session20'; const target = require('node:fs').readlinkSync(link); require('node:fs').unlinkSync(link); const oneTarget = (await a.getSessions({ target: 'iqn.2026-11.org.example:many3' })).sessions.length; const afterGone = ${count}; require('node:fs').symlinkSync(target, link); const released = a.releaseSysfsFds(); return { kept, kept2, again, oneTarget, afterGone, released, after: ${count} };`);
    expect(ok.again).toBe(20);
    expect(ok.kept).toBeGreaterThan(20 * 20); // ~40 attributes per session with two LUNs
    expect(ok.kept2).toBe(ok.kept); // re-reading opens nothing new
    // session 20 vanished: even a listing filtered to another target closes its descriptors
    expect(ok.oneTarget).toBe(1);
    expect(ok.afterGone).toBeLessThan(ok.kept - 20);
    expect(ok.released).toBe(ok.afterGone);
    expect(ok.after).toBe(0);
  });

  it("a LUN that is gone from its target's listing has its descriptors closed on the next read", () => {
    const count = "fs.readdirSync('/proc/self/fd').filter((f) => { try { return fs.readlinkSync('/proc/self/fd/' + f).startsWith('/sys/'); } catch { return false; } }).length";
    const addon = JSON.stringify(path.resolve(__dirname, '../../build/Release/openiscsi.node'));
    const { ok } = run(
      [
        `const fs = require('node:fs'); const a = require(${addon});`,
        "const dev = fs.realpathSync('/sys/class/iscsi_session/session5/device'); const t = fs.readdirSync(dev).find((n) => n.startsWith('target'));",
        "const lun = dev + '/' + t + '/' + fs.readdirSync(dev + '/' + t).filter((n) => /^\\d/.test(n)).sort().pop(); const saved = lun + '.saved';",
        `const luns = async () => (await a.getSessions({ sids: [5] })).sessions[0][28].map((d) => d[0]);`, // a row's devices' hctl (lib/native.ts)
        `const before = await luns(); const kept = ${count}; fs.renameSync(lun, saved);`,
        `const after = await luns(); const keptAfter = ${count}; fs.renameSync(saved, lun); a.releaseSysfsFds();`,
        'return { before, after, kept, keptAfter };',
      ].join(' '),
    );
    expect(ok.before).toHaveLength(2);
    expect(ok.after).toEqual(ok.before.slice(0, 1));
    // its attributes (state, type, inquiry, wwid), its block listing and its disk's size
    expect(ok.kept - ok.keptAfter).toBeGreaterThanOrEqual(5);
  });

  it('equal to the libopeniscsiusr source, session by session', () => {
    const { ok } = run("return [await m.sessions(), await m.sessions({ source: 'libopeniscsiusr' }), await m.session(13, { source: 'libopeniscsiusr' })]");
    expect(ok[0]).toHaveLength(20);
    expect(ok[0]).toEqual(ok[1]);
    expect(ok[2]).toEqual(ok[0][12]);
  });

  it('sessions({ target }) reads only that target\'s session; a bad name is INVALID_IQN', () => {
    expect(run("return m.sessions({ target: 'iqn.2026-11.org.example:many17' })").ok.map((s: any) => [s.sid, s.targetId])).toEqual([[17, 6]]);
    expect(run("return m.sessions({ target: 'iqn.2026-11.org.example:none' })").ok).toEqual([]);
    expect(run("return m.sessions({ target: '../x' })").err).toMatchObject({ code: 'INVALID_IQN' });
  });
});
