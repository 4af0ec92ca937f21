// Cross-process locks (lib/files/locks.ts over native/files/): mutual exclusion between real processes, a
// directory or file planted by another user refused with nothing created, deadline, abort, a dead holder.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireLock, withLock } from '../../lib/files/locks';
import { IscsiPermissionError, IscsiTimeoutError } from '../../lib/errors';

const root = path.resolve(__dirname, '../..');
const driver = path.join(__dirname, 'drivers/lock-sections.js');
const NOBODY = 65534;

const scratch: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-locks-'));
  scratch.push(d);
  return d;
}
afterEach(() => {
  for (const d of scratch.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs `count` processes × `sections` critical sections at once; returns each process's report. */
async function race(scheme: 'withLock' | 'pidfile', count: number, sections: number): Promise<Array<{ overlaps: number; ms: number; error?: string }>> {
  const base = tmp();
  const lockDir = path.join(base, 'locks');
  const marker = path.join(base, 'marker');
  const go = path.join(base, 'go');
  fs.mkdirSync(lockDir, { mode: 0o700 });
  fs.writeFileSync(marker, '');
  const runs = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, [driver, lockDir, marker, go, String(sections), scheme], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    return new Promise<{ overlaps: number; ms: number; error?: string }>((resolve) => child.on('close', () => resolve(JSON.parse(out.trim() || '{"error":"no output"}'))));
  });
  await new Promise((r) => setTimeout(r, 300)); // every process is up and waiting for the start
  fs.writeFileSync(go, '');
  return Promise.all(runs);
}

const codeOf = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string; name?: string; message?: string }) => e);

