// The SendTargets client against a real tgtd on loopback, compared with iscsi-ls (libiscsi, an independent
// initiator); CHAP against a small CHAP-only target (tgtd never asks for CHAP on discovery); deadlines
// against peers that accept and never answer or hang up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { IscsiError } from '../../lib/errors';
import { discoverSendTargets } from '../../lib/discovery';
import { Tgtd, canConnect } from './tgtd';

const INITIATOR = 'iqn.2026-11.org.openiscsi:host-tests';
const T = (n: string) => `iqn.2026-11.org.openiscsi:disc.${n}`;

describe('SendTargets discovery against tgtd', () => {
  let tgtd: Tgtd;
  const portal = () => `127.0.0.1:${tgtd.port}`;

  beforeAll(async () => {
    tgtd = await Tgtd.start(61, 13261, [13262]);
    tgtd.addTarget(1, T('alpha'), 2);
    tgtd.addTarget(2, T('beta'), 1);
    tgtd.addTarget(3, T('gamma'), 0);
  });
  afterAll(() => tgtd?.stop());

  it('lists every target with its portal and tpgt, through each of the two tgtd portals', async () => {
    for (const port of [13261, 13262]) {
      const r = await discoverSendTargets({ portal: `127.0.0.1:${port}`, initiatorName: INITIATOR });
      expect(r.portal).toBe(`127.0.0.1:${port}`);
      expect(r.targets.map((t) => t.name).sort()).toEqual([T('alpha'), T('beta'), T('gamma')]);
      // tgtd answers with the portal the discovery session came in on
      for (const t of r.targets) expect(t.portals).toEqual([{ address: '127.0.0.1', port, tpgt: 1, portal: `127.0.0.1:${port}` }]);
      expect(r.textResponses).toBe(1);
    }
  });

  it('agrees with iscsi-ls (libiscsi) on the same target', async () => {
    const ls = spawnSync('iscsi-ls', [`iscsi://${portal()}`], { encoding: 'utf8' });
    expect(ls.error, 'iscsi-ls is missing: install libiscsi-bin (bash test/setup.sh does)').toBeUndefined();
    const theirs = [...ls.stdout.matchAll(/^Target:(\S+) Portal:(\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    const r = await discoverSendTargets({ portal: portal(), initiatorName: INITIATOR });
    const ours = r.targets.flatMap((t) => t.portals.map((p) => `${t.name} ${p.portal},${p.tpgt}`)).sort();
    expect(theirs.length).toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });

  it('binds to the given source address', async () => {
    const r = await discoverSendTargets({ portal: portal(), initiatorName: INITIATOR, localAddress: '127.0.0.2' });
    expect(r.targets).toHaveLength(3);
    await expect(discoverSendTargets({ portal: portal(), initiatorName: INITIATOR, localAddress: '192.0.2.77' })).rejects.toMatchObject({ code: 'DISCOVERY_CONNECT_FAILED' });
  });

  it('reassembles a SendTargets answer that spans several Text responses', async () => {
    for (let i = 0; i < 400; i++) tgtd.adm(`--op new --mode target --tid ${100 + i} -T ${T(`bulk-target-with-a-long-name-${String(i).padStart(4, '0')}`)}`);
    try {
      const r = await discoverSendTargets({ portal: portal(), initiatorName: INITIATOR });
      // tgtd only lists targets bound to an initiator ACL: bind is done for 1..3 only
      const bulk = r.targets.filter((t) => t.name.includes('bulk'));
      expect(r.targets.length).toBe(3 + bulk.length);
      for (let i = 0; i < 400; i++) tgtd.adm(`--op bind --mode target --tid ${100 + i} -I ALL`);
      const all = await discoverSendTargets({ portal: portal(), initiatorName: INITIATOR });
      expect(all.targets).toHaveLength(403);
      expect(new Set(all.targets.map((t) => t.name)).size).toBe(403);
      expect(all.targets.every((t) => t.portals.length === 1)).toBe(true);
      expect(all.textResponses).toBeGreaterThan(1);
    } finally {
      for (let i = 0; i < 400; i++) tgtd.adm(`--op delete --mode target --tid ${100 + i} --force`);
    }
  });

  it('a target removed while discoveries run is either listed or not, never an error', async () => {
    tgtd.addTarget(9, T('doomed'), 1);
    const runs = Array.from({ length: 20 }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 5)).then(() => discoverSendTargets({ portal: portal(), initiatorName: INITIATOR })),
    );
    setTimeout(() => tgtd.removeTarget(9), 30);
    const results = await Promise.all(runs);
    const seen = results.map((r) => r.targets.some((t) => t.name === T('doomed')));
    expect(results.every((r) => r.targets.some((t) => t.name === T('alpha')))).toBe(true);
    expect(seen.at(-1)).toBe(false);
  });

  it('bad input is refused before connecting', async () => {
    await expect(discoverSendTargets({ portal: 'nope:99999', initiatorName: INITIATOR })).rejects.toMatchObject({ code: 'INVALID_PORTAL' });
    await expect(discoverSendTargets({ portal: portal(), initiatorName: 'bad name' })).rejects.toMatchObject({ code: 'INVALID_IQN' });
    await expect(discoverSendTargets({ portal: portal(), initiatorName: INITIATOR, auth: { username: 'u', password: 'short' } })).rejects.toMatchObject({ code: 'INVALID_CHAP_SECRET' });
  });
});

describe('discovery against peers that misbehave', () => {
  it('a portal that accepts TCP and never answers hits the deadline', async () => {
    const server = net.createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    const t0 = Date.now();
    await expect(discoverSendTargets({ portal: `127.0.0.1:${port}`, initiatorName: INITIATOR, timeoutMs: 500 })).rejects.toMatchObject({ name: 'IscsiTimeoutError', code: 'DISCOVERY_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(1500);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(discoverSendTargets({ portal: `127.0.0.1:${port}`, initiatorName: INITIATOR, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    server.close();
  });

  it('a peer that hangs up mid-login is a protocol error; nobody listening is a connect error', async () => {
    const server = net.createServer((s) => s.once('data', () => s.end(Buffer.alloc(20)))).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    await expect(discoverSendTargets({ portal: `127.0.0.1:${port}`, initiatorName: INITIATOR })).rejects.toMatchObject({ code: 'DISCOVERY_PROTOCOL_ERROR' });
    server.close();
    await expect(discoverSendTargets({ portal: `127.0.0.1:${port}`, initiatorName: INITIATOR })).rejects.toMatchObject({ code: 'DISCOVERY_CONNECT_FAILED' });
  });
});

describe('fuzz: a peer answering with random and mutated PDUs', () => {
  it('every session ends in a typed error or a result within its deadline, 2 s of runs', async () => {
    const { encodePdu, OP } = await import('../../lib/discovery/pdu');
    const { encodeKeys } = await import('../../lib/discovery/keys');
    const good = [
      encodePdu({ opcode: OP.LOGIN_RSP, flags: 0x81, data: encodeKeys([['AuthMethod', 'None']]) }),
      encodePdu({ opcode: OP.LOGIN_RSP, flags: 0x87 }),
      encodePdu({ opcode: OP.TEXT_RSP, flags: 0x80, data: encodeKeys([['TargetName', 'iqn.2026-11.x:a'], ['TargetAddress', '127.0.0.1:3260,1']]) }),
      encodePdu({ opcode: OP.LOGOUT_RSP, flags: 0x80 }),
    ];
    let n = 0;
    const server = net.createServer((sock) => {
      let step = 0;
      sock.on('data', () => {
        const reply = Buffer.from(good[Math.min(step++, good.length - 1)]!);
        const mode = n % 3;
        if (mode === 0) for (let i = 0; i < 3; i++) reply[Math.floor(Math.random() * reply.length)] = Math.floor(Math.random() * 256);
        sock.write(mode === 1 ? randomBytes(Math.floor(Math.random() * 120)) : reply);
      });
      sock.on('error', () => {});
    }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const portal = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const end = Date.now() + 2000;
    const codes = new Set<string>();
    while (Date.now() < end) {
      n++;
      const t0 = Date.now();
      try {
        await discoverSendTargets({ portal, initiatorName: INITIATOR, timeoutMs: 300 });
        codes.add('ok');
      } catch (e) {
        expect(e).toBeInstanceOf(IscsiError);
        codes.add((e as IscsiError).code);
      }
      expect(Date.now() - t0).toBeLessThan(1000);
    }
    server.close();
    expect(n).toBeGreaterThan(20);
    expect([...codes].every((c) => /^(ok|DISCOVERY_[A-Z_]+)$/.test(c))).toBe(true);
  });
});

describe('discovery CHAP (a CHAP-only discovery target)', () => {
  const procs: ChildProcess[] = [];
  async function chapTarget(port: number, ...args: string[]): Promise<string> {
    const p = spawn('python3', [path.join(__dirname, 'chap-target.py'), String(port), ...args], { stdio: 'ignore' });
    procs.push(p);
    for (let i = 0; i < 100 && !(await canConnect(port)); i++) await new Promise((r) => setTimeout(r, 30));
    return `127.0.0.1:${port}`;
  }
  afterAll(() => procs.forEach((p) => p.kill('SIGKILL')));

  it('one-way CHAP: the right secret lists the target, a wrong one is DISCOVERY_AUTH_FAILED, none is refused', async () => {
    const portal = await chapTarget(13271, 'disc', 'discovery-secret-1');
    const r = await discoverSendTargets({ portal, initiatorName: INITIATOR, auth: { username: 'disc', password: 'discovery-secret-1' } });
    expect(r.targets).toEqual([{ name: 'iqn.2026-11.org.openiscsi:chap-only', portals: [{ address: '127.0.0.1', port: 13271, tpgt: 7, portal }] }]);
    const bad = await discoverSendTargets({ portal, initiatorName: INITIATOR, auth: { username: 'disc', password: 'wrong-secret-123' } }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'DISCOVERY_AUTH_FAILED', details: { status: '0x0201' } });
    expect(String((bad as Error).message)).not.toContain('wrong-secret-123');
    await expect(discoverSendTargets({ portal, initiatorName: INITIATOR })).rejects.toMatchObject({ code: 'DISCOVERY_AUTH_FAILED' });
  });

  it('negotiates SHA-256 when the target only speaks that', async () => {
    const portal = await chapTarget(13272, 'disc', 'discovery-secret-1', '--algs', '7');
    await expect(discoverSendTargets({ portal, initiatorName: INITIATOR, auth: { username: 'disc', password: 'discovery-secret-1' } })).rejects.toMatchObject({ code: 'DISCOVERY_AUTH_FAILED' });
    const r = await discoverSendTargets({ portal, initiatorName: INITIATOR, auth: { username: 'disc', password: 'discovery-secret-1', algorithms: ['SHA256', 'MD5'] } });
    expect(r.targets).toHaveLength(1);
  });

  it('mutual CHAP: the target must prove the mutual secret', async () => {
    const good = await chapTarget(13273, 'disc', 'discovery-secret-1', 'tgt', 'target-secret-12');
    const auth = { username: 'disc', password: 'discovery-secret-1', usernameIn: 'tgt', passwordIn: 'target-secret-12' };
    expect((await discoverSendTargets({ portal: good, initiatorName: INITIATOR, auth })).targets).toHaveLength(1);
    await expect(discoverSendTargets({ portal: good, initiatorName: INITIATOR, auth: { ...auth, passwordIn: 'not-the-secret-1' } })).rejects.toMatchObject({ code: 'DISCOVERY_MUTUAL_AUTH_FAILED' });
    const liar = await chapTarget(13274, 'disc', 'discovery-secret-1', 'tgt', 'target-secret-12', '--bad-mutual');
    await expect(discoverSendTargets({ portal: liar, initiatorName: INITIATOR, auth })).rejects.toMatchObject({ code: 'DISCOVERY_MUTUAL_AUTH_FAILED' });
  });
});
