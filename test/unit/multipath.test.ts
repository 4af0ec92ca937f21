// Multipath decisions without a kernel: the dm facts read from a fixture sysfs tree, multipathd's answers from
// a fake binding, connect()/disconnect() of each path from fakes that record what was asked of them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dmMap, holdersOf, multipathMapOf, multipathMaps } from '../../lib/read/dm';
import { multipathd, multipathdPaths, multipathdRunning, parsePathLine } from '../../lib/attach/multipathd';
import { connectMultipath, disconnectMultipath, type MultipathDeps } from '../../lib/attach/multipath';
import type { ConnectEvent, ConnectOptions, ConnectResult } from '../../lib/attach/connect';

let sys: string;
const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(sys, rel)), { recursive: true });
  fs.writeFileSync(path.join(sys, rel), text);
};
beforeAll(() => {
  sys = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-dm-'));
  for (const d of ['sda', 'sdb', 'sdc']) fs.mkdirSync(path.join(sys, 'class/block', d, 'holders'), { recursive: true });
  write('class/block/dm-0/dm/name', '3600000e00000000000010001\n');
  write('class/block/dm-0/dm/uuid', 'mpath-3600000e00000000000010001\n');
  fs.mkdirSync(path.join(sys, 'class/block/dm-0/slaves/sda'), { recursive: true });
  fs.mkdirSync(path.join(sys, 'class/block/dm-0/slaves/sdb'), { recursive: true });
  fs.mkdirSync(path.join(sys, 'class/block/dm-0/holders'), { recursive: true });
  fs.mkdirSync(path.join(sys, 'class/block/sda/holders/dm-0'));
  fs.mkdirSync(path.join(sys, 'class/block/sdb/holders/dm-0'));
  // an LVM volume on sdc: a dm map, but not a multipath one
  write('class/block/dm-1/dm/name', 'vg-lv\n');
  write('class/block/dm-1/dm/uuid', 'LVM-abc\n');
  fs.mkdirSync(path.join(sys, 'class/block/dm-1/slaves/sdc'), { recursive: true });
  fs.mkdirSync(path.join(sys, 'class/block/sdc/holders/dm-1'));
});
afterAll(() => fs.rmSync(sys, { recursive: true, force: true }));

describe('dm facts from sysfs', () => {
  it('finds the multipath map holding a path, its name, WWID and slaves; an LVM map is not one', async () => {
    const o = { sysfsRoot: sys };
    expect(await holdersOf('sda', o)).toEqual(['dm-0']);
    expect(await multipathMapOf('sda', o)).toMatchObject({ dm: 'dm-0', path: '/dev/dm-0', wwid: '3600000e00000000000010001', slaves: ['sda', 'sdb'] });
    expect(await multipathMapOf('sdc', o)).toBeUndefined();
    expect((await dmMap('dm-1', o))?.wwid).toBeUndefined();
    expect((await multipathMaps(o)).map((m) => m.dm)).toEqual(['dm-0']);
    expect(await dmMap('../x', o)).toBeUndefined();
  });
});

const fakeMpd = (answer: (cmd: string) => string | Error) => {
  const sent: string[] = [];
  return {
    sent,
    binding: {
      multipathdCommand: async (cmd: string) => {
        sent.push(cmd);
        const a = answer(cmd);
        if (a instanceof Error) throw a;
        return a;
      },
    },
  };
};
const notRunning = () => Object.assign(new Error('multipathd is not listening'), { code: 'MULTIPATHD_NOT_RUNNING', errno: 111 });

describe('multipathd client', () => {
  it('a "fail" answer is MULTIPATHD_REFUSED; nobody listening is MULTIPATHD_NOT_RUNNING; paths parse', async () => {
    const f = fakeMpd((c) => (c.startsWith('del') ? 'fail\nmap in use\n' : c.startsWith('show paths') ? 'sda 3600 active ready\nsdb 3600 failed faulty\n' : 'ok\n'));
    await expect(multipathd('del map x', { binding: f.binding })).rejects.toMatchObject({ code: 'MULTIPATHD_REFUSED', message: expect.stringContaining('map in use') });
    expect(await multipathdPaths({ binding: f.binding })).toEqual([
      { dev: 'sda', map: '3600', dmState: 'active', checkerState: 'ready' },
      { dev: 'sdb', map: '3600', dmState: 'failed', checkerState: 'faulty' },
    ]);
    expect(await multipathdRunning({ binding: fakeMpd(() => notRunning()).binding })).toBe(false);
    await expect(multipathdRunning({ binding: fakeMpd(() => Object.assign(new Error('uid 1000'), { code: 'MULTIPATHD_UNTRUSTED' })).binding })).rejects.toMatchObject({ code: 'MULTIPATHD_UNTRUSTED' });
  });
});

