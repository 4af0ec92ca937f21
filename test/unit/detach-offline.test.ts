// A dead path on the fake sysfs: a SCSI device the kernel has taken offline (transport-offline after its
// session failed past the replacement timeout) refuses opens with ENXIO, as the kernel's sd does. The detach
// still checks mounts and holders, then deletes it without the flush and says so in `unflushed`; an ENXIO
// from a device sysfs calls running stays DEVICE_OPEN_FAILED.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makedev, type DeviceHandle } from '../../lib/attach/devices';
import { disconnect } from '../../lib/attach/disconnect';
import type { ScsiDevice, Session } from '../../lib/read/sessions';
import { FakeSys } from '../fixtures/fakesys';

const HCTL = '3:0:0:1';
let sys: FakeSys | undefined;
afterEach(() => sys?.remove());

/** One session (sid 1) with LUN 1 on sdb in the given SCSI state; /proc and /dev beside the tree. */
function setup(o: { state: string; mountinfo?: string; holders?: string[] }) {
  sys = new FakeSys()
    .host({ hostNo: 3, procName: 'iscsi_tcp' })
    .session({ hostNo: 3, sid: 1, targetName: 'iqn.2026-12.org.example:t', address: '127.0.0.2', port: 3260, state: 'FAILED', luns: [{ lun: 1, block: { name: 'sdb', dev: '8:16' }, state: o.state }] });
  const root = sys.root;
  const lunDir = fs.realpathSync(path.join(root, 'bus/scsi/devices', HCTL));
  // the kernel's links that the fixture does not make: class/scsi_device/<hctl>/device and the disk's holders
  fs.mkdirSync(path.join(root, 'class/scsi_device', HCTL), { recursive: true });
  fs.symlinkSync(lunDir, path.join(root, 'class/scsi_device', HCTL, 'device'));
  fs.writeFileSync(path.join(lunDir, 'delete'), '');
  for (const h of o.holders ?? []) fs.mkdirSync(path.join(root, 'class/block/sdb/holders', h), { recursive: true });
  const proc = path.join(root, 'proc');
  fs.mkdirSync(path.join(proc, 'self'), { recursive: true });
  fs.writeFileSync(path.join(proc, 'self/mountinfo'), o.mountinfo ?? '22 1 0:21 / / rw,relatime - tmpfs tmpfs rw\n');
  const dev = path.join(root, 'dev');
  fs.mkdirSync(dev);
  fs.writeFileSync(path.join(dev, 'sdb'), '');

  const log: string[] = [];
  const deleted = () => fs.readFileSync(path.join(lunDir, 'delete'), 'utf8') === '1';
  let loggedIn = true;
  const device: ScsiDevice = { hctl: HCTL, host: 3, channel: 0, target: 0, lun: 1, type: 0, blockDevice: 'sdb', state: o.state };
  // sd's open: ENXIO when the device is not online (what scsi_device_online() says), else a handle
  const open = async (file: string): Promise<DeviceHandle> => {
    const state = fs.readFileSync(path.join(lunDir, 'state'), 'utf8').trim();
    log.push(`open ${path.basename(file)}`);
    if (state === 'offline' || state === 'transport-offline' || o.state === 'enxio-running') throw Object.assign(new Error(`ENXIO: no such device or address, open '${file}'`), { code: 'ENXIO' });
    return { sync: async () => void log.push('sync'), close: async () => void log.push('close'), stat: async () => ({ isBlockDevice: () => true, rdev: makedev(8, 16) }) };
  };
  const deps = {
    readSession: async (sid: number) => (sid === 1 && loggedIn ? ({ sid: 1, devices: deleted() ? [] : [device] } as unknown as Session) : undefined),
    logout: async () => {
      log.push('logout');
      loggedIn = false;
    },
    env: { sysfsRoot: root, procRoot: proc, devDir: dev, open },
    lock: <T>(_s: Session, fn: () => Promise<T>) => fn(), // the session lock: test/native/disconnect-lock.test.ts
  };
  return { deps, log, deleted };
}

describe('detach of a device the kernel took offline', () => {
  it('transport-offline and unused: deleted without a flush, listed in unflushed, the session logged out', async () => {
    const s = setup({ state: 'transport-offline' });
    const r = await disconnect({ sid: 1, deps: s.deps });
    expect(r).toEqual({ removed: [HCTL], unflushed: [HCTL], loggedOut: true, remaining: [] });
    expect(s.deleted()).toBe(true);
    expect(s.log).toEqual(['open sdb', 'logout']);
  });

  it('offline but mounted, or held by a map: DEVICE_IN_USE and nothing removed, as for any device', async () => {
    const m = setup({ state: 'offline', mountinfo: '22 1 0:21 / / rw - tmpfs tmpfs rw\n40 22 8:16 / /mnt/data rw - ext4 /dev/sdb rw\n' });
    await expect(disconnect({ sid: 1, deps: m.deps })).rejects.toMatchObject({ code: 'DEVICE_IN_USE', details: { devices: [{ reason: 'mounted', mountPoints: ['/mnt/data'] }] } });
    expect(m.deleted()).toBe(false);
    sys!.remove();
    const h = setup({ state: 'transport-offline', holders: ['dm-0'] });
    await expect(disconnect({ sid: 1, deps: h.deps })).rejects.toMatchObject({ code: 'DEVICE_IN_USE', details: { devices: [{ reason: 'holders', holders: ['dm-0'] }] } });
    expect(h.deleted()).toBe(false);
    expect(h.log).not.toContain('logout');
  });

  it('an ENXIO from a device sysfs calls running is DEVICE_OPEN_FAILED, nothing removed; a running device is flushed', async () => {
    const e = setup({ state: 'enxio-running' });
    fs.writeFileSync(path.join(fs.realpathSync(path.join(sys!.root, 'bus/scsi/devices', HCTL)), 'state'), 'running\n');
    await expect(disconnect({ sid: 1, deps: e.deps })).rejects.toMatchObject({ code: 'DEVICE_OPEN_FAILED', details: { errno: 'ENXIO' } });
    expect(e.deleted()).toBe(false);
    sys!.remove();
    const ok = setup({ state: 'running' });
    const r = await disconnect({ sid: 1, deps: ok.deps });
    expect(r).toEqual({ removed: [HCTL], loggedOut: true, remaining: [] });
    expect(ok.log).toEqual(['open sdb', 'sync', 'close', 'logout']);
  });
});
