// The input rules of lib/validate.ts, one by one, and the writers' own refusal of values that would add lines
// to a record file (issue 16.3 and 16.9; the fuzz of every public call is inputs-fuzz.test.ts).
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IscsiValidationError } from '../../lib/errors';
import { checkAuth, checkLun, checkSid, checkTimeoutMs, parsePortal, pathInside, validateChapSecret, validateChapUser, validateIscsiName, MAX_LUN, MAX_SID, MAX_TIMEOUT_MS } from '../../lib/validate';
import { defaultRecord } from '../../lib/iscsid/record';
import { nodeRecordPath, serializeNodeRecord } from '../../lib/iscsid/node-file';
import { formatIfaceFile, readIfaceFile } from '../../lib/files/iface-file';
import { login } from '../../lib/iscsid/login';
import { CHAP_ALGORITHM_NAMES } from '../../lib/chap-algorithms';

const refuses = (f: () => unknown, code: string) => expect(f).toThrow(expect.objectContaining({ name: 'IscsiValidationError', code }));

describe('iSCSI names (RFC 3720 §3.2.6, RFC 3722)', () => {
  it.each(['iqn.2003-01.org.example:tgt1', 'iqn.2003-01.org.example', 'iqn.2026-11.org.openiscsi:a.b-c:d', 'iqn.2003-01.org.example:Disk-1', 'iqn.2003-01.org.example:ディスク', 'eui.02004567A425678D', 'naa.52004567BA64678D', 'naa.62004567BA64678D0123456789ABCDEF'])('accepts %s', (n) => {
    expect(validateIscsiName(n)).toBe(n);
  });
  it.each([
    'iqn.2003-01.org.example:../../../../etc/x', 'iqn.2003-01.org.example:a/b', 'iqn.2003-01.org.example:a\\b', 'iqn.2003-01.org.example:a b', 'iqn.2003-01.org.example:a\nnode.startup = automatic',
    'iqn.2003-01.org.example:a\0', 'iqn.2003-01.org.example:a_b', 'iqn.2003-01.org.example:a\u00a0b', 'iqn.2003-01.org.example:\u202e', 'iqn.2003-01.org.example:a\ud800',
    'iqn.2003-13.org.x', 'iqn.03-01.org.x', 'iqn.2003-01.-org', 'eui.123', 'naa.XYZ', 'target1', '', `iqn.2003-01.org.x:${'a'.repeat(210)}`,
  ])('refuses %j', (n) => refuses(() => validateIscsiName(n), 'INVALID_IQN'));
  it('refuses what is not a string', () => {
    for (const v of [undefined, null, 5, {}, ['iqn.2003-01.org.x']]) refuses(() => validateIscsiName(v), 'INVALID_IQN');
  });
});

describe('numbers', () => {
  it('LUN: a single-level LUN as Linux numbers it, 0..65535', () => {
    expect([0, 1, 255, 16384, MAX_LUN].map((l) => checkLun(l))).toEqual([0, 1, 255, 16384, 65535]);
    expect(checkLun(undefined)).toBeUndefined();
    for (const v of [-1, 1.5, 70000, 65536, NaN, Infinity, '1', null]) refuses(() => checkLun(v), 'INVALID_LUN');
  });
  it('timeoutMs: 1..2^31-1 whole milliseconds', () => {
    expect([1, 1000, MAX_TIMEOUT_MS].map((t) => checkTimeoutMs(t))).toEqual([1, 1000, 2147483647]);
    for (const v of [-5, 0, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31, '1000', null]) refuses(() => checkTimeoutMs(v), 'INVALID_TIMEOUT');
  });
  it('sid: the kernel numbers sessions from 1; iscsid carries an int', () => {
    expect([1, MAX_SID].map((s) => checkSid(s))).toEqual([1, 2147483647]);
    for (const v of [0, -1, 1.5, 2 ** 31, 4294967295, NaN, '1', undefined]) refuses(() => checkSid(v), 'INVALID_SID');
  });
});

describe('portals', () => {
  it.each(['', '1.2.3.4:0', '1.2.3.4:65536', '[1.2.3.4]:3260', 'host name', 'a/b:3260', '../x', '1.2.3.4\n', '1.2.3.4,99999', 'fe80::1%eth0/../x', '1.2.3', '01.2.3.4'])('refuses %j', (p) =>
    refuses(() => parsePortal(p), 'INVALID_PORTAL'),
  );
  it('takes IPv6 with a zone', () => {
    expect(parsePortal('[fe80::1%eth0]:3260')).toEqual({ host: 'fe80::1%eth0', port: 3260 });
  });
});