describe('multipathd path lines (show paths raw format "%d %m %t %T")', () => {
  it('the checker state is the rest of the line: "i/o pending" and "i/o timeout" have a space', () => {
    const out = [
      'sda 3600000e00000000000010001 active ready',
      'sdb 3600000e00000000000010001 active i/o pending',
      'sdc [orphan] undef i/o timeout',
      'sdd 3600000e00000000000010001 failed faulty',
      'sde mpatha active ghost  ',
      '',
      'fail',
    ].join('\n');
    expect(out.split('\n').map(parsePathLine)).toEqual([
      { dev: 'sda', map: '3600000e00000000000010001', dmState: 'active', checkerState: 'ready' },
      { dev: 'sdb', map: '3600000e00000000000010001', dmState: 'active', checkerState: 'i/o pending' },
      { dev: 'sdc', map: '[orphan]', dmState: 'undef', checkerState: 'i/o timeout' },
      { dev: 'sdd', map: '3600000e00000000000010001', dmState: 'failed', checkerState: 'faulty' },
      { dev: 'sde', map: 'mpatha', dmState: 'active', checkerState: 'ghost' },
      undefined,
      undefined,
    ]);
    // a header, as some builds print without "raw"
    expect(parsePathLine('dev  multipath dm_st chk_st')).toBeUndefined();
  });
});

function fakeAttach(o: { wwids?: Record<string, string>; fail?: string[] } = {}) {
  const connects: ConnectOptions[] = [];
  const disconnects: Array<{ sid: number; lun?: number }> = [];
  let sid = 10;
  const devs: Record<string, string> = { '127.0.0.1:3260': 'sda', '127.0.0.2:3260': 'sdb' };
  const deps = {
    connect: async (c: ConnectOptions): Promise<ConnectResult> => {
      connects.push(c);
      if (o.fail?.includes(c.portal)) throw Object.assign(new Error(`login to ${c.portal} failed`), { code: 'ISCSID_ERR_TRANS_TIMEOUT' });
      const dev = devs[c.portal]!;
      return {
        session: { sid: sid++ } as ConnectResult['session'],
        devices: [],
        device: { hctl: '0:0:0:1', host: 0, channel: 0, target: 0, lun: 1, blockDevice: dev, path: `/dev/${dev}`, wwid: o.wwids?.[dev] ?? 'naa.600' },
        transport: { requested: 'tcp', used: 'tcp', iface: 'default' },
        timings: { resolveMs: 0, checkMs: 0, discoverMs: 0, loginMs: 0, iscsidMs: 0, deviceMs: 0, deviceWaitMs: 0, totalMs: 0 },
      };
    },
    disconnect: async (d: { sid: number; lun?: number }) => {
      disconnects.push(d);
      return { removed: [], loggedOut: true };
    },
    sessions: async () => [],
    sysfsRoot: sys,
  };
  return { deps, connects, disconnects };
}
const base = { target: 'iqn.2026-12.org.example:mp', portal: '', portals: ['127.0.0.1:3260', '127.0.0.2:3260'], lun: 1, timeoutMs: 3000 };

