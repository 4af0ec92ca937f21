// Bounds a promise by a deadline and an AbortSignal. The underlying work (a native worker) may finish in
// the background; its result is then dropped.
//
// Every pending deadline shares one timer, armed for the earliest and kept (unref'd) between calls. A
// fresh timer per call cost about 0.3 ms of every call in the emulated lab, a third of a whole ifaces();
// re-referencing a kept one costs a tenth of that. The shared timer is re-armed only when it fires or a
// nearer deadline arrives.
import { IscsiAbortError, IscsiTimeoutError } from './errors';

export interface WaitOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

interface Pending {
  at: number; // performance.now() at which it expires
  expire: () => void;
}

/** The longest delay setTimeout takes as given. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const pending = new Set<Pending>();
let timer: NodeJS.Timeout | undefined;
let timerAt = Infinity;

function arm(at: number, now: number): void {
  if (timer) clearTimeout(timer);
  timer = setTimeout(onTimer, Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - now))));
  timerAt = at;
}

function onTimer(): void {
  timer = undefined;
  timerAt = Infinity;
  const now = performance.now();
  let next = Infinity;
  for (const p of [...pending]) {
    if (p.at <= now) {
      pending.delete(p);
      p.expire();
    } else if (p.at < next) {
      next = p.at;
    }
  }
  if (next !== Infinity) arm(next, now);
}

function track(p: Pending): void {
  pending.add(p);
  const now = performance.now();
  if (!timer || p.at < timerAt) arm(p.at, now);
  // A timer long overdue may never fire (one made under a test's fake clock): replace it, still for the
  // earliest deadline (timerAt is never later than any pending one), so nothing waits for this call's.
  else if (now > timerAt + 1000) arm(timerAt, now);
  else if (!timer.hasRef()) timer.ref();
}

function untrack(p: Pending): void {
  pending.delete(p);
  if (pending.size === 0 && timer?.hasRef()) timer.unref();
}

export function withDeadline<T>(work: Promise<T>, what: string, o: WaitOptions, defaultTimeoutMs: number): Promise<T> {
  const timeoutMs = o.timeoutMs ?? defaultTimeoutMs;
  if (o.signal?.aborted) {
    work.catch(() => {});
    return Promise.reject(new IscsiAbortError(`${what} was aborted`));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => finish(() => reject(new IscsiAbortError(`${what} was aborted`)));
    // Like setTimeout: a delay that is not a number of at least 1 ms is 1 ms.
    const ms = timeoutMs >= 1 ? timeoutMs : 1;
    const entry: Pending = {
      at: performance.now() + ms,
      expire: () =>
        finish(() =>
          reject(
            new IscsiTimeoutError('TIMEOUT', `${what} did not finish within ${timeoutMs} ms`, {
              hint: 'another process may hold the open-iscsi database lock (/run/lock/iscsi); check for a stuck iscsiadm',
            }),
          ),
        ),
    };
    let settled = false;
    function finish(action: () => void): void {
      if (settled) return;
      settled = true;
      untrack(entry);
      o.signal?.removeEventListener('abort', onAbort);
      action();
    }
    track(entry);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}
