// The socket client against a mock iscsid in a private network namespace (abstract unix sockets are
// scoped to it, so no real iscsid is ever reached): framing, answers, errors, deadlines, cancellation.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const mock = path.join(__dirname, 'mock-iscsid.py');

interface Outcome {
  ok?: { command: number; err: number; var: string; connState: number; stats: { txdataOctets: number; loginPdus: number; custom: Array<{ name: string; value: number }> } };
  err?: { name: string; code: string; errno?: number; message: string };
  ms: number;
}

/** Runs one iscsidRequest against the mock in MODE; returns the outcome and what the mock received. */
function run(mode: string, command: string, extra: { timeoutMs?: number; abortAfterMs?: number; sid?: number; driver?: string } = {}): { out: Outcome; log: string[] } {
  const driver = extra.driver ?? `
    const { iscsidRequest } = require(${JSON.stringify(path.join(root, 'dist/iscsid/ipc.js'))});
    const ac = new AbortController();
    ${extra.abortAfterMs !== undefined ? `setTimeout(() => ac.abort(), ${extra.abortAfterMs});` : ''}
    const t0 = Date.now();
    iscsidRequest(${JSON.stringify(command)}, { family: '2.1.1', sid: ${extra.sid ?? 0}, timeoutMs: ${extra.timeoutMs ?? 3000}, signal: ac.signal })
      .then((ok) => console.log('RESULT ' + JSON.stringify({ ok, ms: Date.now() - t0 })),
            (e) => console.log('RESULT ' + JSON.stringify({ err: { name: e.name, code: e.code, errno: e.errno, message: e.message }, ms: Date.now() - t0 })));`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-mock-'));
  fs.writeFileSync(path.join(dir, 'driver.js'), driver);
  fs.writeFileSync(
    path.join(dir, 'run.sh'),
    [
      'ip link set lo up',
      // dies with the script even when spawnSync times out and kills only bash
      `setpriv --pdeathsig KILL python3 ${mock} ${mode} > ${dir}/mock.log 2>&1 &`,
      `for i in $(seq 100); do grep -q ready ${dir}/mock.log 2>/dev/null && break; sleep 0.02; done`,
      `${process.execPath} ${dir}/driver.js`,
      'kill %1 2>/dev/null',
      `cat ${dir}/mock.log`,
    ].join('\n'),
  );
  const res = spawnSync('unshare', ['-n', 'bash', path.join(dir, 'run.sh')], { encoding: 'utf8', timeout: 30_000 });
  fs.rmSync(dir, { recursive: true, force: true });
  const lines = `${res.stdout}`.split('\n');
  const result = lines.find((l) => l.startsWith('RESULT '));
  if (!result) throw new Error(`no result: ${res.stdout}\n${res.stderr}`);
  return { out: JSON.parse(result.slice(7)) as Outcome, log: lines.filter((l) => /^(\d+ \d+ -?\d+|closed \d+)$/.test(l)) };
}

