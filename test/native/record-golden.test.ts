// The record builder produces, byte for byte, the LOGIN requests the real iscsiadm 2.1.8 sent
// (test/fixtures/ipc, captured on Debian 12; bytes 16..31 are pointers iscsid ignores, zero in both).
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../../lib/native';
import { applyConf, applyIface, applyOptions, defaultRecord, type LoginRecord } from '../../lib/record';
import { parseConf } from '../../lib/config';
import { IPC_COMMAND } from '../../lib/ipc';

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
    expect(['2.0.874', '2.0.875', '2.1.1', '2.1.11'].map((f) => native().requestSize(f))).toEqual([16080, 16088, 16104, 16112]);
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
    expect(() => native().buildRequest('2.1.12', 1, 0)).toThrow(TypeError);
    expect(() => native().buildRequest('2.1.1', 11, 0)).toThrow(TypeError);
  });
});
