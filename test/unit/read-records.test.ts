// What the read path decides without native code: which record files libopeniscsiusr would refuse, how
// native errors map to classes, and the wait for open-iscsi's database lock.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkRecord, parseRecordFile, recordLines } from '../../lib/files/record-file';
import { fromNative, IscsiAbortError, IscsiError, IscsiPermissionError, IscsiTimeoutError } from '../../lib/errors';
import { afterDbUnlock } from '../../lib/files/db-lock';
import { ifaces } from '../../lib/read/ifaces';
import { nodes } from '../../lib/read/nodes';

const fixture = fs.readFileSync(path.resolve(__dirname, '../fixtures/etc-iscsi/node_record_eth-bound.txt'), 'utf8');
const ifaceFixture = fs.readFileSync(path.resolve(__dirname, '../fixtures/etc-iscsi/iface_eth-bound.txt'), 'utf8');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-read-records-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('record files', () => {
  it('reads key = value lines as libopeniscsiusr does: comments, blanks, empty values and key-less lines skipped', () => {
    expect(recordLines('# BEGIN RECORD 2.1.8\n  node.name =  iqn.x  \n\nnode.tpgt=1\nbad key = 1\nnode.startup =\n= v\n')).toEqual([
      ['node.name', 'iqn.x'],
      ['node.tpgt', '1'],
    ]);
    expect(parseRecordFile('a = 1\na = 2\n').get('a')).toBe('2');
  });

  it('accepts what iscsiadm 2.1.8 writes', () => {
    expect(checkRecord(fixture, 'node', 'eth-bound')).toBeUndefined();
    expect(checkRecord(ifaceFixture, 'iface', 'eth-bound')).toBeUndefined();
  });

  it.each([
    ['node.session.sess_reopen_log_freq = 5', { key: 'node.session.sess_reopen_log_freq', reason: 'unknown key' }],
    ['node.startup = sometimes', { key: 'node.startup', value: 'sometimes', reason: 'unknown value' }],
    ['node.session.iscsi.ImmediateData = yes', { key: 'node.session.iscsi.ImmediateData', reason: 'unknown value' }],
    ['node.conn[0].iscsi.HeaderDigest = CRC32C,None', undefined],
    ['node.conn[0].iscsi.HeaderDigest = CRC32', { key: 'node.conn[0].iscsi.HeaderDigest', reason: 'unknown value' }],
    ['node.discovery_type = sendtargets', { key: 'node.discovery_type', reason: 'unknown value' }],
    ['node.session.auth.chap_algs = MD5,SHA1,NOPE', undefined], // an unknown list item is only a warning
    ['node.session.timeo.replacement_timeout = not-a-number', undefined], // numbers are strtoul'd, never refused
    ['node.boot_lun = 1', { key: 'node.boot_lun', reason: 'unknown key' }], // defined by open-iscsi, not read by 2.1.8
    ['iface.ipv6_autocfg = nd', { key: 'iface.ipv6_autocfg', reason: 'unknown key' }],
  ])('a node file with "%s"', (line, expected) => {
    const problem = checkRecord(`${fixture}${line}\n`, 'node', 'default');
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatchObject(expected);
  });

  it('IPv6-only iface keys only in an iface whose name contains "ipv6", IPv4-only keys only in the others', () => {
    const v6 = 'iface.transport_name = qla4xxx\niface.ipv6_autocfg = nd\n';
    const v4 = 'iface.transport_name = qla4xxx\niface.bootproto = dhcp\n';
    expect(checkRecord(v6, 'iface', 'qla4xxx.00:0e:1e:11:22:33.ipv6.0')).toBeUndefined();
    expect(checkRecord(v6, 'iface', 'qla4xxx.00:0e:1e:11:22:33.ipv4.0')).toMatchObject({ key: 'iface.ipv6_autocfg' });
    expect(checkRecord(v4, 'iface', 'qla4xxx.00:0e:1e:11:22:33.ipv6.0')).toMatchObject({ key: 'iface.bootproto' });
    expect(checkRecord(v4, 'iface', 'qla4xxx.00:0e:1e:11:22:33.ipv4.0')).toBeUndefined();
    // node keys are not iface keys
    expect(checkRecord('node.name = x\n', 'iface', 'eth0')).toMatchObject({ key: 'node.name' });
  });

  it('ignores a last line without a newline, as libopeniscsiusr does', () => {
    expect(checkRecord('iface.transport_name = tcp\niface.made_up = 1', 'iface', 'x')).toBeUndefined();
  });
});

