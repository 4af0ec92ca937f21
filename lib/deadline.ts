// Bounds a promise by a deadline and an AbortSignal. The underlying work (a native worker) may finish in
// the background; its result is then dropped.
import { IscsiAbortError, IscsiTimeoutError } from './errors';

export interface WaitOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export function withDeadline<T>(work: Promise<T>, what: string, o: WaitOptions, defaultTimeoutMs: number): Promise<T> {
  const timeoutMs = o.timeoutMs ?? defaultTimeoutMs;
  if (o.signal?.aborted) {
    work.catch(() => {});
    return Promise.reject(new IscsiAbortError(`${what} was aborted`));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => finish(() => reject(new IscsiAbortError(`${what} was aborted`)));
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new IscsiTimeoutError('TIMEOUT', `${what} did not finish within ${timeoutMs} ms`, {
              hint: 'another process may hold the open-iscsi database lock (/run/lock/iscsi); check for a stuck iscsiadm',
            }),
          ),
        ),
      timeoutMs,
    );
    let settled = false;
    function finish(action: () => void): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      action();
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}
