// createIface/deleteIface: validation before anything is written, hardware checks, names, atomic writes, and the
// iface-file format itself (iscsiadm 2.1.8's, as in shared/fixtures/etc-iscsi/iface_eth-bound.txt).
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createIface, deleteIface, normaliseMac, type CreateIfaceOptions } from '../../lib/attach/iface-admin';
import { formatIfaceFile, listIfaceFiles, parseIfaceFile, readIfaceFile } from '../../lib/files/iface-file';
import { checkRecord } from '../../lib/files/record-file';
import { fakeProc, hardwareTree, MAC } from '../fixtures/fakehw';

const tree = hardwareTree();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-ifadm-'));
const proc = fakeProc(path.join(tmp, 'proc'));
const procUio = fakeProc(path.join(tmp, 'proc-uio'), { comm: { 77: 'iscsiuio' } });
afterAll(() => {
  tree.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});
const dirs = () => {
  const d = fs.mkdtempSync(path.join(tmp, 'etc-'));
  return { ifacesDir: path.join(d, 'ifaces'), lockDir: path.join(d, 'lock'), sysfsRoot: tree.root, procRoot: proc };
};
const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d).sort() : undefined);
const FIXTURE = fs.readFileSync('/work/shared/fixtures/etc-iscsi/iface_eth-bound.txt', 'utf8');

describe('iface file format', () => {
  it('writes exactly what iscsiadm 2.1.8 wrote for the eth-bound iface (without a marker)', () => {
    expect(formatIfaceFile('eth-bound', { transport: 'tcp', netdev: 'eth1', initiatorName: 'iqn.2024-01.org.example:custom' })).toBe(FIXTURE);
  });

  it('reads iscsiadm\'s file: not ours, bindings, the sentinel "default" as unbound', () => {
    const f = parseIfaceFile('eth-bound', FIXTURE);
    expect(f).toMatchObject({ name: 'eth-bound', transport: 'tcp', netdev: 'eth1', initiatorName: 'iqn.2024-01.org.example:custom', ours: false });
    expect(f.hwaddress).toBeUndefined();
    expect(parseIfaceFile('x', 'iface.transport_name = tcp\niface.hwaddress = default\n').hwaddress).toBeUndefined();
  });

  it('the marker is a comment line, so libopeniscsiusr\'s key check passes, and it reads back as ours', () => {
    const text = formatIfaceFile('qla4xxx.00:0e:1e:11:22:33.ipv4.1', { transport: 'qla4xxx', hwaddress: MAC.qla, ipaddress: '203.0.113.8', ifaceNum: 1 }, { createdAt: new Date('2026-11-24T12:00:00Z') });
    expect(text.split('\n')[0]).toBe('# openiscsi: created 2026-11-24T12:00:00.000Z by createIface(); remove with deleteIface()');
    expect(checkRecord(text, 'iface', 'qla4xxx.00:0e:1e:11:22:33.ipv4.1')).toBeUndefined();
    expect(parseIfaceFile('q', text)).toMatchObject({ ours: true, createdAt: '2026-11-24T12:00:00.000Z', ifaceNum: 1, hwaddress: MAC.qla });
  });
});