describe('fromNative', () => {
  const native = (code: string, errno: number, message: string) => Object.assign(new Error(message), { code, errno });

  it('maps permission codes, and EACCES that libopeniscsiusr reports as BUG or IDBM, to IscsiPermissionError', () => {
    expect(fromNative(native('USR_ACCESS', 13, 'x'))).toBeInstanceOf(IscsiPermissionError);
    const scandir = fromNative(native('USR_BUG', 1, 'listing nodes: BUG of libopeniscsiusr library; Got unexpected error 13 when scandir /etc/iscsi/nodes'));
    expect(scandir).toBeInstanceOf(IscsiPermissionError);
    expect(scandir).toMatchObject({ code: 'USR_BUG', errno: 1 });
    const lock = fromNative(native('USR_IDBM', 6, 'listing ifaces: ...; Could not lock discovery DB: /run/lock/iscsi/lock.write: 13 Permission denied'));
    expect(lock).toBeInstanceOf(IscsiPermissionError);
    const enumBug = fromNative(native('USR_BUG', 1, "listing nodes: BUG of libopeniscsiusr library; Got unknown data type 36388 for name 'node.startup', value 'manual'"));
    expect(enumBug).not.toBeInstanceOf(IscsiPermissionError);
    expect(enumBug).toBeInstanceOf(IscsiError);
  });

  it('adds its context once', () => {
    expect((fromNative(native('USR_INVAL', 7, 'listing nodes: Invalid argument'), 'listing nodes') as Error).message).toBe('listing nodes: Invalid argument');
    expect((fromNative(native('USR_INVAL', 7, 'Invalid argument'), 'listing nodes') as Error).message).toBe('listing nodes: Invalid argument');
  });

  it('leaves TypeErrors and foreign values alone', () => {
    const t = Object.assign(new TypeError('sid must be a number'), { code: 'ERR_INVALID_ARG' });
    expect(fromNative(t)).toBe(t);
    expect(fromNative('x')).toBe('x');
  });
});

