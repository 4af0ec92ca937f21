// Every permission failure is an IscsiPermissionError with code PERMISSION_DENIED and what to do: EACCES/EPERM
// from the operating system, raw or as the cause of another error, mapped in one place (errors.ts) that every
// public operation goes through (on-demand.ts); login() refuses a caller iscsid would refuse before it makes a
// lock or a node record. The CLI's exit 3 for them is checked by a real non-root process (test/host/permission.host.test.ts).
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asPermissionError, fromNative, IscsiError, IscsiPermissionError, IscsiValidationError, withPermissionErrors } from '../../lib/errors';
import * as onDemand from '../../lib/on-demand';

/** An error shaped exactly as Node's fs raises it. */
const sysError = (code: 'EACCES' | 'EPERM', syscall: string, file: string) =>
  Object.assign(new Error(`${code}: ${code === 'EACCES' ? 'permission denied' : 'operation not permitted'}, ${syscall} '${file}'`), { code, errno: code === 'EACCES' ? -13 : -1, syscall, path: file });

describe('asPermissionError', () => {
  it('maps EACCES and EPERM to PERMISSION_DENIED with the errno, syscall, path and what to do', () => {
    const e = asPermissionError(sysError('EACCES', 'open', '/run/lock/iscsi/lock'), 'createIface');
    expect(e).toBeInstanceOf(IscsiPermissionError);
    expect(e).toMatchObject({ code: 'PERMISSION_DENIED', errno: 13, details: { errno: 'EACCES', syscall: 'open', path: '/run/lock/iscsi/lock' } });
    expect((e as Error).message).toMatch(/^createIface: EACCES: permission denied, open '\/run\/lock\/iscsi\/lock'\. run as root/);
    expect(asPermissionError(sysError('EPERM', 'write', '/sys/class/scsi_device/1:0:0:1/device/delete'))).toMatchObject({ code: 'PERMISSION_DENIED', errno: 1, details: { errno: 'EPERM', syscall: 'write' } });
  });

  it('finds EACCES in the cause chain of another error (an iface that could not be read for lack of privilege)', () => {
    const wrapped = new IscsiValidationError('IFACE_NOT_FOUND', 'iface x cannot be read', { cause: new IscsiError('USR_BUG', 'x', { cause: sysError('EACCES', 'scandir', '/etc/iscsi/ifaces') }) });
    expect(asPermissionError(wrapped)).toMatchObject({ name: 'IscsiPermissionError', code: 'PERMISSION_DENIED', details: { path: '/etc/iscsi/ifaces' } });
  });

  it('leaves every other error alone, and an IscsiPermissionError as it is', () => {
    const other = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    expect(asPermissionError(other)).toBe(other);
    const v = new IscsiValidationError('INVALID_IQN', 'bad');
    expect(asPermissionError(v)).toBe(v);
    const p = new IscsiPermissionError('ISCSID_ERR_ACCESS', 'iscsid said no');
    expect(asPermissionError(p)).toBe(p);
    expect(asPermissionError('a string')).toBe('a string');
  });

  it('fromNative maps an addon error with code EACCES or EPERM the same way', () => {
    const n = Object.assign(new Error('flock: Permission denied'), { code: 'EACCES', errno: 13 });
    expect(fromNative(n, 'locking')).toMatchObject({ name: 'IscsiPermissionError', code: 'PERMISSION_DENIED', details: { errno: 'EACCES' } });
  });

  it('withPermissionErrors maps what the operation throws', async () => {
    await expect(withPermissionErrors('deleteIface', async () => { throw sysError('EACCES', 'unlink', '/etc/iscsi/ifaces/x'); })).rejects.toMatchObject({ name: 'IscsiPermissionError', code: 'PERMISSION_DENIED' });
    await expect(withPermissionErrors('x', async () => 7)).resolves.toBe(7);
  });
});

describe('the public operations', () => {
  it('login() as a caller other than root is PERMISSION_DENIED before any lock or node record is made', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-perm-'));
    const lockDir = path.join(dir, 'lock');
    const nodesDir = path.join(dir, 'nodes');
    try {
      const binding = { buildRequest: () => { throw new Error('nothing may be sent'); }, ipcRequest: () => { throw new Error('nothing may be sent'); }, getIface: async () => Promise.reject(new Error('x')), getSessions: async () => ({ sessions: [], sysfsSessionIds: [] }), getSession: async () => Promise.reject(new Error('x')) };
      const e = await onDemand
        .login({ target: 'iqn.2026-11.org.example:perm', portal: '192.0.2.1', abi: '2.1.8', persist: true, deps: { binding: binding as never, euid: 1000, lockDir, nodesDir, iscsidConfPath: '/nonexistent' } })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(IscsiPermissionError);
      expect(e).toMatchObject({ code: 'PERMISSION_DENIED', details: { euid: 1000 } });
      expect((e as Error).message).toMatch(/run as root/);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
