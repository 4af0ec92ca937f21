// createIface/deleteIface: validation before anything is written, hardware checks, names, atomic writes.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createIface, deleteIface } from '../../lib/iface-admin';
import { hardwareTree } from '../fixtures/fakehw';

const tree = hardwareTree();
afterAll(() => tree.remove());
const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-proc-'));
const dirs = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-ifaces-'));
  return { ifacesDir: path.join(d, 'ifaces'), lockDir: path.join(d, 'lock'), sysfsRoot: tree.root, procRoot: proc };
};

describe('createIface', () => {
  it('writes <transport>.<hwaddress> for a cxgb4i card, mode 0600, in iscsiadm format', async () => {
    const d = dirs();
    const r = await createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:AA:BB:CC', ...d });
    expect(r).toMatchObject({ name: 'cxgb4i.00:07:43:aa:bb:cc', created: true });
    expect(fs.statSync(r.file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(r.file, 'utf8')).toBe(
      '# created by openiscsi\n# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = cxgb4i.00:07:43:aa:bb:cc\niface.hwaddress = 00:07:43:aa:bb:cc\niface.transport_name = cxgb4i\n# END RECORD\n',
    );
    expect(r.hardware?.host?.hostNo).toBe(7);
  });

  it('follows the kernel iscsi_iface naming for qla4xxx', async () => {
    const r = await createIface({ transport: 'qla4xxx', hwaddress: '00:0e:1e:11:22:33', ipaddress: '203.0.113.8', ...dirs() });
    expect(r.name).toBe('qla4xxx.00:0e:1e:11:22:33.ipv4.1');
    expect(fs.readFileSync(r.file, 'utf8')).toContain('iface.iface_num = 1\n');
  });

  it('is idempotent for identical settings and refuses to overwrite different ones', async () => {
    const d = dirs();
    await createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', ...d });
    expect((await createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', ...d })).created).toBe(false);
    await expect(createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', netdev: 'eth2', name: 'cxgb4i.00:07:43:aa:bb:cc', ...d })).rejects.toMatchObject({ code: 'IFACE_EXISTS' });
  });

  it('refuses absent hardware unless told not to check', async () => {
    const d = dirs();
    await expect(createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:00:00:09', ...d })).rejects.toMatchObject({ code: 'IFACE_HARDWARE_CHECK_FAILED' });
    expect(fs.existsSync(d.ifacesDir)).toBe(false);
    expect((await createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:00:00:09', checkHardware: false, ...d })).created).toBe(true);
  });

  it.each([
    [{ transport: 'cxgb9i', hwaddress: '00:07:43:aa:bb:cc' }, 'UNKNOWN_TRANSPORT'],
    [{ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb' }, 'INVALID_HWADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: 'zz:07:43:aa:bb:cc' }, 'INVALID_HWADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', ipaddress: '300.1.1.1' }, 'INVALID_ADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', name: '../../etc/passwd' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', name: 'a/b' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'tcp', name: 'default' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'cxgb4i' }, 'IFACE_BINDING_REQUIRED'],
    [{ transport: 'tcp', name: 'x', netdev: 'eth0/../x' }, 'INVALID_NETDEV'],
    [{ transport: 'tcp', name: 'x', ipaddress: '192.0.2.1' }, 'INVALID_ADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', initiatorName: 'nope' }, 'INVALID_IQN'],
  ])('%j is refused with %s and nothing is written', async (input, code) => {
    const d = dirs();
    await expect(createIface({ ...input, ...d, checkHardware: false })).rejects.toMatchObject({ code });
    expect(fs.existsSync(d.ifacesDir)).toBe(false);
  });
});

describe('deleteIface', () => {
  it('deletes its own ifaces, not others unless forced, never one in use; idempotent', async () => {
    const d = dirs();
    const { name } = await createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', ...d });
    await expect(deleteIface(name, { ...d, inUse: async () => [name] })).rejects.toMatchObject({ code: 'IFACE_IN_USE' });
    expect(await deleteIface(name, { ...d, inUse: async () => [] })).toEqual({ deleted: true });
    expect(await deleteIface(name, { ...d, inUse: async () => [] })).toEqual({ deleted: false });
    fs.writeFileSync(path.join(d.ifacesDir, 'admins'), 'iface.transport_name = tcp\n');
    await expect(deleteIface('admins', { ...d, inUse: async () => [] })).rejects.toMatchObject({ code: 'IFACE_NOT_OURS' });
    expect(await deleteIface('admins', { ...d, force: true, inUse: async () => [] })).toEqual({ deleted: true });
    await expect(deleteIface('../x', d)).rejects.toMatchObject({ code: 'INVALID_IFACE_NAME' });
  });
});
