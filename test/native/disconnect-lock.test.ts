// disconnect() against a connect() in another process (real flock, lib/files/locks.ts): connect holds the
// session key's lock from its login until its LUN's device is there (login.ts loginAndThen), and disconnect
// takes the same lock before it decides. Here another process holds that lock, as a connect() that found the
// session LOGGED_IN does while it waits for its LUN, and makes the LUN's device appear just before it lets
// go: disconnect must wait, read the session again and keep it. Without the lock it logs the session out.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { disconnect } from '../../lib/attach/disconnect';
import { sessionLockName } from '../../lib/files/locks';
import type { ScsiDevice, Session } from '../../lib/read/sessions';

const root = path.resolve(__dirname, '../..');
const TARGET = 'iqn.2026-11.org.openiscsi:lock';

const scratch: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of scratch.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function session(devices: ScsiDevice[], o: { address?: string } = {}): Session {
  return {
    sid: 7, targetName: TARGET, tpgt: 1, address: o.address ?? '192.0.2.10', port: 3260, persistentAddress: '192.0.2.10', persistentPort: 3260,
    iface: { name: 'default' } as Session['iface'], initiatorName: 'iqn.2026-11.org.openiscsi:host',
    timeouts: { recovery: 120, luReset: 30, tgtReset: 30, abort: 15 }, state: 'LOGGED_IN', hostNo: 3, targetId: 0, devices,
  };
}
const LUN1: ScsiDevice = { hctl: '3:0:0:1', host: 3, channel: 0, target: 0, lun: 1, type: 0, blockDevice: 'sdq' };

/**
 * The other process: takes `lockName` in `lockDir`, says so, and after `holdMs` writes the session's devices
 * (the LUN its connect() was waiting for) to `state`, then lets go and exits.
 */
async function holder(lockDir: string, lockName: string, state: string, holdMs: number): Promise<ChildProcess> {
  const script = `
    const fs = require('node:fs');
    const { acquireLock } = require(${JSON.stringify(path.join(root, 'dist/files/locks.js'))});
    acquireLock(${JSON.stringify(lockName)}, { dir: ${JSON.stringify(lockDir)}, deadline: Date.now() + 5000 }).then(async (h) => {
      console.log('held');
      await new Promise((r) => setTimeout(r, ${holdMs}));
      fs.writeFileSync(${JSON.stringify(state)}, JSON.stringify([${JSON.stringify(LUN1)}]));
      await h.release();
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('held')) resolve(); });
    child.on('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
  });
  return child;
}

function setup(o: { address?: string } = {}) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-dlock-'));
  scratch.push(base);
  const lockDir = path.join(base, 'locks');
  const state = path.join(base, 'devices.json');
  fs.writeFileSync(state, '[]'); // LUN 0 already removed, LUN 1 not attached yet: nothing keeps the session
  const logouts: number[] = [];
  const deps = {
    readSession: async () => session(JSON.parse(fs.readFileSync(state, 'utf8')) as ScsiDevice[], o),
    logout: async (sid: number) => void logouts.push(sid),
    lockDir,
  };
  return { lockDir, state, logouts, deps };
}

describe('disconnect() takes the lock a connect() holds while it attaches', () => {
  it('waits for it, reads the session again, and keeps the LUN that appeared meanwhile', async () => {
    const { lockDir, state, logouts, deps } = setup();
    await holder(lockDir, sessionLockName(TARGET, '192.0.2.10', 3260, 'default'), state, 1500);
    const t0 = Date.now();
    const r = await disconnect({ sid: 7, lun: 0, deps, timeoutMs: 20_000 });
    expect(r).toEqual({ removed: [], loggedOut: false, remaining: [1] });
    expect(logouts).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000); // it did wait for the other process
  });

  it('a redirected session (current address differs) waits on the lock of the portal login() was given', async () => {
    const { lockDir, state, logouts, deps } = setup({ address: '192.0.2.99' });
    await holder(lockDir, sessionLockName(TARGET, '192.0.2.10', 3260, 'default'), state, 1000);
    expect(await disconnect({ sid: 7, lun: 0, deps, timeoutMs: 20_000 })).toEqual({ removed: [], loggedOut: false, remaining: [1] });
    expect(logouts).toEqual([]);
  });

  it('once the lock is free and nothing keeps the session, it logs out', async () => {
    const { deps, logouts } = setup();
    expect(await disconnect({ sid: 7, lun: 0, deps, timeoutMs: 5_000 })).toEqual({ removed: [], loggedOut: true, remaining: [] });
    expect(logouts).toEqual([7]);
  });

  it('a lock held past the deadline is SESSION_LOCKED within it; nothing is logged out', async () => {
    const { lockDir, state, logouts, deps } = setup();
    await holder(lockDir, sessionLockName(TARGET, '192.0.2.10', 3260, 'default'), state, 5000);
    const t0 = Date.now();
    const e = await disconnect({ sid: 7, deps, timeoutMs: 700 }).then(() => undefined, (x: unknown) => x as { name: string; code: string });
    expect(e).toMatchObject({ name: 'IscsiTimeoutError', code: 'SESSION_LOCKED' });
    expect(Date.now() - t0).toBeLessThan(700 + 500);
    expect(logouts).toEqual([]);
  });
});
