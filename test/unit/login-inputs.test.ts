// Everything login() decides before talking to iscsid: validation, options, config (iscsid errors and version
// detection have their own files).
import { describe, expect, it } from 'vitest';
import { IscsiValidationError } from '../../lib/errors';
import { parsePortal, validateChapSecret, validateIscsiName } from '../../lib/validate';
import { applyOptions, checkRecordFitsFamily, defaultRecord, wireDiscType } from '../../lib/iscsid/record';
import { iscsidRequest } from '../../lib/iscsid/ipc';
import { login } from '../../lib/iscsid/login';

describe('validation', () => {
  it.each(['iqn.2003-01.org.example:tgt1', 'iqn.2026-11.org.openiscsi', 'eui.02004567A425678D', 'naa.52004567BA64678D', 'naa.62004567BA64678D0123456789ABCDEF'])('accepts %s', (n) => {
    expect(validateIscsiName(n)).toBe(n);
  });
  it.each(['', 'iqn.2003-13.org.x', 'iqn.03-01.org.x', 'eui.123', 'naa.XYZ', 'target1', 'iqn.2003-01.org.example:a b', `iqn.2003-01.org.x:${'a'.repeat(220)}`])('rejects %j', (n) => {
    expect(() => validateIscsiName(n)).toThrow(IscsiValidationError);
  });
  it('parses portals', () => {
    expect(parsePortal('192.0.2.1')).toEqual({ host: '192.0.2.1', port: 3260 });
    expect(parsePortal('192.0.2.1:3261,2')).toEqual({ host: '192.0.2.1', port: 3261, tpgt: 2 });
    expect(parsePortal('[2001:db8::1]:3260')).toEqual({ host: '2001:db8::1', port: 3260 });
    expect(parsePortal('2001:db8::1')).toEqual({ host: '2001:db8::1', port: 3260 });
    expect(parsePortal('san.example.com:3260')).toEqual({ host: 'san.example.com', port: 3260 });
  });
  it.each(['', '1.2.3.4:0', '1.2.3.4:65536', '[1.2.3.4]:3260', '[zz::1]:3260', 'host name', 'a/b:3260', '1.2.3.4:32a', '1.2.3.4,99999'])('rejects portal %j', (p) => {
    expect(() => parsePortal(p)).toThrow(IscsiValidationError);
  });
  it('checks CHAP secret length without echoing the secret', () => {
    expect(() => validateChapSecret('short-pw', 'auth.password')).toThrow(/12 to 255 bytes/);
    try {
      validateChapSecret('x'.repeat(256), 'auth.password');
    } catch (e) {
      expect((e as Error).message).not.toContain('xxxx');
    }
    expect(validateChapSecret('twelve-bytes', 'p')).toBe('twelve-bytes');
  });
  it('refuses, before the addon is asked, options the running family has no room for', () => {
    const r = defaultRecord();
    applyOptions(r, { 'node.conn[0].tcp.congestion_control': 'bbr', 'node.session.conn_reopen_log_freq': 4 });
    expect(() => checkRecordFitsFamily(r, '2.1.1')).toThrow(expect.objectContaining({ code: 'OPTION_NOT_SUPPORTED', details: { family: '2.1.1', key: 'node.session.conn_reopen_log_freq' } }));
    expect(() => checkRecordFitsFamily(r, '2.1.11')).toThrow(/tcp\.congestion_control/);
    expect(() => checkRecordFitsFamily(r, '2.1.12')).not.toThrow();
    expect(() => checkRecordFitsFamily(r, '2.1.13')).not.toThrow();
    const redirect = defaultRecord();
    applyOptions(redirect, { 'node.session.login_redirect_max': 2 });
    expect(() => checkRecordFitsFamily(redirect, '2.1.12')).toThrow(expect.objectContaining({ code: 'OPTION_NOT_SUPPORTED', details: { family: '2.1.12', key: 'node.session.login_redirect_max' } }));
    expect(() => checkRecordFitsFamily(redirect, '2.1.13')).not.toThrow();
    const old = defaultRecord();
    applyOptions(old, { 'node.session.auth.chap_algs': 'SHA256,MD5' });
    expect(() => checkRecordFitsFamily(old, '2.0.876')).toThrow(IscsiValidationError);
    expect(() => checkRecordFitsFamily(defaultRecord(), '2.0.874')).not.toThrow();
    expect(() => applyOptions(defaultRecord(), { 'node.conn[0].tcp.congestion_control': 'bbr; rm' })).toThrow(/congestion control name/);
  });
  it('never sends a renumbered discovery type: static goes as sendtargets from 2.1.11 on, firmware and SLP are refused', async () => {
    expect(wireDiscType(4, '2.1.1')).toBe(4);
    expect(wireDiscType(5, '2.1.1')).toBe(5);
    for (const f of ['2.1.11', '2.1.12', '2.1.13'] as const) {
      expect(wireDiscType(0, f)).toBe(0);
      expect(wireDiscType(2, f)).toBe(2);
      expect(wireDiscType(4, f)).toBe(0);
      expect(() => wireDiscType(5, f)).toThrow(expect.objectContaining({ name: 'IscsiUnsupportedError', code: 'DISCOVERY_TYPE_RENUMBERED', details: { family: f, discType: 5 } }));
      expect(() => wireDiscType(3, f)).toThrow(expect.objectContaining({ code: 'DISCOVERY_TYPE_RENUMBERED' }));
      expect(() => checkRecordFitsFamily({ ...defaultRecord(), discType: 5 }, f)).toThrow(expect.objectContaining({ code: 'DISCOVERY_TYPE_RENUMBERED' }));
    }
    // what reaches the addon: the request carries 0, the caller's record still says static
    const sent: unknown[] = [];
    const binding = {
      buildRequest: (_f: string, _c: number, _s: number, rec?: unknown) => (sent.push(rec), Buffer.alloc(8)),
      ipcRequest: () => ({ promise: Promise.resolve({ command: 1, err: 0 } as never), cancel: () => {} }),
    };
    const record = defaultRecord();
    await iscsidRequest('SESSION_LOGIN', { family: '2.1.11', record, timeoutMs: 1000, binding });
    await iscsidRequest('SESSION_LOGIN', { family: '2.1.1', record, timeoutMs: 1000, binding });
    expect(sent.map((r) => (r as { discType: number }).discType)).toEqual([0, 4]);
    expect(record.discType).toBe(4);
    await expect(iscsidRequest('SESSION_LOGIN', { family: '2.1.13', record: { ...record, discType: 5 }, timeoutMs: 1000, binding })).rejects.toMatchObject({ code: 'DISCOVERY_TYPE_RENUMBERED' });
    expect(sent).toHaveLength(2);
  });
  it('rejects unknown and malformed options', () => {
    expect(() => applyOptions(defaultRecord(), { 'node.nope': 1 })).toThrow(/unknown login option/);
    expect(() => applyOptions(defaultRecord(), { 'node.session.scan': 'sometimes' })).toThrow(/manual, auto/);
    const r = defaultRecord();
    applyOptions(r, { 'node.session.iscsi.ImmediateData': false, 'node.conn[0].iscsi.HeaderDigest': 'CRC32C' });
    expect([r.session.iscsi.ImmediateData, r.conn.HeaderDigest]).toEqual([0, 1]);
  });
  it('login() rejects bad input before reading anything or contacting iscsid', async () => {
    const binding = new Proxy({}, { get: () => { throw new Error('native must not be touched'); } }) as never;
    for (const [o, code] of [
      [{ target: 'bad', portal: '1.2.3.4' }, 'INVALID_IQN'],
      [{ target: 'iqn.2003-01.org.x:t', portal: '1.2.3.4:0' }, 'INVALID_PORTAL'],
      [{ target: 'iqn.2003-01.org.x:t', portal: '1.2.3.4', iface: 'a/b' }, 'INVALID_IFACE_NAME'],
      [{ target: 'iqn.2003-01.org.x:t', portal: '1.2.3.4', auth: { username: 'u', password: 'p' } }, 'INVALID_CHAP_SECRET'],
      [{ target: 'iqn.2003-01.org.x:t', portal: '1.2.3.4', auth: { username: 'u', password: 'password-long', usernameIn: 'x' } }, 'INVALID_CHAP_USER'],
      [{ target: 'iqn.2003-01.org.x:t', portal: '1.2.3.4', timeoutMs: 0 }, 'INVALID_TIMEOUT'],
      [{ target: 'iqn.2003-01.org.x:t', portal: '1.2.3.4', timeoutMs: 2.5 }, 'INVALID_TIMEOUT'],
    ] as const) {
      await expect(login({ ...o, deps: { binding, iscsidConfPath: '/nonexistent' } })).rejects.toMatchObject({ code });
    }
  });
});
