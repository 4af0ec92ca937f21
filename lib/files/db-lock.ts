// open-iscsi's database lock (/run/lock/iscsi): taken for writes by withIscsiDbLock(), and waited for by
// the read path. libopeniscsiusr's ifaces and nodes listings take it
// (link(lock, lock.write), retried every 10 ms for 30 s) on the thread that runs them: with a stale lock.write,
// a libuv thread would spin for 30 s and the process could not exit before it ends. So the native listing
// looks for lock.write first and answers DB_LOCK_HELD instead of calling in; the wait happens here, on
// timers, within the caller's deadline and AbortSignal, asking the listing again each time. With no lock
// (the usual case) that is one trip to the thread pool.
import { constants as fsc, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { IscsiAbortError, IscsiError, IscsiPermissionError, IscsiTimeoutError, throwIfAborted } from '../errors';
import { sleepUnlessAborted, withDeadline, type WaitOptions } from '../deadline';

export const DB_LOCK_DIR = '/run/lock/iscsi';

export interface DbLockWaitOptions {
  /** Test seam: where `lock.write` lives. */
  lockDir?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** The native listing's answer when it found lock.write and did not call libopeniscsiusr. */
export const DB_LOCK_HELD = 'DB_LOCK_HELD';

const lockHeld = (e: unknown) => typeof e === 'object' && e !== null && (e as { code?: unknown }).code === DB_LOCK_HELD;

/**
 * Runs a native call that takes the database lock. `work` gets the lock file to look at and rejects with
 * code DB_LOCK_HELD, without calling libopeniscsiusr, while it exists; it is then asked again after 5, 10,
 * 20, ... 100 ms. One deadline covers the waits and the calls: ISCSI_DB_LOCKED when it passes with the
 * lock still held, ABORTED when the signal fires.
 */
export async function afterDbUnlock<T>(what: string, o: WaitOptions & DbLockWaitOptions, defaultTimeoutMs: number, work: (lockFile: string) => Promise<T>): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? defaultTimeoutMs);
  const lockFile = path.join(o.lockDir ?? DB_LOCK_DIR, 'lock.write');
  let sawLock = false;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    if (o.signal?.aborted) throw new IscsiAbortError(`${what} was aborted`);
    try {
      return await withDeadline(work(lockFile), what, { signal: o.signal, timeoutMs: Math.max(1, deadline - Date.now()) }, 0);
    } catch (e) {
      // the deadline passing during a retry (a slow thread pool on a loaded machine) while the lock is still
      // there is the lock's doing; once it is gone, the timeout is just a timeout
      if (sawLock && e instanceof IscsiTimeoutError && e.code === 'TIMEOUT' && (await exists(lockFile))) throw dbLockedError(lockFile, { what, errno: 16, cause: e });
      if (!lockHeld(e)) throw e;
      sawLock = true;
    }
    const left = deadline - Date.now();
    if (!(left > 0)) throw dbLockedError(lockFile, { what, errno: 16 });
    await sleepUnlessAborted(Math.min(delay, left), o.signal);
  }
}

const exists = (file: string) => fs.lstat(file).then(() => true, () => false);

/** ISCSI_DB_LOCKED: the lock was still held when a wait for it ended, whoever waited (us, libopeniscsiusr). */
export function dbLockedError(lockFile: string, o: { what?: string; errno?: number | undefined; cause?: unknown } = {}): IscsiTimeoutError {
  return new IscsiTimeoutError('ISCSI_DB_LOCKED', `${o.what ? `${o.what}: ` : ''}open-iscsi's database lock ${lockFile} is held`, {
    ...(o.errno !== undefined ? { errno: o.errno } : {}),
    ...(o.cause !== undefined ? { cause: o.cause } : {}),
    hint: 'another iscsiadm may be running, or a crashed one left the lock behind',
    details: { lockFile },
  });
}

/** ISCSI_DB_LOCKED when libopeniscsiusr itself gave up on the lock (taken between our check and its call). */
export function dbLockedFrom(err: IscsiError): IscsiTimeoutError | undefined {
  if (err.code !== 'USR_IDBM' || !/Could not lock/.test(err.message)) return undefined;
  return dbLockedError(path.join(DB_LOCK_DIR, 'lock.write'), { errno: err.errno, cause: err });
}

/**
 * open-iscsi's lock directory must be root's: a real directory (lstat: not a symbolic link) owned by uid 0
 * that others cannot write (iscsiadm creates it 0660 less the umask, so group write is allowed for group 0).
 * Else anyone could plant `lock.write` (blocking every writer) or swap `lock`. LOCK_DIR_UNSAFE.
 */
async function checkDbLockDir(dir: string): Promise<void> {
  const st = await fs.lstat(dir);
  const groupWrite = (st.mode & 0o020) !== 0 && st.gid !== 0;
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o002) !== 0 || groupWrite) {
    const kind = st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a directory';
    throw new IscsiPermissionError('LOCK_DIR_UNSAFE', `open-iscsi's lock directory ${dir} is ${kind} owned by uid ${st.uid} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}), not a directory only root can write`, {
      hint: 'another user may have planted it: check who made it, and remove it as root (iscsiadm recreates it); nothing was created in it',
      details: { lock: dir },
    });
  }
}

/**
 * Holds open-iscsi's database write lock (shared with iscsiadm and libopeniscsiusr: a hard link of
 * <lockDir>/lock named lock.write) while `fn` runs. Waits up to `timeoutMs` (default 30 s) for another
 * holder; an abort while waiting gives up without running `fn`.
 */
export async function withIscsiDbLock<T>(fn: () => Promise<T>, o: { lockDir?: string | undefined; timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = {}): Promise<T> {
  const what = "waiting for open-iscsi's database lock";
  throwIfAborted(o.signal, what);
  const dir = o.lockDir ?? DB_LOCK_DIR;
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  await checkDbLockDir(dir);
  const lock = path.join(dir, 'lock');
  const write = path.join(dir, 'lock.write');
  // O_NOFOLLOW: a `lock` planted as a symbolic link would make the link() below, and iscsiadm's, lock through it.
  await fs.open(lock, fsc.O_CREAT | fsc.O_WRONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK, 0o600).then(
    (h) => h.close(),
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ELOOP') throw new IscsiPermissionError('LOCK_FILE_UNSAFE', `open-iscsi's lock file ${lock} is a symbolic link`, { cause: e, hint: 'another user may have planted it: check who made it, and remove it as root' });
      if (e.code === 'EACCES' || e.code === 'EPERM') throw new IscsiPermissionError('LOCK_ACCESS', `cannot open open-iscsi's lock file ${lock}`, { cause: e, hint: 'run as root' });
      throw e;
    },
  );
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (;;) {
    try {
      await fs.link(lock, write);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (Date.now() > deadline) {
        throw dbLockedError(write);
      }
      await new Promise((r) => setTimeout(r, 10));
      throwIfAborted(o.signal, what);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.unlink(write).catch(() => {});
  }
}
