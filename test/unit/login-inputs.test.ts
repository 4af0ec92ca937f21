// Everything login() decides before talking to iscsid: error table, validation, version, config.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ISCSID_ERRORS, iscsidError, isAuthRelated, isTransportRelated } from '../../lib/iscsid-errors';
import { IscsiPermissionError, IscsiTimeoutError, IscsiUnsupportedError, IscsiValidationError } from '../../lib/errors';
import { parsePortal, validateChapSecret, validateIscsiName } from '../../lib/validate';
import { detectIscsidVersion, familyOf, requireVerifiedFamily } from '../../lib/version';
import { parseConf, readIscsidConf } from '../../lib/config';
import { applyOptions, defaultRecord } from '../../lib/record';
import { login } from '../../lib/login';

describe('iscsid error table', () => {
  it('covers every code 0..33 with a stable ISCSID_ERR_ code and the errno', () => {
    expect(ISCSID_ERRORS.map((e) => e.errno)).toEqual(Array.from({ length: 34 }, (_, i) => i));
    for (const info of ISCSID_ERRORS.slice(1)) {
      const err = iscsidError(info.errno, 'SESSION_LOGIN');
      expect(err.code).toBe(`ISCSID_ERR_${info.name}`);
      expect(err.errno).toBe(info.errno);
      expect(err.message).toContain(info.text);
    }
    expect(iscsidError(99, 'x').code).toBe('ISCSID_ERR_UNKNOWN');
  });

  it('classifies: auth never falls back, transport/hardware errors may', () => {
    expect(isAuthRelated(iscsidError(24, 'x'))).toBe(true);
    expect(isTransportRelated(iscsidError(24, 'x'))).toBe(false);
    for (const n of [4, 8, 11, 12, 14, 23]) expect(isTransportRelated(iscsidError(n, 'x')), String(n)).toBe(true);
    for (const n of [2, 13, 15, 19, 24]) expect(isTransportRelated(iscsidError(n, 'x')), String(n)).toBe(false);
    expect(iscsidError(13, 'x')).toBeInstanceOf(IscsiPermissionError);
    expect(iscsidError(33, 'x')).toBeInstanceOf(IscsiTimeoutError);
    expect(iscsidError(12, 'x')).toBeInstanceOf(IscsiUnsupportedError);
  });
});

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
    ] as const) {
      await expect(login({ ...o, deps: { binding, iscsidConfPath: '/nonexistent' } })).rejects.toMatchObject({ code });
    }
  });
});

describe('iscsid version detection, no spawning', () => {
  const proc = (comm: string, exeBody: string) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-proc-'));
    fs.mkdirSync(path.join(root, '1234'));
    fs.writeFileSync(path.join(root, '1234', 'comm'), `${comm}\n`);
    fs.writeFileSync(path.join(root, '1234', 'exe'), exeBody);
    fs.mkdirSync(path.join(root, 'self'));
    return root;
  };
  const noDpkg = '/nonexistent/status';

  it('reads the version embedded in the running iscsid executable', async () => {
    const v = await detectIscsidVersion({ procRoot: proc('iscsid', '\0\0# BEGIN RECORD 2.1.8\0...'), dpkgStatusPath: noDpkg });
    expect(v).toEqual({ version: '2.1.8', family: '2.1.1', source: 'process', pid: 1234 });
  });

  it('falls back to the dpkg database', async () => {
    const status = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-dpkg-')), 'status');
    fs.writeFileSync(status, 'Package: open-iscsi\nStatus: install ok installed\nVersion: 2.1.8-1+deb12u1\n\nPackage: x\n');
    expect(await detectIscsidVersion({ procRoot: proc('sshd', ''), dpkgStatusPath: status })).toEqual({ version: '2.1.8', family: '2.1.1', source: 'dpkg' });
  });

  it('maps versions to families', () => {
    expect(['2.0.873', '2.0.874', '2.0.877', '2.1.0', '2.1.1', '2.1.10', '2.1.11', '2.1.12'].map(familyOf)).toEqual([
      undefined, '2.0.874', '2.0.875', '2.0.875', '2.1.1', '2.1.1', '2.1.11', undefined,
    ]);
  });

  it('refuses unverified and unknown layouts, naming the version; an override is honoured', async () => {
    await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 2.1.11'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({ code: 'ISCSID_ABI_UNSUPPORTED', details: { version: '2.1.11' } });
    await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 2.2.0'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({ code: 'ISCSID_ABI_UNSUPPORTED', message: expect.stringContaining('2.2.0') });
    await expect(requireVerifiedFamily({ procRoot: proc('sshd', ''), dpkgStatusPath: noDpkg })).rejects.toMatchObject({ code: 'ISCSID_VERSION_UNKNOWN' });
    await expect(requireVerifiedFamily({ abi: '2.1.11' })).resolves.toMatchObject({ family: '2.1.11' });
  });
});

describe('iscsid.conf', () => {
  it('names file and line on a parse error', () => {
    expect(() => parseConf('a = 1\nthis is wrong\n', '/etc/iscsi/iscsid.conf')).toThrow('/etc/iscsi/iscsid.conf:2: expected "key = value"');
  });
  it('parses the installed Debian iscsid.conf (test/setup.sh installs open-iscsi)', async () => {
    expect((await readIscsidConf()).get('node.session.initial_login_retry_max')).toMatch(/^\d+$/);
  });
  it('treats a missing iscsid.conf as "no overrides"', async () => {
    expect((await readIscsidConf('/nonexistent/iscsid.conf')).size).toBe(0);
  });
});
