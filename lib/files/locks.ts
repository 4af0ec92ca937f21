// Cross-process locks that hold: an exclusive flock on a file in a directory only root can write, taken
// through the addon (native/files/). The kernel releases a flock when its file closes, so a holder that dies
// frees the lock by itself: no pid files, no staleness guesses, and lock files are never unlinked (a process
// that unlinked one could free the name while another still holds, or is about to lock, the old file).
//
// Each attempt is one non-blocking flock on the thread pool; between attempts the wait is on timers (1, 2, 4
// ... 16 ms), so no libuv thread is ever parked on a holder, and the caller's deadline and AbortSignal end it.
import { createHash } from 'node:crypto';
import { fromNative, IscsiAbortError, IscsiError, IscsiPermissionError, IscsiTimeoutError, throwIfAborted } from '../errors';
import { native, type NativeBinding, type NativeLockHandle } from '../native';
import { sleepUnlessAborted } from '../deadline';

/** Our lock directory. Shared with open-iscsi's own /run/lock/iscsi by containers that mount /run/lock. */
export const LOCK_DIR = '/run/lock/openiscsi';

export interface LockOptions {
  /** Default LOCK_DIR. Created (mode 0700) when absent; refused unless root's and root-only. */
  dir?: string | undefined;
  /** Date.now() after which the wait gives up with LOCK_TIMEOUT. */
  deadline: number;
  signal?: AbortSignal | undefined;
  /** Test seam. */
  binding?: Pick<NativeBinding, 'tryLockFile'> | undefined;
}

const UNSAFE_HINT = 'another user may have planted it: check who made it, and remove it as root (the library recreates the directory with mode 0700); nothing was created in it';

/** The typed error for a native lock failure: a planted directory or file, no privilege, or an I/O error. */
function lockError(e: unknown, name: string): unknown {
  const err = fromNative(e, `lock ${name}`);
  if (!(err instanceof IscsiError)) return err;
  const options = { cause: err.cause ?? err, ...(err.errno !== undefined ? { errno: err.errno } : {}), details: { lock: name } };
  if (err.code === 'LOCK_DIR_UNSAFE' || err.code === 'LOCK_FILE_UNSAFE') return new IscsiPermissionError(err.code, err.message, { ...options, hint: UNSAFE_HINT });
  if (err.code === 'LOCK_ACCESS') return new IscsiPermissionError(err.code, err.message, { ...options, hint: 'the lock directory is root-only: run as root' });
  return err;
}

/** Takes the lock, or rejects with LOCK_TIMEOUT at the deadline or ABORTED when the signal fires. */
export async function acquireLock(name: string, o: LockOptions): Promise<NativeLockHandle> {
  const binding = o.binding ?? native();
  const dir = o.dir ?? LOCK_DIR;
  for (let delay = 1; ; delay = Math.min(delay * 2, 16)) {
    throwIfAborted(o.signal, `waiting for lock ${name}`);
    let handle: NativeLockHandle | null;
    try {
      handle = await binding.tryLockFile(dir, name);
    } catch (e) {
      throw lockError(e, name);
    }
    if (handle) {
      if (!o.signal?.aborted) return handle;
      await handle.release();
      throw new IscsiAbortError(`waiting for lock ${name} was aborted`);
    }
    const left = o.deadline - Date.now();
    if (!(left > 0)) {
      throw new IscsiTimeoutError('LOCK_TIMEOUT', `lock ${dir}/${name} is held by another process or call`, { errno: 11, details: { lock: `${dir}/${name}` } });
    }
    await sleepUnlessAborted(Math.min(delay, left), o.signal);
  }
}

/** Runs `fn` holding the exclusive lock `name` (a file in `dir`); released when `fn` settles, or when the process dies. */
export async function withLock<T>(name: string, o: LockOptions, fn: () => Promise<T>): Promise<T> {
  const handle = await acquireLock(name, o);
  try {
    return await fn();
  } finally {
    await handle.release();
  }
}

/**
 * The lock for one session key (target, portal address, port, iface): login() holds it from looking for an
 * existing session until its answer (connect() until its LUN's device is there), and disconnect() holds it
 * from deciding until the logout, so neither acts on a session the other is still deciding about.
 */
export function sessionLockName(target: string, address: string, port: number, iface: string): string {
  return `login-${createHash('sha256').update(`${target}|${address}|${port}|${iface}`).digest('hex').slice(0, 32)}.lock`;
}

/** withLock for several names at once: taken in sorted order (so two callers cannot deadlock), released in reverse. */
export async function withLocks<T>(names: string[], o: LockOptions, fn: () => Promise<T>): Promise<T> {
  const sorted = [...new Set(names)].sort();
  const take = (i: number): Promise<T> => (i === sorted.length ? fn() : withLock(sorted[i]!, o, () => take(i + 1)));
  return take(0);
}
