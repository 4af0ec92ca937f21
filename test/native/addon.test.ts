// The built addon: it loads, rejects bad arguments with TypeError (never a crash), and works in a Worker.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { native, nativeStatus } from '../../lib/native';

const addonPath = path.resolve(__dirname, '../../build/Release/openiscsi.node');

describe('native addon', () => {
  it('loads, and loads libopeniscsiusr', () => {
    expect(nativeStatus()).toEqual({ loaded: true, libopeniscsiusr: true, binary: { path: addonPath, prebuilt: false } });
    const b = native();
    expect(b.napiVersion).toBe(8);
    expect(b.hasLibopeniscsiusr).toBe(true);
  });

  it('lists the built-in ifaces through libopeniscsiusr', async () => {
    const names = (await native().getIfaces()).map((i) => i.name);
    expect(names).toContain('default');
    expect(names).toContain('iser');
  });

  const garbage: unknown[][] = [[undefined], [null], ['1'], [{}], [[]], [-1], [1.5], [2 ** 32], [NaN], [1, 2], [1, { target: 'iqn.2026-11.org.example:t' }], [1, {}, 3]];
  it.each(garbage)('getSession(%j) throws a TypeError synchronously', (...args) => {
    const b = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(() => b.getSession!(...args)).toThrow(TypeError);
  });

  const badNames: unknown[] = [undefined, null, 5, '', '../etc', 'a/b', '.', '..', 'x'.repeat(65), 'a\0b'];
  it.each(badNames)('getIface(%j) throws a TypeError with code ERR_INVALID_ARG', (name) => {
    const b = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
    let caught: unknown;
    try {
      b.getIface!(name);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as { code?: string }).code).toBe('ERR_INVALID_ARG');
  });

  it.each(['getIfaces', 'getNodes', 'setupDefaultIfaces'])('%s rejects a second argument and a lock file that is not an absolute path', (fn) => {
    const b = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(() => b[fn]!('/run/lock/iscsi/lock.write', 'unexpected')).toThrow(TypeError);
    for (const bad of ['relative/lock.write', '', 5, '/a\0b', `/${'x'.repeat(4096)}`]) expect(() => b[fn]!(bad)).toThrow(TypeError);
  });

  it.each(['getIfaces', 'getNodes'])('%s answers DB_LOCK_HELD at once, without calling libopeniscsiusr, while the lock file exists', async (fn) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-lock-'));
    const lock = path.join(dir, 'lock.write');
    fs.writeFileSync(lock, '');
    const b = native() as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const t0 = Date.now();
    await expect(b[fn]!(lock)).rejects.toMatchObject({ code: 'DB_LOCK_HELD', errno: 16, message: expect.stringContaining(lock) });
    expect(Date.now() - t0).toBeLessThan(1000);
    fs.rmSync(lock);
    await expect(b[fn]!(lock)).resolves.toBeInstanceOf(Array);
    fs.rmSync(dir, { recursive: true });
  });

  it.each([[5], [null], ['iqn.2026-11.org.example:t'], [{ target: 5 }], [{ target: '' }], [{ target: 'x'.repeat(224) }], [{ target: 'a\0b' }], [{ libopeniscsiusr: 'yes' }], [{ sids: 5 }], [{ sids: [-1] }], [{ sids: ['1'] }], [{ sids: [1.5] }], [{}, 'extra']])('getSessions(%j) throws a TypeError synchronously', (...args) => {
    const b = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(() => b.getSessions!(...args)).toThrow(TypeError);
  });

  it('a missing sid is a typed rejection, not a crash', async () => {
    await expect(native().getSession(4_000_000_000)).rejects.toMatchObject({ code: 'USR_SESS_NOT_FOUND', errno: 2 });
  });

  it('loads and runs inside a worker_threads Worker, twice', async () => {
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        const w = new Worker(
          `const { parentPort, workerData } = require('node:worker_threads');
           const b = require(workerData);
           b.getIfaces().then((l) => parentPort.postMessage(l.map((i) => i.name)), (e) => parentPort.postMessage(String(e)));`,
          { eval: true, workerData: addonPath },
        );
        w.once('message', (m: string[]) => {
          void w.terminate();
          resolve(m);
        });
        w.once('error', reject);
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a).toContain('default');
    expect(b).toContain('default');
  });
});
