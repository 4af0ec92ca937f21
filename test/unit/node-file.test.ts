// persist: true writes exactly what iscsiadm 2.1.8 wrote for the same record (fixtures), under its lock.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConf } from '../../lib/iscsid/config';
import { applyConf, applyIface, defaultRecord } from '../../lib/iscsid/record';
import { nodeRecordPath, serializeNodeRecord, writeNodeRecord } from '../../lib/iscsid/node-file';
import { withIscsiDbLock } from '../../lib/files/db-lock';

const fixtures = path.resolve(__dirname, '../fixtures/etc-iscsi');
const conf = parseConf(fs.readFileSync(path.join(fixtures, 'iscsid.conf'), 'utf8'), 'iscsid.conf');

function record(tpgt: number, iface: Parameters<typeof applyIface>[1]) {
  const r = defaultRecord();
  applyConf(r, conf);
  applyIface(r, iface);
  Object.assign(r, { name: 'iqn.2003-01.org.example:tgt1', tpgt });
  r.conn.address = '192.0.2.10';
  return r;
}

describe('node records in iscsiadm format', () => {
  it('serialises like iscsiadm 2.1.8 (old-style record, default iface)', () => {
    expect(serializeNodeRecord(record(-1, { name: 'default', transport: 'tcp' }))).toBe(fs.readFileSync(path.join(fixtures, 'node_record_oldstyle.txt'), 'utf8'));
  });

  it('serialises like iscsiadm 2.1.8 (tpgt 1, iface bound to eth1 with its own initiator name)', () => {
    const r = record(1, { name: 'eth-bound', transport: 'tcp', netdev: 'eth1', initiatorName: 'iqn.2024-01.org.example:custom' });
    expect(serializeNodeRecord(r)).toBe(fs.readFileSync(path.join(fixtures, 'node_record_eth-bound.txt'), 'utf8'));
  });

  it('places records where iscsiadm does', () => {
    expect(nodeRecordPath(record(-1, { name: 'default', transport: 'tcp' }), '/n')).toBe('/n/iqn.2003-01.org.example:tgt1/192.0.2.10,3260');
    expect(nodeRecordPath(record(1, { name: 'eth-bound', transport: 'tcp' }), '/n')).toBe('/n/iqn.2003-01.org.example:tgt1/192.0.2.10,3260,1/eth-bound');
  });

  it('writes atomically with mode 0600 and releases the lock', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-nodes-'));
    const r = record(1, { name: 'default', transport: 'tcp' });
    r.session.auth = { ...r.session.auth, authmethod: 1, username: 'u', password: 'secret-123456' };
    const file = await writeNodeRecord(r, { nodesDir: path.join(dir, 'nodes'), lockDir: path.join(dir, 'lock') });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^node.session.auth.authmethod = CHAP\nnode.session.auth.username = u\nnode.session.auth.password = secret-123456$/m);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['default']);
    expect(fs.existsSync(path.join(dir, 'lock', 'lock.write'))).toBe(false);
  });

  it('waits for a lock held by someone else and times out with ISCSI_DB_LOCKED', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-lock-'));
    fs.writeFileSync(path.join(dir, 'lock'), '');
    fs.linkSync(path.join(dir, 'lock'), path.join(dir, 'lock.write'));
    await expect(withIscsiDbLock(async () => 1, { lockDir: dir, timeoutMs: 100 })).rejects.toMatchObject({ code: 'ISCSI_DB_LOCKED' });
    setTimeout(() => fs.unlinkSync(path.join(dir, 'lock.write')), 50);
    await expect(withIscsiDbLock(async () => 2, { lockDir: dir, timeoutMs: 2000 })).resolves.toBe(2);
  });

  it("a record write (login's persist) gives up at its deadline or on abort, writing nothing", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-lock-'));
    const lockDir = path.join(dir, 'lock');
    const nodesDir = path.join(dir, 'nodes');
    fs.mkdirSync(lockDir);
    fs.writeFileSync(path.join(lockDir, 'lock'), '');
    fs.linkSync(path.join(lockDir, 'lock'), path.join(lockDir, 'lock.write'));
    const r = record(1, { name: 'default', transport: 'tcp' });
    await expect(writeNodeRecord(r, { nodesDir, lockDir, timeoutMs: 100 })).rejects.toMatchObject({ code: 'ISCSI_DB_LOCKED' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(writeNodeRecord(r, { nodesDir, lockDir, signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(fs.existsSync(nodesDir)).toBe(false);
  });
});
