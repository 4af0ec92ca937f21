// The record builder produces, byte for byte, the LOGIN requests real iscsiadm builds sent (test/fixtures/ipc:
// 2.1.8 captured on Debian 12; 2.1.11 and 2.1.13 in the lab; bytes 16..31 are pointers iscsid ignores, zero in all).
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../../lib/native';
import { applyConf, applyIface, applyOptions, defaultRecord, type LoginRecord } from '../../lib/iscsid/record';
import { parseConf } from '../../lib/iscsid/config';
import { IPC_COMMAND } from '../../lib/iscsid/ipc';
import { ABI_FAMILIES } from '../../lib/iscsid/version';

const fixtures = path.resolve(__dirname, '../fixtures');
const conf = parseConf(fs.readFileSync(path.join(fixtures, 'etc-iscsi/iscsid.conf'), 'utf8'), 'iscsid.conf');

function record(tpgt: number, iface: Parameters<typeof applyIface>[1]): LoginRecord {
  const r = defaultRecord();
  applyConf(r, conf);
  applyIface(r, iface);
  r.name = 'iqn.2003-01.org.example:tgt1';
  r.tpgt = tpgt;
  r.conn.address = '192.0.2.10';
  r.conn.port = 3260;
  return r;
}

function diff(a: Buffer, b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

describe('LOGIN request builder (open-iscsi 2.1.8 layout)', () => {
  it('matches the captured request for the built-in default iface, tpgt -1', () => {
    const golden = fs.readFileSync(path.join(fixtures, 'ipc/login_req_default_iface.bin'));
    const built = native().buildRequest('2.1.1', IPC_COMMAND.SESSION_LOGIN, 0, record(-1, { name: 'default', transport: 'tcp' }));
    expect(built.length).toBe(16104);
    expect(diff(built, golden)).toEqual([]);
  });

  it('matches the captured request for an iface bound to eth1 with its own initiator name, tpgt 1', () => {
    const golden = fs.readFileSync(path.join(fixtures, 'ipc/login_req_eth-bound_iface.bin'));
    const r = record(1, { name: 'eth-bound', transport: 'tcp', netdev: 'eth1', initiatorName: 'iqn.2024-01.org.example:custom' });
    expect(diff(native().buildRequest('2.1.1', IPC_COMMAND.SESSION_LOGIN, 0, r), golden)).toEqual([]);
  });

  // Captured in the lab (test/lab/releases.lab.test.ts, OPENISCSI_LAB_SAVE_CAPTURES): that release's own
  // iscsiadm, chrooted, logging in to a node its sendtargets discovery made (tpgt 1, 127.0.0.1:3260).
  it.each([
    ['Debian 13 trixie, open-iscsi 2.1.11-1+deb13u2', 'login_req_trixie_2.1.11.bin', '2.1.11'],
    ['Debian sid, open-iscsi 2.1.13-1', 'login_req_sid_2.1.13.bin', '2.1.13'],
    ['Debian 11 bullseye, open-iscsi 2.1.3-5', 'login_req_bullseye_2.1.3.bin', '2.1.1'],
  ] as const)('matches the request %s\'s iscsiadm sent', (_release, file, family) => {
    const golden = fs.readFileSync(path.join(fixtures, 'ipc', file));
    const r = record(1, { name: 'default', transport: 'tcp' });
    Object.assign(r, { name: 'iqn.2026-11.org.openiscsi:releases.golden', discType: 0, discAddress: '127.0.0.1', discPort: 3260 });
    r.conn.address = '127.0.0.1';
    const built = native().buildRequest(family, IPC_COMMAND.SESSION_LOGIN, 0, r);
    expect(golden.length).toBe(native().requestSize(family));
    expect(diff(built, golden)).toEqual([]);
  });

  it('a changed option lands at its offset and nowhere else', () => {
    const golden = fs.readFileSync(path.join(fixtures, 'ipc/login_req_default_iface.bin'));
    const r = record(-1, { name: 'default', transport: 'tcp' });
    applyOptions(r, { 'node.session.timeo.replacement_timeout': 5 });
    // rec at 16, session at rec+288, timeo.replacement_timeout at session+1088
    expect(diff(native().buildRequest('2.1.1', 1, 0, r), golden)).toEqual([16 + 288 + 1088]);
  });

  it('CHAP credentials go where iscsid reads them, with their lengths', () => {
    const r = record(-1, { name: 'default', transport: 'tcp' });
    r.session.auth = { authmethod: 1, username: 'alice', password: 'secret-12345', usernameIn: 'tgt', passwordIn: 'mutual-secret', chapAlgs: [7, 5] };
    const b = native().buildRequest('2.1.1', 1, 0, r);
    const auth = 16 + 288 + 32;
    expect(b.readUInt32LE(auth)).toBe(1);
    expect(b.toString('latin1', auth + 4, auth + 9)).toBe('alice');
    expect(b.toString('latin1', auth + 260, auth + 272)).toBe('secret-12345');
    expect(b.readUInt32LE(auth + 516)).toBe(12);
    expect(b.readUInt32LE(auth + 1032)).toBe(13);
    expect([0, 1, 2].map((i) => b.readUInt32LE(auth + 1036 + 4 * i))).toEqual([7, 5, 0xffffffff]);
  });

  it('has the measured request size for every mirrored family', () => {
    expect(ABI_FAMILIES.map((f) => native().requestSize(f))).toEqual([16080, 16088, 16088, 16104, 16112, 16128, 16136]);
  });

  // Offsets measured by compiling each release tag's own headers (offsetof); rec starts at byte 16.
  it.each([
    // family,      conn, iface, auth.username, replacement_timeout, login_timeout, transport_name, iname
    ['2.0.874', 2208, 3304, 32, 1064, 1044, 11186, 11458],
    ['2.0.875', 2216, 3312, 36, 1068, 1044, 11186, 11458],
    ['2.0.876', 2216, 3312, 36, 1068, 1044, 11190, 11462],
    ['2.1.1', 2232, 3328, 36, 1088, 1044, 11190, 11462],
    ['2.1.11', 2240, 3336, 36, 1088, 1044, 11190, 11462],
    ['2.1.12', 2240, 3352, 36, 1088, 1060, 11190, 11462],
    ['2.1.13', 2248, 3360, 40, 1092, 1060, 11190, 11462],
  ] as const)('%s puts what iscsid reads at that release\'s offsets', (family, conn, iface, user, repl, login, transport, iname) => {
    const r = record(1, { name: 'eth-bound', transport: 'tcp', netdev: 'eth1', initiatorName: 'iqn.2024-01.org.example:custom' });
    r.session.auth = { ...r.session.auth, authmethod: 1, username: 'alice', password: 'secret-12345' };
    r.session.replacementTimeout = 77;
    r.conn.loginTimeout = 9;
    r.discType = 0; // sendtargets: every family numbers it alike
    const b = native().buildRequest(family, 1, 0, r);
    const rec = 16;
    const str = (at: number, n: number) => b.toString('latin1', rec + at, rec + at + n);
    expect(str(16, 28)).toBe('iqn.2003-01.org.example:tgt1');
    expect(b.readInt32LE(rec + 272)).toBe(1);
    expect(str(288 + user, 5)).toBe('alice');
    expect(b.readInt32LE(rec + 288 + repl)).toBe(77);
    expect(str(conn + 4, 10)).toBe('192.0.2.10');
    expect(b.readInt32LE(rec + conn + 1032)).toBe(3260);
    expect(b.readInt32LE(rec + conn + login)).toBe(9);
    expect(str(iface + 16, 10)).toBe('eth-bound\0');
    expect(str(iface + 88, 5)).toBe('eth1\0');
    expect(str(iface + transport, 4)).toBe('tcp\0');
    expect(str(iface + iname, 30)).toBe('iqn.2024-01.org.example:custom');
  });

  it('2.1.11 carries the reconnect log frequency; 2.1.12 the TCP congestion control; 2.1.13 the redirect limit', () => {
    const r = { ...record(-1, { name: 'default', transport: 'tcp' }), discType: 0 };
    r.session.connReopenLogFreq = 5;
    expect(native().buildRequest('2.1.11', 1, 0, r).readInt32LE(16 + 288 + 1944)).toBe(5);
    r.conn.congestionControl = 'bbr';
    expect(native().buildRequest('2.1.12', 1, 0, r).toString('latin1', 16 + 2240 + 1044, 16 + 2240 + 1048)).toBe('bbr\0');
    r.session.loginRedirectMax = 3;
    const b = native().buildRequest('2.1.13', 1, 0, r);
    // session at rec+288: initial_login_retry_max at 20, login_redirect_max at 24, nr_sessions at 28; log_freq at 1952
    expect([20, 24, 28].map((at) => b.readInt32LE(16 + 288 + at))).toEqual([8, 3, 1]);
    expect(b.readInt32LE(16 + 288 + 1952)).toBe(5);
    expect(b.toString('latin1', 16 + 2248 + 1044, 16 + 2248 + 1048)).toBe('bbr\0');
  });

  it('never sends a renumbered discovery type (static, firmware) from 2.1.11 on', () => {
    const r = record(-1, { name: 'default', transport: 'tcp' });
    expect(r.discType).toBe(4);
    expect(native().buildRequest('2.1.1', 1, 0, r).readInt32LE(16 + 15048)).toBe(4); // as iscsiadm 2.1.8 sent it
    for (const f of ['2.1.11', '2.1.12', '2.1.13'] as const) {
      for (const t of [3, 4, 5, -1]) expect(() => native().buildRequest(f, 1, 0, { ...r, discType: t })).toThrow(/discType cannot be expressed/);
      expect(native().buildRequest(f, 1, 0, { ...r, discType: 2 }).length).toBe(native().requestSize(f));
    }
  });

  it('refuses what a family has no room for instead of dropping it', () => {
    const base = () => record(-1, { name: 'default', transport: 'tcp' });
    const r1 = base();
    r1.conn.congestionControl = 'bbr';
    expect(() => native().buildRequest('2.1.1', 1, 0, r1)).toThrow(/congestionControl cannot be expressed in the open-iscsi 2\.1\.1 request layout/);
    const r2 = base();
    r2.session.auth.chapAlgs = [7, 5];
    expect(() => native().buildRequest('2.0.876', 1, 0, r2)).toThrow(/chapAlgs cannot be expressed/);
    expect(() => native().buildRequest('2.1.1', 1, 0, r2)).not.toThrow();
    const r3 = base();
    r3.session.scan = 0;
    expect(() => native().buildRequest('2.0.874', 1, 0, r3)).toThrow(/scan cannot be expressed/);
    const r4 = base();
    r4.session.connReopenLogFreq = 5;
    expect(() => native().buildRequest('2.1.1', 1, 0, r4)).toThrow(TypeError);
    const r5 = base();
    r5.iface.prefixLen = 24;
    expect(() => native().buildRequest('2.0.875', 1, 0, r5)).toThrow(/prefixLen cannot be expressed/);
    expect(native().buildRequest('2.0.876', 1, 0, r5).readUInt8(16 + 3312 + 8384)).toBe(24);
  });

  it('refuses strings that do not fit their C buffers instead of truncating, without echoing them', () => {
    const r = record(-1, { name: 'default', transport: 'tcp' });
    r.session.auth.password = 'p'.repeat(256);
    expect(() => native().buildRequest('2.1.1', 1, 0, r)).toThrow(/record\.session\.auth\.password is 256 bytes; at most 255 fit/);
    r.session.auth.password = '';
    r.name = 'x'.repeat(255);
    expect(() => native().buildRequest('2.1.1', 1, 0, r)).toThrow(TypeError);
  });

  it('rejects missing fields, bad families and IMMEDIATE_STOP with TypeError', () => {
    const r = record(-1, { name: 'default', transport: 'tcp' }) as Partial<LoginRecord>;
    delete r.conn;
    expect(() => native().buildRequest('2.1.1', 1, 0, r)).toThrow(/record\.conn is required/);
    expect(() => native().buildRequest('2.1.14', 1, 0)).toThrow(TypeError);
    expect(() => native().buildRequest('2.1.11-git', 1, 0)).toThrow(TypeError); // now "2.1.12"
    const r6 = record(-1, { name: 'default', transport: 'tcp' });
    r6.session.loginRedirectMax = 3;
    expect(() => native().buildRequest('2.1.12', 1, 0, { ...r6, discType: 0 })).toThrow(/loginRedirectMax cannot be expressed/);
    expect(() => native().buildRequest('2.1.8', 1, 0)).toThrow(TypeError); // families go by their first release
    expect(() => native().buildRequest('2.1.1', 11, 0)).toThrow(TypeError);
  });
});