describe("waiting for open-iscsi's database lock", () => {
  const lockDir = fs.mkdtempSync(path.join(tmp, 'lock-'));
  const write = path.join(lockDir, 'lock.write');

  // Work that keeps the native contract: DB_LOCK_HELD, without doing anything, while the lock file exists.
  function lockAwareWork() {
    const seen = { calls: 0, done: 0 };
    const work = async (lockFile: string) => {
      seen.calls += 1;
      if (fs.existsSync(lockFile)) throw Object.assign(new Error(`lock ${lockFile} is held`), { code: 'DB_LOCK_HELD', errno: 16 });
      seen.done += 1;
      return 'listed';
    };
    return { seen, work };
  }

  it('with no lock: one call, no wait', async () => {
    const { seen, work } = lockAwareWork();
    const t0 = Date.now();
    expect(await afterDbUnlock('x', { lockDir }, 1000, work)).toBe('listed');
    expect(Date.now() - t0).toBeLessThan(100);
    expect(seen).toEqual({ calls: 1, done: 1 });
  });

  it('while it is held, asks again on timers (backing off) and goes on when it is released', async () => {
    fs.writeFileSync(write, '');
    setTimeout(() => fs.rmSync(write), 150);
    const { seen, work } = lockAwareWork();
    const t0 = Date.now();
    expect(await afterDbUnlock('x', { lockDir }, 2000, work)).toBe('listed');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(seen.done).toBe(1);
    // 5, 10, 20, 40, 80 ms apart: a handful of calls in 150 ms, not a busy loop
    expect(seen.calls).toBeGreaterThanOrEqual(3);
    expect(seen.calls).toBeLessThanOrEqual(8);
  });

  it('gives ISCSI_DB_LOCKED at the deadline and ABORTED on the signal, never doing the work', async () => {
    fs.writeFileSync(write, '');
    const { seen, work } = lockAwareWork();
    await expect(afterDbUnlock('listing nodes', { lockDir, timeoutMs: 100 }, 1000, work)).rejects.toMatchObject({ code: 'ISCSI_DB_LOCKED', errno: 16, details: { lockFile: write } });
    const ac = new AbortController();
    let callsAtAbort = -1;
    setTimeout(() => ((callsAtAbort = seen.calls), ac.abort()), 50);
    const t0 = Date.now();
    await expect(afterDbUnlock('x', { lockDir, signal: ac.signal }, 5000, work)).rejects.toBeInstanceOf(IscsiAbortError);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(seen.calls).toBe(callsAtAbort); // nothing is asked once the signal has fired
    expect(seen.done).toBe(0);
    fs.rmSync(write);
  });

  it('a retry still in flight at the deadline (a slow thread pool) is ISCSI_DB_LOCKED while the lock is there, TIMEOUT once it is gone; a first call that never answers is TIMEOUT', async () => {
    fs.writeFileSync(write, '');
    let calls = 0;
    // held on the first call; the retry hangs past the deadline, as a listing queued behind busy threads does
    const slow = async (lockFile: string) => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error(`lock ${lockFile} is held`), { code: 'DB_LOCK_HELD', errno: 16 });
      return new Promise<string>(() => {});
    };
    await expect(afterDbUnlock('listing nodes', { lockDir, timeoutMs: 100 }, 1000, slow)).rejects.toMatchObject({ code: 'ISCSI_DB_LOCKED', errno: 16, cause: { code: 'TIMEOUT' } });
    // the same, but the lock was released before the deadline: a plain TIMEOUT, never "the lock is held"
    calls = 0;
    setTimeout(() => fs.rmSync(write), 30);
    await expect(afterDbUnlock('listing nodes', { lockDir, timeoutMs: 100 }, 1000, slow)).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(afterDbUnlock('listing nodes', { lockDir, timeoutMs: 100 }, 1000, () => new Promise<string>(() => {}))).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('other errors from the work are not retried', async () => {
    let calls = 0;
    const boom = Object.assign(new Error('boom'), { code: 'USR_INVAL' });
    await expect(afterDbUnlock('x', { lockDir }, 1000, async () => ((calls += 1), Promise.reject(boom)))).rejects.toBe(boom);
    expect(calls).toBe(1);
  });

  // A binding that keeps the native contract: DB_LOCK_HELD, without listing, while the lock file exists.
  function lockAwareBinding() {
    const seen = { listings: 0, lockFiles: new Set<string>() };
    const list = async (lockFile?: string) => {
      seen.lockFiles.add(String(lockFile));
      if (lockFile && fs.existsSync(lockFile)) throw Object.assign(new Error(`open-iscsi's database lock ${lockFile} is held`), { code: 'DB_LOCK_HELD', errno: 16 });
      seen.listings += 1;
      return [];
    };
    return { seen, binding: { getNodes: list, getIfaces: list, getIface: async () => Promise.reject(new Error('unused')) } };
  }

  it('nodes() and ifaces() never list while the lock is held, and give ISCSI_DB_LOCKED at the deadline', async () => {
    fs.writeFileSync(write, '');
    const { seen, binding } = lockAwareBinding();
    await expect(nodes({ binding, lockDir, timeoutMs: 80 })).rejects.toBeInstanceOf(IscsiTimeoutError);
    await expect(ifaces({ binding, lockDir, timeoutMs: 80 })).rejects.toMatchObject({ code: 'ISCSI_DB_LOCKED' });
    expect(seen.listings).toBe(0);
    expect([...seen.lockFiles]).toEqual([write]);
    fs.rmSync(write);
    expect(await nodes({ binding, lockDir })).toEqual([]);
    expect(seen.listings).toBe(1);
  });

  it('a lock released during the wait: the listing is asked again and succeeds', async () => {
    fs.writeFileSync(write, '');
    const { seen, binding } = lockAwareBinding();
    setTimeout(() => fs.rmSync(write), 120);
    const t0 = Date.now();
    expect(await ifaces({ binding, lockDir, timeoutMs: 5000 })).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
    expect(seen.listings).toBe(1);
  });

  it('with no lock, the listing is one call to the binding', async () => {
    const { seen, binding } = lockAwareBinding();
    let calls = 0;
    const counted = { ...binding, getNodes: (f?: string) => ((calls += 1), binding.getNodes(f)) };
    expect(await nodes({ binding: counted, lockDir })).toEqual([]);
    expect(calls).toBe(1);
    expect(seen.listings).toBe(1);
  });
});