describe('CHAP: one rule for login, discovery and connect', () => {
  const algs = CHAP_ALGORITHM_NAMES;
  it('names and secrets: no control characters, no outer white space, secrets 12..255 bytes, never echoed', () => {
    for (const u of ['u\n', ' u', 'u ', 'u\0', '\tu', 'a\u2028b', '', 'x'.repeat(256)]) refuses(() => validateChapUser(u, 'auth.username'), 'INVALID_CHAP_USER');
    for (const p of ['twelve-bytes\n', ' twelve-bytes', 'twelve-bytes ', 'short', 'x'.repeat(256), 'twelve\0bytes!']) {
      try {
        validateChapSecret(p, 'auth.password');
        throw new Error('accepted');
      } catch (e) {
        expect(e).toMatchObject({ code: 'INVALID_CHAP_SECRET' });
        expect((e as Error).message).not.toContain(p.trim().slice(0, 6));
      }
    }
    expect(validateChapUser('user name', 'u')).toBe('user name');
    expect(validateChapSecret('twelve bytes', 'p')).toBe('twelve bytes');
  });
  it('mutual CHAP needs both usernameIn and passwordIn, the one-way pair, and a secret of its own', () => {
    const one = { username: 'u', password: 'secret-secret' };
    expect(checkAuth(one, algs)).toEqual(one);
    expect(checkAuth({ ...one, usernameIn: 't', passwordIn: 'target-secret', algorithms: ['SHA256', 'MD5'] }, algs)).toEqual({ ...one, usernameIn: 't', passwordIn: 'target-secret', algorithms: ['SHA256', 'MD5'] });
    refuses(() => checkAuth({ ...one, usernameIn: 't' }, algs), 'INVALID_CHAP_USER');
    refuses(() => checkAuth({ ...one, passwordIn: 'target-secret' }, algs), 'INVALID_CHAP_USER');
    refuses(() => checkAuth({ usernameIn: 't', passwordIn: 'target-secret' }, algs), 'INVALID_CHAP_USER');
    refuses(() => checkAuth({ username: 'u', usernameIn: 't', passwordIn: 'target-secret' }, algs), 'INVALID_CHAP_SECRET');
    refuses(() => checkAuth({ ...one, usernameIn: 't', passwordIn: 'secret-secret' }, algs), 'INVALID_CHAP_SECRET');
    refuses(() => checkAuth({ ...one, password_in: 'typo' }, algs), 'INVALID_OPTION');
    for (const a of [[], ['MD4'], ['toString'], ['__proto__'], ['MD5', 'MD5'], 'MD5', [5], ['MD5', 'SHA1', 'SHA256', 'SHA3-256', 'MD5', 'SHA1']]) {
      refuses(() => checkAuth({ ...one, algorithms: a }, algs), 'INVALID_CHAP_ALGORITHM');
    }
    for (const a of [null, 'u:p', ['u', 'p'], 5]) refuses(() => checkAuth(a, algs), 'INVALID_CHAP_USER');
  });
});

describe('paths built from input stay inside their directory', () => {
  it('pathInside refuses ".", "..", "/", NUL and control characters, and anything resolving outside', () => {
    expect(pathInside('/etc/iscsi/nodes', 'iqn.2003-01.org.x:t', '192.0.2.1,3260,1', 'default')).toBe('/etc/iscsi/nodes/iqn.2003-01.org.x:t/192.0.2.1,3260,1/default');
    for (const parts of [['..'], ['.'], ['a/../../b'], ['/etc'], [''], ['a\0'], ['a\n'], ['x', '..']]) refuses(() => pathInside('/etc/iscsi/nodes', ...parts), 'PATH_ESCAPE');
  });
  it("the node record's path is proven inside nodesDir even when a name got past validation", () => {
    const r = defaultRecord();
    Object.assign(r, { name: 'iqn.2003-01.org.example:../../../../etc/x', tpgt: 1 });
    r.conn.address = '192.0.2.1';
    refuses(() => nodeRecordPath(r, '/etc/iscsi/nodes'), 'PATH_ESCAPE');
    Object.assign(r, { name: '..', tpgt: -1 });
    refuses(() => nodeRecordPath(r, '/etc/iscsi/nodes'), 'PATH_ESCAPE');
  });
  it('readIfaceFile refuses names that are not iface names (it read any file before)', async () => {
    await expect(readIfaceFile('../../../etc/passwd')).rejects.toMatchObject({ code: 'INVALID_IFACE_NAME' });
  });
});

describe('the writers refuse values that would add lines to a record', () => {
  it('node records: a CHAP name with a newline cannot inject node.startup = automatic', () => {
    const r = defaultRecord();
    r.name = 'iqn.2003-01.org.example:t';
    r.session.auth = { ...r.session.auth, authmethod: 1, username: 'u\nnode.startup = automatic', password: 'secret-secret' };
    refuses(() => serializeNodeRecord(r), 'INVALID_VALUE');
    r.session.auth.username = 'u';
    r.session.auth.password = 'secret-secret\r\nnode.startup = automatic';
    refuses(() => serializeNodeRecord(r), 'INVALID_VALUE');
    r.session.auth.password = 'secret-secret';
    expect(serializeNodeRecord(r)).toContain('node.startup = manual');
    expect(serializeNodeRecord(r).match(/^node\.startup = /gm)).toHaveLength(1);
  });
  it('iface files: no field may carry a line of its own', () => {
    refuses(() => formatIfaceFile('eth-bound', { transport: 'tcp', netdev: 'eth1\niface.ipaddress = 1.2.3.4' }), 'INVALID_VALUE');
    refuses(() => formatIfaceFile('eth-bound', { transport: 'tcp', initiatorName: 'iqn.2003-01.org.x:i\r' }), 'INVALID_VALUE');
    refuses(() => formatIfaceFile('../x', { transport: 'tcp' }), 'INVALID_IFACE_NAME');
    expect(formatIfaceFile('eth-bound', { transport: 'tcp', netdev: 'eth1' })).toContain('iface.net_ifacename = eth1\n');
  });
  it('login({ persist: true }) with a CHAP name holding a newline is refused before anything is written', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-inputs-'));
    const binding = new Proxy({}, { get: () => { throw new Error('native must not be touched'); } }) as never;
    const deps = { binding, nodesDir: path.join(dir, 'nodes'), lockDir: path.join(dir, 'lock'), iscsidConfPath: path.join(dir, 'iscsid.conf') };
    for (const auth of [{ username: 'u\nnode.startup = automatic', password: 'secret-secret' }, { username: 'u', password: 'secret-secret\nnode.startup = automatic' }]) {
      const e = await login({ target: 'iqn.2003-01.org.example:t', portal: '192.0.2.1', persist: true, auth, deps }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(IscsiValidationError);
      expect((e as Error).message).not.toContain('secret-secret');
    }
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
