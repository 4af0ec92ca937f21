// A kernel without iSCSI is named: whether a transport is registered, or can be (its module on disk for this
// kernel; iscsid loads it), decided on fixture trees (sysfs, procfs, /lib/modules) and on this host.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kernelModuleOf, transportPresence, transportNotLoaded } from '../../lib/read/transport-presence';
import { checkHardware } from '../../lib/attach/hardware';
import { FakeSys } from '../fixtures/fakesys';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-presence-'));
const trees: FakeSys[] = [];
afterAll(() => {
  for (const t of trees) t.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A kernel: sysfs (with /sys/module, as every real one has), procfs with or without module support, a module tree. */
function kernel(name: string, o: { registered?: string[]; procModules: boolean; modulesDep?: string; builtin?: string }) {
  const sys = new FakeSys();
  trees.push(sys);
  for (const t of o.registered ?? []) sys.transport(t, 0x39);
  fs.mkdirSync(path.join(sys.root, 'module', 'kernel'), { recursive: true });
  const proc = path.join(tmp, name, 'proc');
  fs.mkdirSync(proc, { recursive: true });
  if (o.procModules) fs.writeFileSync(path.join(proc, 'modules'), '');
  const modulesRoot = path.join(tmp, name, 'lib-modules');
  const dir = path.join(modulesRoot, '6.1.0-test');
  fs.mkdirSync(dir, { recursive: true });
  if (o.modulesDep !== undefined) fs.writeFileSync(path.join(dir, 'modules.dep'), o.modulesDep);
  if (o.builtin !== undefined) fs.writeFileSync(path.join(dir, 'modules.builtin'), o.builtin);
  return { sysfsRoot: sys.root, procRoot: proc, modulesRoot, kernelRelease: '6.1.0-test' };
}

const DEP = 'kernel/drivers/scsi/iscsi_tcp.ko.xz: kernel/drivers/scsi/libiscsi_tcp.ko.xz kernel/drivers/scsi/libiscsi.ko.xz\nkernel/drivers/scsi/libiscsi.ko.xz:\n';

describe('transportPresence', () => {
  it('iscsid\'s module names: iscsi_tcp, ib_iser, else the transport\'s own', () => {
    expect(['tcp', 'iser', 'cxgb4i', 'qla4xxx'].map(kernelModuleOf)).toEqual(['iscsi_tcp', 'ib_iser', 'cxgb4i', 'qla4xxx']);
  });

  it('registered: usable', async () => {
    expect(await transportPresence('tcp', kernel('reg', { registered: ['tcp'], procModules: true }))).toMatchObject({ registered: true, loadable: true });
  });

  it('a kernel that cannot load modules cannot get it', async () => {
    const p = await transportPresence('tcp', kernel('nomod', { procModules: false }));
    expect(p).toMatchObject({ transport: 'tcp', module: 'iscsi_tcp', registered: false, loadable: false });
    expect(p.why).toMatch(/cannot load modules \(it has no \/proc\/modules\)/);
  });

  it('by the kernel\'s module list: there (iscsid loads it), built in, or absent', async () => {
    expect(await transportPresence('tcp', kernel('dep', { procModules: true, modulesDep: DEP }))).toMatchObject({ registered: false, loadable: true });
    expect(await transportPresence('iser', kernel('dep2', { procModules: true, modulesDep: DEP }))).toMatchObject({ module: 'ib_iser', loadable: false });
    expect(await transportPresence('tcp', kernel('builtin', { procModules: true, modulesDep: '', builtin: 'kernel/drivers/scsi/iscsi_tcp.ko\n' }))).toMatchObject({ loadable: true });
    const gone = await transportPresence('tcp', kernel('gone', { procModules: true, modulesDep: 'kernel/drivers/scsi/libiscsi.ko:\n' }));
    expect(gone).toMatchObject({ loadable: false });
    expect(gone.why).toMatch(/kernel 6\.1\.0-test has no iscsi_tcp module/);
  });

  it('without evidence (no module tree, as in many containers) it does not refuse', async () => {
    expect(await transportPresence('tcp', kernel('unknown', { procModules: true }))).toMatchObject({ registered: false, loadable: undefined });
  });

  it('the error names the module', () => {
    const e = transportNotLoaded({ transport: 'tcp', module: 'iscsi_tcp', registered: false, loadable: false, why: 'x' });
    expect(e).toMatchObject({ name: 'IscsiUnsupportedError', code: 'ISCSI_TRANSPORT_NOT_LOADED', details: { module: 'iscsi_tcp' } });
    expect(e.message).toMatch(/modprobe iscsi_tcp/);
  });
});

describe('checkHardware(tcp) says when the kernel cannot have iSCSI', () => {
  it('not usable only when the kernel cannot get iscsi_tcp', async () => {
    const none = await checkHardware('tcp', kernel('hw-none', { procModules: false }));
    expect(none.ok).toBe(false);
    expect(none.problems).toEqual([{ code: 'TRANSPORT_NOT_REGISTERED', message: expect.stringMatching(/load iscsi_tcp \(modprobe iscsi_tcp\)/) }]);
    expect((await checkHardware('tcp', kernel('hw-dep', { procModules: true, modulesDep: DEP }))).ok).toBe(true);
    expect((await checkHardware('tcp', kernel('hw-reg', { registered: ['tcp'], procModules: false }))).ok).toBe(true);
  });
});

describe('on this host (the CLI, a real process)', () => {
  const cli = path.resolve(__dirname, '../../dist/cli.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
  it('check, connect and login name the module when the kernel has no iSCSI; transports stays a list', async () => {
    const here = await transportPresence('tcp');
    const check = run('check', 'tcp');
    const login = run('login', '--target', 'iqn.2003-01.org.example:t', '--portal', '127.0.0.1:1', '--timeout-ms', '3000');
    const connect = run('connect', '--portal', '127.0.0.1:1', '--target', 'iqn.2003-01.org.example:t', '--timeout-ms', '3000');
    expect(JSON.parse(run('transports', '--json').stdout)).toEqual(expect.any(Array));
    if (here.loadable === false) {
      expect(check.status).toBe(4);
      expect(check.stdout).toMatch(/TRANSPORT_NOT_REGISTERED: .*modprobe iscsi_tcp/);
      for (const r of [login, connect]) {
        expect(r.status, r.stderr).toBe(4);
        expect(r.stderr).toMatch(/the kernel has no iSCSI tcp transport: .*modprobe iscsi_tcp.*\[ISCSI_TRANSPORT_NOT_LOADED\]/);
      }
    } else {
      // A kernel that has or can load iscsi_tcp: the check passes and nothing says otherwise.
      expect(check.status, check.stdout).toBe(0);
      for (const r of [login, connect]) expect(r.stderr).not.toMatch(/ISCSI_TRANSPORT_NOT_LOADED/);
    }
  });
});
