// withDeadline(): each pending deadline ends on its own time, whatever order they came in, a
// settled call leaves nothing that keeps the process alive, and a pending one keeps it until its deadline.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { withDeadline } from '../../lib/deadline';
import { IscsiAbortError, IscsiTimeoutError } from '../../lib/errors';

const never = () => new Promise<never>(() => {});

describe('withDeadline', () => {
  it('pending calls time out each at its own deadline, whatever order they came in', async () => {
    const started = performance.now();
    const ended: Array<[string, number]> = [];
    const track = (name: string, ms: number) =>
      withDeadline(never(), name, { timeoutMs: ms }, 0).catch((e: unknown) => {
        expect(e).toBeInstanceOf(IscsiTimeoutError);
        expect(e).toMatchObject({ code: 'TIMEOUT' });
        expect((e as Error).message.startsWith(`${name} did not finish within ${ms} ms`)).toBe(true);
        ended.push([name, performance.now() - started]);
      });
    // the longest first
    await Promise.all([track('c', 240), track('b', 160), track('a', 80), track('d', 320)]);
    expect(ended.map(([n]) => n)).toEqual(['a', 'b', 'c', 'd']);
    for (const [name, at] of ended) expect(at, name).toBeGreaterThanOrEqual({ a: 79, b: 159, c: 239, d: 319 }[name]!);
  });

  it('a deadline whose timer fell behind (the event loop was blocked) still ends then, not at a later call\'s', async () => {
    const started = performance.now();
    let endedAt = 0;
    const short = withDeadline(never(), 'short', { timeoutMs: 100 }, 0).catch(() => (endedAt = performance.now() - started));
    const spinUntil = performance.now() + 1500;
    while (performance.now() < spinUntil); // the shared timer is now more than 1 s overdue
    const ac = new AbortController();
    const long = withDeadline(never(), 'long', { timeoutMs: 5000, signal: ac.signal }, 0).catch(() => {});
    await short;
    expect(endedAt).toBeGreaterThanOrEqual(1500);
    expect(endedAt).toBeLessThan(3000);
    ac.abort();
    await long;
  });

  it('work that settles first wins, and its deadline no longer fires', async () => {
    let resolveWork: (v: number) => void = () => {};
    const p = withDeadline(new Promise<number>((r) => (resolveWork = r)), 'x', { timeoutMs: 40 }, 0);
    resolveWork(7);
    expect(await p).toBe(7);
    await expect(withDeadline(Promise.reject(new Error('boom')), 'x', { timeoutMs: 40 }, 0)).rejects.toThrow('boom');
    // a later call with a longer deadline is not cut short by the timer armed for the first
    const late = withDeadline(new Promise((r) => setTimeout(() => r('late'), 80)), 'y', { timeoutMs: 400 }, 0);
    expect(await late).toBe('late');
  });

  it('an AbortSignal ends the wait; no timeout (Infinity) never fires', async () => {
    const ac = new AbortController();
    const p = withDeadline(never(), 'z', { signal: ac.signal, timeoutMs: Infinity }, 0);
    let settled = false;
    p.catch(() => (settled = true));
    await new Promise((r) => setTimeout(r, 60));
    expect(settled).toBe(false);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(IscsiAbortError);
  });

  it('a settled call leaves no timer holding the process; a pending one holds it until its deadline', () => {
    const mod = JSON.stringify(path.resolve(__dirname, '../../dist/deadline.js'));
    const run = (body: string) => {
      const t = Date.now();
      const out = spawnSync(process.execPath, ['-e', `const { withDeadline } = require(${mod}); ${body}`], { encoding: 'utf8', timeout: 20_000 });
      return { out: `${out.stdout}${out.stderr}`.trim(), ms: Date.now() - t, status: out.status };
    };
    const settled = run("withDeadline(Promise.resolve(1), 'x', {}, 35000).then((v) => console.log('value', v));");
    expect(settled.out).toBe('value 1');
    expect(settled.ms).toBeLessThan(10_000); // not the 35 s deadline
    const held = run("withDeadline(new Promise(() => {}), 'x', { timeoutMs: 300 }, 0).catch((e) => console.log(e.code));");
    expect(held.out).toBe('TIMEOUT');
  });
});