describe('createIface', () => {
  it('writes <transport>.<hwaddress> for a cxgb4i port: iscsiadm format, marker, mode 0600, dir 0770, no temp file left', async () => {
    const d = dirs();
    const r = await createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:AA:BB:CC', ...d });
    expect(r).toMatchObject({ name: `cxgb4i.${MAC.eth2}`, file: path.join(d.ifacesDir, `cxgb4i.${MAC.eth2}`), created: true });
    expect(fs.statSync(r.file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(d.ifacesDir).mode & 0o777).toBe(0o770);
    expect(ls(d.ifacesDir)).toEqual([r.name]);
    const text = fs.readFileSync(r.file, 'utf8');
    expect(text).toMatch(/^# openiscsi: created \d{4}-\d\d-\d\dT[\d:.]+Z by createIface\(\); remove with deleteIface\(\)\n/);
    expect(text.slice(text.indexOf('\n') + 1)).toBe(
      `# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = cxgb4i.${MAC.eth2}\niface.hwaddress = ${MAC.eth2}\niface.transport_name = cxgb4i\n# END RECORD\n`,
    );
    expect(r.hardware).toMatchObject({ ok: true, host: { hostNo: 7, matchedBy: 'hwaddress' }, nic: { name: 'eth2' } });
    expect(await listIfaceFiles(d)).toHaveLength(1);
  });

  it('a MAC with dashes is normalised; the same iface again is an idempotent success', async () => {
    const d = dirs();
    const a = await createIface({ transport: 'cxgb4i', hwaddress: '00-07-43-AA-BB-CD', initiatorName: 'iqn.2026-11.org.example:hba', ...d });
    expect(a.name).toBe(`cxgb4i.${MAC.eth3}`);
    const before = fs.readFileSync(a.file, 'utf8');
    const b = await createIface({ transport: 'cxgb4i', hwaddress: MAC.eth3, initiatorName: 'iqn.2026-11.org.example:hba', ...d });
    expect(b).toMatchObject({ name: a.name, created: false });
    expect(fs.readFileSync(a.file, 'utf8')).toBe(before);
  });

  it('refuses to overwrite a different iface of that name, and leaves it as it was', async () => {
    const d = dirs();
    const a = await createIface({ transport: 'cxgb4i', hwaddress: MAC.eth2, ...d });
    const before = fs.readFileSync(a.file, 'utf8');
    await expect(createIface({ transport: 'cxgb4i', hwaddress: MAC.eth2, netdev: 'eth2', ...d })).rejects.toMatchObject({ code: 'IFACE_EXISTS' });
    fs.writeFileSync(path.join(d.ifacesDir, 'admins'), 'iface.transport_name = tcp\niface.net_ifacename = eth0\n');
    await expect(createIface({ transport: 'tcp', netdev: 'eth2', name: 'admins', ...d })).rejects.toMatchObject({ code: 'IFACE_EXISTS' });
    expect(fs.readFileSync(a.file, 'utf8')).toBe(before);
    expect(ls(d.ifacesDir)).toEqual(['admins', a.name]);
  });

  it('qla4xxx: the kernel iscsi_iface naming <transport>.<hw>.ipv4.<n>, and iface_num', async () => {
    const d = dirs();
    const r = await createIface({ transport: 'qla4xxx', hwaddress: MAC.qla, ipaddress: '203.0.113.8', ...d });
    expect(r.name).toBe(`qla4xxx.${MAC.qla}.ipv4.1`);
    expect(fs.readFileSync(r.file, 'utf8')).toContain(`iface.ipaddress = 203.0.113.8\niface.hwaddress = ${MAC.qla}\niface.transport_name = qla4xxx\niface.iface_num = 1\n`);
    // A new address goes on the first entry of its family; iface_num 0 is left out, as iscsiadm does.
    const z = await createIface({ transport: 'qla4xxx', hwaddress: MAC.qla, ipaddress: '203.0.113.99', ...d });
    expect(z.name).toBe(`qla4xxx.${MAC.qla}.ipv4.0`);
    expect(fs.readFileSync(z.file, 'utf8')).not.toContain('iface_num');
    // Without the hardware check the name still follows the host that is there.
    const n = await createIface({ transport: 'qla4xxx', hwaddress: MAC.qla, ipaddress: '203.0.113.7', checkHardware: false, ...dirs() });
    expect(n.name).toBe(`qla4xxx.${MAC.qla}.ipv4.0`);
  });

  it('bnx2i: needs an ipaddress, and iscsiuio running', async () => {
    await expect(createIface({ transport: 'bnx2i', hwaddress: MAC.eth4, ...dirs() })).rejects.toMatchObject({ code: 'IPADDRESS_REQUIRED' });
    const d = dirs();
    await expect(createIface({ transport: 'bnx2i', hwaddress: MAC.eth4, ipaddress: '192.0.2.44', ...d })).rejects.toMatchObject({
      code: 'IFACE_HARDWARE_CHECK_FAILED',
      details: { problems: [{ code: 'ISCSIUIO_NOT_RUNNING' }] },
    });
    expect(ls(d.ifacesDir)).toBeUndefined();
    const r = await createIface({ transport: 'bnx2i', hwaddress: MAC.eth4, ipaddress: '192.0.2.44', ...d, procRoot: procUio });
    expect(r).toMatchObject({ name: `bnx2i.${MAC.eth4}`, created: true });
  });

  it('a link-down port is refused unless told not to check', async () => {
    const d = dirs();
    await expect(createIface({ transport: 'cxgb4i', hwaddress: MAC.eth6, ...d })).rejects.toMatchObject({ code: 'IFACE_HARDWARE_CHECK_FAILED', message: expect.stringMatching(/link of cxgb4i host12 \(eth6\) is down/) });
    expect(ls(d.ifacesDir)).toBeUndefined();
    expect((await createIface({ transport: 'cxgb4i', hwaddress: MAC.eth6, checkHardware: false, ...d })).created).toBe(true);
  });

  it('absent hardware is refused unless told not to check', async () => {
    const d = dirs();
    await expect(createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:00:00:09', ...d })).rejects.toMatchObject({ code: 'IFACE_HARDWARE_CHECK_FAILED' });
    expect(ls(d.ifacesDir)).toBeUndefined();
    expect((await createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:00:00:09', checkHardware: false, ...d })).created).toBe(true);
  });

  it('software tcp bound to a NIC, and an IPv6 offload address', async () => {
    const d = dirs();
    const t = await createIface({ transport: 'tcp', hwaddress: MAC.eth0, ...d });
    expect(t.name).toBe(`tcp.${MAC.eth0}`);
    expect(t.hardware).toMatchObject({ ok: true, nic: { name: 'eth0' } });
    const n = await createIface({ transport: 'tcp', netdev: 'eth0', name: 'storage0', ...d });
    expect(fs.readFileSync(n.file, 'utf8')).toContain('iface.net_ifacename = eth0\n');
    const v6 = await createIface({ transport: 'cxgb4i', hwaddress: MAC.eth2, ipaddress: '2001:db8::50', ...d });
    expect(v6.name).toBe(`cxgb4i.${MAC.eth2}`);
    expect(fs.readFileSync(v6.file, 'utf8')).toContain('iface.ipaddress = 2001:db8::50\n');
  });

  it.each([
    [{ transport: 'cxgb9i', hwaddress: MAC.eth2 }, 'UNKNOWN_TRANSPORT'],
    [{ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb' }, 'INVALID_HWADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: 'zz:07:43:aa:bb:cc' }, 'INVALID_HWADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: '00:07:43-aa:bb:cc' }, 'INVALID_HWADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: '00:00:00:00:00:00' }, 'INVALID_HWADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: `${MAC.eth2}\n` }, 'INVALID_HWADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: MAC.eth2, ipaddress: '300.1.1.1' }, 'INVALID_ADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: MAC.eth2, ipaddress: '2001:db8::g' }, 'INVALID_ADDRESS'],
    [{ transport: 'cxgb4i', hwaddress: MAC.eth2, name: '../../etc/passwd' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'cxgb4i', hwaddress: MAC.eth2, name: 'a/b' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'cxgb4i', hwaddress: MAC.eth2, name: 'a..b' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'cxgb4i', hwaddress: MAC.eth2, name: 'x'.repeat(65) }, 'INVALID_IFACE_NAME'],
    [{ transport: 'cxgb4i', hwaddress: MAC.eth2, name: 'has space' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'tcp', netdev: 'eth0', name: 'default' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'iser', name: 'iser' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'tcp', netdev: 'eth0' }, 'INVALID_IFACE_NAME'],
    [{ transport: 'cxgb4i' }, 'IFACE_BINDING_REQUIRED'],
    [{ transport: 'tcp', name: 'x', netdev: 'eth0/../x' }, 'INVALID_NETDEV'],
    [{ transport: 'tcp', name: 'x', netdev: 'a-very-long-netdev' }, 'INVALID_NETDEV'],
    [{ transport: 'qla4xxx', hwaddress: MAC.qla, netdev: 'eth5' }, 'INVALID_NETDEV'],
    [{ transport: 'tcp', name: 'x', ipaddress: '192.0.2.1' }, 'INVALID_ADDRESS'],
    [{ transport: 'qedi', hwaddress: '00:0e:1e:00:00:01' }, 'IPADDRESS_REQUIRED'],
    [{ transport: 'cxgb4i', hwaddress: MAC.eth2, initiatorName: 'nope' }, 'INVALID_IQN'],
  ])('%j is refused with %s and nothing is written', async (input, code) => {
    const d = dirs();
    // Untyped input, as from JavaScript: the type would refuse some of these rows (cxgb9i), the function must.
    const bad = input as CreateIfaceOptions;
    await expect(createIface({ ...bad, ...d })).rejects.toMatchObject({ code, name: 'IscsiValidationError' });
    await expect(createIface({ ...bad, ...d, checkHardware: false })).rejects.toMatchObject({ code });
    expect(ls(path.dirname(d.ifacesDir))).toEqual([]);
  });
});

describe('deleteIface', () => {
  it('deletes its own ifaces, not others unless forced, never one in use; idempotent', async () => {
    const d = dirs();
    const { name } = await createIface({ transport: 'cxgb4i', hwaddress: MAC.eth3, ...d });
    await expect(deleteIface(name, { ...d, inUse: async () => [name] })).rejects.toMatchObject({ code: 'IFACE_IN_USE' });
    await expect(deleteIface(name, { ...d, sessions: [{ iface: { name } }] })).rejects.toMatchObject({ code: 'IFACE_IN_USE' });
    expect(ls(d.ifacesDir)).toEqual([name]);
    expect(await deleteIface(name, d)).toEqual({ deleted: true });
    expect(ls(d.ifacesDir)).toEqual([]);
    expect(await deleteIface(name, d)).toEqual({ deleted: false });
    fs.writeFileSync(path.join(d.ifacesDir, 'admins'), 'iface.transport_name = tcp\n');
    await expect(deleteIface('admins', d)).rejects.toMatchObject({ code: 'IFACE_NOT_OURS' });
    expect(await deleteIface('admins', { ...d, force: true })).toEqual({ deleted: true });
    await expect(deleteIface('../x', d)).rejects.toMatchObject({ code: 'INVALID_IFACE_NAME' });
    await expect(deleteIface('default', d)).rejects.toMatchObject({ code: 'INVALID_IFACE_NAME' });
  });

  it('reads the sessions\' iface names from sysfs by default; force never deletes one in use', async () => {
    const d = dirs();
    const { name } = await createIface({ transport: 'cxgb4i', hwaddress: MAC.eth2, ...d });
    expect(name).toBe(`cxgb4i.${MAC.eth2}`);
    await expect(deleteIface(name, d)).rejects.toMatchObject({ code: 'IFACE_IN_USE', message: expect.stringMatching(/log the session out first/) });
    await expect(deleteIface(name, { ...d, force: true })).rejects.toMatchObject({ code: 'IFACE_IN_USE' });
    expect((await readIfaceFile(name, d))?.ours).toBe(true);
  });
});

describe('waiting for open-iscsi\'s database lock', () => {
  it('createIface and deleteIface give up at timeoutMs or on abort, and change nothing', async () => {
    const d = dirs();
    const { name, file } = await createIface({ transport: 'cxgb4i', hwaddress: MAC.eth3, ...d });
    // Another process holds the lock: <lockDir>/lock.write exists.
    const held = path.join(d.lockDir, 'lock.write');
    fs.linkSync(path.join(d.lockDir, 'lock'), held);
    const other = { transport: 'cxgb4i' as const, hwaddress: MAC.eth2, ...d };
    const started = Date.now();
    await expect(createIface({ ...other, timeoutMs: 150 })).rejects.toMatchObject({ code: 'ISCSI_DB_LOCKED' });
    await expect(deleteIface(name, { ...d, timeoutMs: 150 })).rejects.toMatchObject({ code: 'ISCSI_DB_LOCKED' });
    expect(Date.now() - started).toBeLessThan(10_000); // not the default 30 s
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(createIface({ ...other, signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringContaining('database lock') });
    await expect(deleteIface(name, { ...d, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    const late = new AbortController();
    setTimeout(() => late.abort(), 100);
    await expect(deleteIface(name, { ...d, signal: late.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    for (const timeoutMs of [0, 1.5, -1, Number.NaN]) {
      await expect(createIface({ ...other, timeoutMs })).rejects.toMatchObject({ code: 'INVALID_TIMEOUT' });
      await expect(deleteIface(name, { ...d, timeoutMs })).rejects.toMatchObject({ code: 'INVALID_TIMEOUT' });
    }
    expect(ls(d.ifacesDir)).toEqual([name]);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(held)).toBe(true); // the other holder's lock is left alone
    fs.unlinkSync(held);
    expect(await deleteIface(name, { ...d, timeoutMs: 1000 })).toEqual({ deleted: true });
  });
});

describe('normaliseMac', () => {
  it('lower-cases and accepts - as separator', () => {
    expect(normaliseMac('00-0E-1E-AA-BB-CC')).toBe('00:0e:1e:aa:bb:cc');
  });
});