describe('connect({ portals, multipath })', () => {
  it('required without multipathd: MULTIPATHD_NOT_RUNNING before any login', async () => {
    const a = fakeAttach();
    const deps: MultipathDeps = { ...a.deps, multipathd: { binding: fakeMpd(() => notRunning()).binding } };
    await expect(connectMultipath({ ...base, multipath: 'required' }, deps)).rejects.toMatchObject({ code: 'MULTIPATHD_NOT_RUNNING' });
    expect(a.connects).toEqual([]);
  });

  it('preferred without multipathd: one path, and the reason', async () => {
    const a = fakeAttach();
    const r = await connectMultipath({ ...base, multipath: 'preferred' }, { ...a.deps, multipathd: { binding: fakeMpd(() => notRunning()).binding } });
    expect(a.connects.map((c) => c.portal)).toEqual(['127.0.0.1:3260']);
    expect(r.multipath).toMatchObject({ requested: 'preferred', reason: expect.stringMatching(/not running/) });
    expect(r.multipath?.map).toBeUndefined();
  });

  it('logs in on every path, adds each device to multipathd and returns the map over them with path states', async () => {
    const a = fakeAttach();
    const m = fakeMpd((c) => (c.startsWith('show paths') ? 'sda 3600000e00000000000010001 active ready\nsdb 3600000e00000000000010001 active ready\n' : 'ok\n'));
    const r = await connectMultipath({ ...base, multipath: 'required' }, { ...a.deps, multipathd: { binding: m.binding } });
    expect(a.connects.map((c) => c.portal)).toEqual(['127.0.0.1:3260', '127.0.0.2:3260']);
    expect(a.connects.every((c) => c.portals === undefined && c.multipath === undefined)).toBe(true);
    expect(m.sent).toEqual(expect.arrayContaining(['add path sda', 'add path sdb']));
    expect(r.multipath?.map).toEqual({ dm: 'dm-0', path: '/dev/dm-0', name: '3600000e00000000000010001', wwid: '3600000e00000000000010001' });
    expect(r.multipath?.paths.map((p) => [p.portal, p.blockDevice, p.state])).toEqual([
      ['127.0.0.1:3260', 'sda', 'active/ready'],
      ['127.0.0.2:3260', 'sdb', 'active/ready'],
    ]);
    expect(a.disconnects).toEqual([]);
  });

  it('polls multipathd until it lists every path in the map (a pending checker as it is); a path it never lists is "unreported"', async () => {
    // first answers: sdb not listed yet, then still an orphan, then in the map with its first check pending
    const answers = [
      'sda 3600000e00000000000010001 active ready\n',
      'sda 3600000e00000000000010001 active ready\nsdb [orphan] undef undef\n',
      'sda 3600000e00000000000010001 active ready\nsdb 3600000e00000000000010001 active i/o pending\n',
      'sda 3600000e00000000000010001 active ready\nsdb 3600000e00000000000010001 active ready\n',
    ];
    let shows = 0;
    const a = fakeAttach();
    const m = fakeMpd((c) => (c.startsWith('show paths') ? answers[Math.min(shows++, answers.length - 1)]! : 'ok\n'));
    const r = await connectMultipath({ ...base, multipath: 'required' }, { ...a.deps, multipathd: { binding: m.binding } });
    expect(shows).toBe(3);
    expect(r.multipath?.paths.map((p) => p.state)).toEqual(['active/ready', 'active/i/o pending']);

    // multipathd never lists sdb in the map: after the bounded poll, reported as it stands
    const events: string[] = [];
    const t0 = Date.now();
    const m2 = fakeMpd((c) => (c.startsWith('show paths') ? 'sda 3600000e00000000000010001 active i/o pending\nsdb [orphan] undef undef\n' : 'ok\n'));
    const onEvent = (e: ConnectEvent) => void (e.type === 'decision' && events.push(e.message));
    const r2 = await connectMultipath({ ...base, timeoutMs: 2000, multipath: 'required', onEvent }, { ...fakeAttach().deps, multipathd: { binding: m2.binding } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500); // bounded by the call's 2 s deadline, not 5 s
    expect(Date.now() - t0).toBeLessThan(4800);
    expect(r2.multipath?.paths.map((p) => p.state)).toEqual(['active/i/o pending', 'unreported']);
    // the wait is where the time went, and it says so
    expect(r2.multipath?.timings.statesMs).toBeGreaterThanOrEqual(1400);
    expect(r2.multipath?.timings.mapWaitMs).toBeLessThan(1000);
    expect(events.some((e) => /does not list sdb/.test(e))).toBe(true);
  });

  it('paths that are different volumes are refused and the sessions it made are detached again', async () => {
    const a = fakeAttach({ wwids: { sda: 'naa.600', sdb: 'naa.700' } });
    const m = fakeMpd(() => 'ok\n');
    await expect(connectMultipath({ ...base, multipath: 'required' }, { ...a.deps, multipathd: { binding: m.binding } })).rejects.toMatchObject({ code: 'MULTIPATH_WWID_MISMATCH' });
    expect(a.disconnects.map((d) => d.sid).sort()).toEqual([10, 11]);
    expect(m.sent.filter((c) => c.startsWith('add'))).toEqual([]);
  });

  it('a failed path is reported with its error; the others still make the map', async () => {
    const a = fakeAttach({ fail: ['127.0.0.2:3260'] });
    fs.rmSync(path.join(sys, 'class/block/sdb/holders/dm-0'), { recursive: true });
    try {
      const r = await connectMultipath({ ...base, multipath: 'required' }, { ...a.deps, multipathd: { binding: fakeMpd(() => 'ok\n').binding } });
      expect(r.multipath?.map?.dm).toBe('dm-0');
      expect(r.multipath?.paths[1]).toMatchObject({ portal: '127.0.0.2:3260', state: 'failed', error: { code: 'ISCSID_ERR_TRANS_TIMEOUT' } });
    } finally {
      fs.mkdirSync(path.join(sys, 'class/block/sdb/holders/dm-0'));
    }
  });

  it('bad options are refused before anything happens', async () => {
    const a = fakeAttach();
    const deps = { ...a.deps, multipathd: { binding: fakeMpd(() => 'ok\n').binding } };
    await expect(connectMultipath({ ...base, portals: [] }, deps)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(connectMultipath({ ...base, portals: ['127.0.0.1:3260', '127.0.0.1:3260'] }, deps)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(connectMultipath({ ...base, multipath: 'always' as never }, deps)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(connectMultipath({ ...base, target: undefined }, deps)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    expect(a.connects).toEqual([]);
  });
});

describe('disconnectMultipath', () => {
  const mapDir = () => path.join(sys, 'class/block/dm-0');
  /** device-mapper's ioctl: refuses `busy` times with DM_MAP_BUSY, then removes the map. */
  const fakeDm = (busy = 0) => {
    const removed: string[] = [];
    return {
      removed,
      binding: {
        dmRemoveMap: async (uuid: string) => {
          removed.push(uuid);
          if (busy-- > 0) throw Object.assign(new Error('device-mapper refused: open'), { code: 'DM_MAP_BUSY', errno: 16 });
          fs.renameSync(mapDir(), `${mapDir()}.gone`);
        },
      },
    };
  };
  const deps = (answer: (cmd: string) => string | Error, dmBusy = 1000) => {
    const a = fakeAttach();
    const m = fakeMpd((c) => {
      const r = answer(c);
      if (c.startsWith('del map') && r === 'ok\n') fs.renameSync(mapDir(), `${mapDir()}.gone`);
      return r;
    });
    const dm = fakeDm(dmBusy);
    return { a, m, dm, deps: { ...a.deps, multipathd: { binding: m.binding }, dm: dm.binding } };
  };
  const restore = () => {
    if (fs.existsSync(`${mapDir()}.gone`)) fs.renameSync(`${mapDir()}.gone`, mapDir());
  };

  it('retries a refused "del map" (udev has the map open for a moment) until multipathd takes it', async () => {
    let refusals = 2;
    const d = deps((c) => (c.startsWith('del map') && refusals-- > 0 ? 'fail\n' : 'ok\n'));
    try {
      const r = await disconnectMultipath({ map: 'dm-0', timeoutMs: 5000 }, d.deps);
      expect(r).toMatchObject({ map: 'dm-0', removedBy: 'multipathd' });
      expect(d.m.sent.filter((c) => c.startsWith('del map'))).toHaveLength(3);
      expect(d.dm.removed).toEqual([]);
    } finally {
      restore();
    }
  });

  it('a map multipathd keeps refusing, and device-mapper too (open), is MULTIPATH_MAP_BUSY, and its paths are left alone', async () => {
    const d = deps(() => 'fail\n');
    try {
      await expect(disconnectMultipath({ map: 'dm-0', timeoutMs: 600 }, d.deps)).rejects.toMatchObject({ code: 'MULTIPATH_MAP_BUSY' });
      expect(d.dm.removed).toEqual(['mpath-3600000e00000000000010001']);
      expect(d.a.disconnects).toEqual([]);
    } finally {
      restore();
    }
  });

  it('without multipathd the map is removed through device-mapper by its uuid (busy retried)', async () => {
    const d = deps(() => notRunning(), 2);
    try {
      const r = await disconnectMultipath({ map: 'dm-0', timeoutMs: 5000 }, d.deps);
      expect(r).toMatchObject({ map: 'dm-0', removedBy: 'device-mapper', loggedOut: [] });
      expect(d.dm.removed).toEqual(Array(3).fill('mpath-3600000e00000000000010001'));
    } finally {
      restore();
    }
  });

  it('a map that is not there is nothing to do; a bad name is refused', async () => {
    const d = deps(() => 'ok\n');
    expect(await disconnectMultipath({ map: 'dm-9' }, d.deps)).toEqual({ removed: [], loggedOut: [] });
    await expect(disconnectMultipath({ map: '../dm-0' }, d.deps)).rejects.toMatchObject({ code: 'INVALID_MAP' });
    expect(d.m.sent).toEqual([]);
  });
});