describe('iscsid socket client (mock iscsid, private network namespace)', () => {
  it('sends the whole 16104-byte request in one piece and decodes CONFIG_INAME', () => {
    const { out, log } = run('ok', 'CONFIG_INAME');
    expect(log).toEqual(['16104 8 0']);
    expect(out.ok).toMatchObject({ command: 8, err: 0, var: 'iqn.2026-11.org.openiscsi:mock' });
  });

  it('carries the sid for SESSION_INFO and decodes the connection state', () => {
    const { out, log } = run('ok', 'SESSION_INFO', { sid: 42 });
    expect(log).toEqual(['16104 13 42']);
    expect(out.ok?.connState).toBe(3);
  });

  it('decodes SESSION_STATS counters and custom entries', () => {
    const { out } = run('stats', 'SESSION_STATS', { sid: 1 });
    expect(out.ok?.stats).toMatchObject({ txdataOctets: 123456789012, loginPdus: 2 });
    expect(out.ok?.stats.custom).toEqual([{ name: 'tx_sendpage_failures', value: 4 }, { name: 'eh_abort_cnt', value: 9 }]);
  });

  it('reassembles an answer that arrives in 7-byte pieces', () => {
    expect(run('dribble', 'CONFIG_IALIAS').out.ok).toMatchObject({ command: 9, var: 'mockhost' });
  });

  it.each([
    [15, 'ISCSID_ERR_SESS_EXISTS', 'IscsiError'],
    [24, 'ISCSID_ERR_LOGIN_AUTH_FAILED', 'IscsiError'],
    [12, 'ISCSID_ERR_TRANS_NOT_FOUND', 'IscsiUnsupportedError'],
    [13, 'ISCSID_ERR_ACCESS', 'IscsiPermissionError'],
  ])('maps iscsid error %i to %s (%s) with errno', (n, code, name) => {
    const { out } = run(`err ${n}`, 'SESSION_LOGOUT', { sid: 1 });
    expect(out.err).toMatchObject({ code, name, errno: n });
  });

  it('a peer that closes early is ISCSID_COMM_ERR, saying how much arrived', () => {
    const { out } = run('close-early', 'CONFIG_FILE');
    expect(out.err).toMatchObject({ code: 'ISCSID_COMM_ERR' });
    expect(out.err?.message).toMatch(/after 100 of 2464 bytes/);
  });

  it('an answer for another command is ISCSID_COMM_ERR', () => {
    expect(run('wrong-cmd', 'CONFIG_FILE').out.err).toMatchObject({ code: 'ISCSID_COMM_ERR' });
  });

  it('a peer that never answers hits the deadline', () => {
    const { out } = run('silent', 'SESSION_INFO', { timeoutMs: 400 });
    expect(out.err).toMatchObject({ name: 'IscsiTimeoutError', code: 'ISCSID_TIMEOUT' });
    expect(out.ms).toBeGreaterThanOrEqual(380);
    expect(out.ms).toBeLessThan(2000);
  });

  it('an AbortSignal ends the wait at once', () => {
    const { out } = run('silent', 'SESSION_INFO', { timeoutMs: 20_000, abortAfterMs: 150 });
    expect(out.err).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(out.ms).toBeLessThan(2000);
  });

  it('a stuck iscsid whose listen queue is full: connect() is bounded by the deadline, not blocked', () => {
    const { out } = run('backlog-full', 'CONFIG_FILE', { timeoutMs: 500 });
    expect(out.err).toMatchObject({ name: 'IscsiTimeoutError', code: 'ISCSID_TIMEOUT' });
    expect(out.err?.message).toMatch(/queue stayed full/);
    expect(out.ms).toBeLessThan(2000);
  });

  it('... and an AbortSignal ends that wait too', () => {
    const { out } = run('backlog-full', 'CONFIG_FILE', { timeoutMs: 20_000, abortAfterMs: 150 });
    expect(out.err).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(out.ms).toBeLessThan(2000);
  });

  it('a Worker that goes away with a request in flight does not leave its connection open until the deadline', () => {
    const worker = `require(${JSON.stringify(path.join(root, 'dist/iscsid/ipc.js'))})
      .iscsidRequest('SESSION_INFO', { family: '2.1.1', sid: 7, timeoutMs: 20000 }).catch(() => {});
      setTimeout(() => require('node:worker_threads').parentPort.postMessage('sent'), 100);`;
    const driver = `
      const w = new (require('node:worker_threads').Worker)(${JSON.stringify(worker)}, { eval: true });
      w.once('message', () => setTimeout(() => w.terminate(), 100));
      setTimeout(() => console.log('RESULT ' + JSON.stringify({ ms: 0 })), 3000);`;
    const { log } = run('watch', 'SESSION_INFO', { driver });
    expect(log[0]).toBe('16104 13 7');
    const closed = Number(log[1]?.split(' ')[1]);
    expect(closed).toBeGreaterThan(100);
    // terminate() comes after ~200 ms; without the cleanup hook the connection lives until process exit at
    // 3000 ms. The margin absorbs a loaded 2-core CI machine.
    expect(closed).toBeLessThan(2500);
  });

  it('a Worker that goes away mid-request never crashes the process, before or after the deadline', () => {
    // Both races crashed an earlier version: the thread finishing during the Worker's teardown, and after it.
    for (const [timeoutMs, liveMs] of [[20000, 800], [600, 1500]] as const) {
      for (let i = 0; i < 4; i++) {
        const worker = `require(${JSON.stringify(path.join(root, 'dist/iscsid/ipc.js'))})
          .iscsidRequest('SESSION_INFO', { family: '2.1.1', sid: 7, timeoutMs: ${timeoutMs} }).catch(() => {});
          setTimeout(() => require('node:worker_threads').parentPort.postMessage('sent'), 50);`;
        const driver = `
          const w = new (require('node:worker_threads').Worker)(${JSON.stringify(worker)}, { eval: true });
          w.once('message', () => setTimeout(() => w.terminate(), 50));
          setTimeout(() => console.log('RESULT ' + JSON.stringify({ ms: ${liveMs} })), ${liveMs});`;
        const { out } = run('silent', 'SESSION_INFO', { driver });
        expect(out.ms).toBe(liveMs);
      }
    }
  });

  it('no listener is ISCSID_NOT_RUNNING with what to do', () => {
    const driver = `require(${JSON.stringify(path.join(root, 'dist/iscsid/ipc.js'))}).iscsidRequest('CONFIG_FILE', { family: '2.1.1', timeoutMs: 1000 }).catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`;
    const res = spawnSync('unshare', ['-n', process.execPath, '-e', driver], { encoding: 'utf8' });
    const err = JSON.parse(res.stdout.trim()) as { code: string; message: string };
    expect(err.code).toBe('ISCSID_NOT_RUNNING');
    expect(err.message).toMatch(/start iscsid/);
  });
});