describe('withLock: mutual exclusion between processes', () => {
  it('3 processes × 200 critical sections: 0 overlaps', async () => {
    const reports = await race('withLock', 3, 200);
    expect(reports.map((r) => r.error)).toEqual([undefined, undefined, undefined]);
    expect(reports.map((r) => r.overlaps)).toEqual([0, 0, 0]);
  });

  it('the same race under the pid-file scheme it replaced does overlap (the race test can see one)', async () => {
    const reports = await race('pidfile', 3, 200);
    const total = reports.reduce((n, r) => n + r.overlaps, 0);
    expect(total).toBeGreaterThan(0);
  });

  it('a holder that dies (SIGKILL) frees the lock at once, and the lock file stays', async () => {
    const dir = path.join(tmp(), 'locks');
    const holder = spawn(process.execPath, ['-e', `
      const { acquireLock } = require(${JSON.stringify(path.join(root, 'dist/files/locks.js'))});
      acquireLock('held.lock', { dir: ${JSON.stringify(dir)}, deadline: Date.now() + 5000 }).then(() => console.log('held'));
      setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => holder.stdout.on('data', () => r()));
    expect(await codeOf(acquireLock('held.lock', { dir, deadline: Date.now() + 100 }))).toMatchObject({ code: 'LOCK_TIMEOUT' });
    holder.kill('SIGKILL');
    await new Promise((r) => holder.on('close', r));
    const t0 = Date.now();
    const h = await acquireLock('held.lock', { dir, deadline: Date.now() + 2000 });
    expect(Date.now() - t0).toBeLessThan(500);
    await h.release();
    expect(fs.statSync(path.join(dir, 'held.lock')).isFile()).toBe(true);
  });
});

describe('withLock: deadline and abort', () => {
  it('a held lock ends the wait at the deadline with LOCK_TIMEOUT', async () => {
    const dir = path.join(tmp(), 'locks');
    const h = await acquireLock('a.lock', { dir, deadline: Date.now() + 1000 });
    const t0 = Date.now();
    const e = await codeOf(withLock('a.lock', { dir, deadline: Date.now() + 300 }, async () => 'ran'));
    const ms = Date.now() - t0;
    expect(e).toBeInstanceOf(IscsiTimeoutError);
    expect(e).toMatchObject({ code: 'LOCK_TIMEOUT' });
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1500);
    await h.release();
    expect(await withLock('a.lock', { dir, deadline: Date.now() + 300 }, async () => 'ran')).toBe('ran');
  });

  it('an AbortSignal ends the wait at once with ABORTED, and the lock is not taken afterwards', async () => {
    const dir = path.join(tmp(), 'locks');
    const h = await acquireLock('a.lock', { dir, deadline: Date.now() + 1000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    let ran = false;
    const e = await codeOf(withLock('a.lock', { dir, deadline: Date.now() + 20_000, signal: ac.signal }, async () => (ran = true)));
    expect(e).toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(ran).toBe(false);
    await h.release();
    const again = await acquireLock('a.lock', { dir, deadline: Date.now() + 300 });
    await again.release();
  });

  it('the lock is released when fn throws', async () => {
    const dir = path.join(tmp(), 'locks');
    await expect(withLock('a.lock', { dir, deadline: Date.now() + 300 }, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await withLock('a.lock', { dir, deadline: Date.now() + 300 }, async () => 'ran')).toBe('ran');
  });
});

describe('withLock: planted directories and files are refused, nothing is created', () => {
  it('creates an absent directory 0700, owned by root', async () => {
    const dir = path.join(tmp(), 'locks');
    await withLock('a.lock', { dir, deadline: Date.now() + 300 }, async () => {});
    const st = fs.statSync(dir);
    expect(st.mode & 0o777).toBe(0o700);
    expect(st.uid).toBe(0);
    expect(fs.statSync(path.join(dir, 'a.lock')).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['owned by another user', (d: string) => { fs.mkdirSync(d, { mode: 0o700 }); fs.chownSync(d, NOBODY, NOBODY); }, /owned by uid 65534/],
    ['writable by others', (d: string) => { fs.mkdirSync(d); fs.chmodSync(d, 0o1777); }, /mode 1777/],
    ['writable by its group', (d: string) => { fs.mkdirSync(d); fs.chmodSync(d, 0o770); }, /mode 0770/],
    ['a symbolic link to a directory', (d: string) => { const t = `${d}-target`; fs.mkdirSync(t, { mode: 0o700 }); fs.symlinkSync(t, d); }, /symbolic link/],
    ['a regular file', (d: string) => fs.writeFileSync(d, ''), /regular file/],
  ])('directory %s: LOCK_DIR_UNSAFE', async (_what, plant, found) => {
    const dir = path.join(tmp(), 'locks');
    plant(dir);
    let ran = false;
    const e = await codeOf(withLock('a.lock', { dir, deadline: Date.now() + 300 }, async () => (ran = true)));
    expect(e).toBeInstanceOf(IscsiPermissionError);
    expect(e).toMatchObject({ code: 'LOCK_DIR_UNSAFE' });
    expect((e as Error).message).toMatch(found);
    expect((e as Error).message).toMatch(/remove it as root/);
    expect(ran).toBe(false);
    expect(fs.existsSync(path.join(dir, 'a.lock'))).toBe(false);
    if (fs.existsSync(`${dir}-target`)) expect(fs.readdirSync(`${dir}-target`)).toEqual([]);
  });

  it.each([
    ['owned by another user', (f: string) => { fs.writeFileSync(f, '', { mode: 0o600 }); fs.chownSync(f, NOBODY, NOBODY); }, /owned by uid 65534/],
    ['a symbolic link', (f: string) => fs.symlinkSync(`${f}-target`, f), /symbolic link/],
    ['a symbolic link to an existing root file', (f: string) => { fs.writeFileSync(`${f}-target`, 'keep', { mode: 0o600 }); fs.symlinkSync(`${f}-target`, f); }, /symbolic link/],
    ['a hard link to another file', (f: string) => { fs.writeFileSync(`${f}-target`, 'keep', { mode: 0o600 }); fs.linkSync(`${f}-target`, f); }, /2 hard links/],
    ['a directory', (f: string) => fs.mkdirSync(f), /a directory/],
    ['a FIFO', (f: string) => spawnSync('mkfifo', ['-m', '600', f]), /a FIFO/],
    ['writable by others', (f: string) => { fs.writeFileSync(f, ''); fs.chmodSync(f, 0o666); }, /mode 0666/],
  ])('lock file %s: LOCK_FILE_UNSAFE', async (_what, plant, found) => {
    const dir = path.join(tmp(), 'locks');
    fs.mkdirSync(dir, { mode: 0o700 });
    const file = path.join(dir, 'a.lock');
    plant(file);
    let ran = false;
    const e = await codeOf(withLock('a.lock', { dir, deadline: Date.now() + 300 }, async () => (ran = true)));
    expect(e).toBeInstanceOf(IscsiPermissionError);
    expect(e).toMatchObject({ code: 'LOCK_FILE_UNSAFE' });
    expect((e as Error).message).toMatch(found);
    expect(ran).toBe(false);
    // A dangling link's target was not created, and an existing one was not touched.
    const target = `${file}-target`;
    if (fs.existsSync(target)) expect(fs.readFileSync(target, 'utf8')).toBe('keep');
    else expect(fs.readdirSync(dir).sort()).toEqual(['a.lock']);
  });

  it('a non-root caller is LOCK_ACCESS, and does not create the directory', () => {
    const base = tmp();
    fs.chmodSync(base, 0o755);
    const script = (dir: string) => `require(${JSON.stringify(path.join(root, 'dist/files/locks.js'))}).withLock('a.lock', { dir: ${JSON.stringify(dir)}, deadline: Date.now() + 300 }, async () => {})
      .then(() => console.log('resolved'), (e) => console.log(e.name, e.code))`;
    const run = (dir: string) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script(dir)], { encoding: 'utf8' }).stdout.trim();
    fs.mkdirSync(path.join(base, 'root-dir'), { mode: 0o700 });
    expect(run(path.join(base, 'root-dir'))).toBe('IscsiPermissionError LOCK_ACCESS');
    // /tmp-like parent the user could write: it still does not create a lock directory of its own.
    const open = path.join(base, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o1777);
    expect(run(path.join(open, 'absent'))).toBe('IscsiPermissionError LOCK_ACCESS');
    expect(fs.existsSync(path.join(open, 'absent'))).toBe(false);
  });
});