describe('nodes() fallback on a tree of files', () => {
  const dir = path.join(tmp, 'nodes');
  const put = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  put('iqn.2003-01.org.example:a/192.0.2.10,3260,1/eth-bound', fixture.replace(/tgt1/g, 'a'));
  put('iqn.2003-01.org.example:b/192.0.2.11,3260,1/default', fixture.replace(/tgt1/g, 'b').replace('node.startup = manual', 'node.startup = sometimes'));
  put('iqn.2003-01.org.example:c/192.0.2.12,3260,1/default', `${fixture.replace(/tgt1/g, 'c')}node.session.auth.password_extra = s3cret\n`);
  // old layout, tpgt -1
  put('iqn.2003-01.org.example:d/2001:db8::5,3260', fixture.replace(/tgt1/g, 'd').replace('= 192.0.2.10', '= 2001:db8::5').replace('node.tpgt = 1', 'node.tpgt = -1'));
  const enumBug = Object.assign(new Error("listing nodes: BUG of libopeniscsiusr library; Got unknown data type 1 for name 'node.startup', value 'manual'"), { code: 'USR_BUG', errno: 1 });

  it('names every file libopeniscsiusr would refuse, never shows a secret, and returns the rest', async () => {
    const problems: IscsiError[] = [];
    const list = await nodes({ binding: { getNodes: async () => Promise.reject(enumBug) }, nodesDir: dir, lockDir: tmp, onProblem: (p) => problems.push(p) });
    expect(list.map((n) => [n.targetName, n.portal, n.tpgt])).toEqual([
      ['iqn.2003-01.org.example:a', '192.0.2.10:3260', 1],
      ['iqn.2003-01.org.example:d', '[2001:db8::5]:3260', -1],
    ]);
    expect(problems.map((p) => [p.code, path.relative(dir, String(p.details?.file)), p.details?.key])).toEqual([
      ['NODE_FILE_INVALID', 'iqn.2003-01.org.example:b/192.0.2.11,3260,1/default', 'node.startup'],
      ['NODE_FILE_INVALID', 'iqn.2003-01.org.example:c/192.0.2.12,3260,1/default', 'node.session.auth.password_extra'],
    ]);
    expect(JSON.stringify(problems.map((p) => [p.message, p.details]))).not.toContain('s3cret');
  });

  it('reports the library error itself when it cannot tell which file was bad', async () => {
    const clean = path.join(tmp, 'clean');
    fs.mkdirSync(path.join(clean, 'iqn.x/192.0.2.10,3260,1'), { recursive: true });
    fs.writeFileSync(path.join(clean, 'iqn.x/192.0.2.10,3260,1/default'), fixture);
    const problems: IscsiError[] = [];
    const list = await nodes({ binding: { getNodes: async () => Promise.reject(enumBug) }, nodesDir: clean, lockDir: tmp, onProblem: (p) => problems.push(p) });
    expect(list).toHaveLength(1);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.details).toEqual({});
  });

  it('does not fall back on a permission error', async () => {
    const denied = Object.assign(new Error('listing nodes: BUG of libopeniscsiusr library; Got unexpected error 13 when scandir /etc/iscsi/nodes'), { code: 'USR_BUG', errno: 1 });
    await expect(nodes({ binding: { getNodes: async () => Promise.reject(denied) }, nodesDir: dir, lockDir: tmp })).rejects.toBeInstanceOf(IscsiPermissionError);
  });
});
