// Bounds a promise by a deadline and an AbortSignal. The underlying work (a native worker) may finish in
// the background; its result is then dropped. Each call has a timer of its own: on a real CPU one costs
// about 0.03 ms of a 1.4 ms sessions() (bench/README.md, "Read-path mechanisms on the host"), so the
// shared timer this replaced did not earn its place.
import { IscsiAbortError, IscsiTimeoutError } from './errors';

export interface WaitOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/** The longest delay setTimeout takes as given. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function withDeadline<T>(work: Promise<T>, what: string, o: WaitOptions, defaultTimeoutMs: number): Promise<T> {
  const timeoutMs = o.timeoutMs ?? defaultTimeoutMs;
  if (o.signal?.aborted) {
    work.catch(() => {});
    return Promise.reject(new IscsiAbortError(`${what} was aborted`));
  }
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    function finish(action: () => void): void {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      action();
    }
    const onAbort = () => finish(() => reject(new IscsiAbortError(`${what} was aborted`)));
    // Like setTimeout: a delay that is not a number of at least 1 ms is 1 ms.
    const ms = timeoutMs >= 1 ? timeoutMs : 1;
    const at = performance.now() + ms;
    const expire = () =>
      finish(() =>
        reject(
          new IscsiTimeoutError('TIMEOUT', `${what} did not finish within ${timeoutMs} ms`, {
            hint: 'another process may hold the open-iscsi database lock (/run/lock/iscsi); check for a stuck iscsiadm',
          }),
        ),
      );
    // A timer may fire a little before its time by this clock, and setTimeout takes at most MAX_TIMER_MS:
    // it is armed again for what is left. Infinity never expires.
    const arm = () => {
      const left = at - performance.now();
      if (left <= 0) return expire();
      timer = setTimeout(arm, Math.min(MAX_TIMER_MS, Math.ceil(left)));
    };
    if (ms !== Infinity) arm();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

/** Resolves after `ms`, or at once when the signal fires (the caller checks the signal after). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
