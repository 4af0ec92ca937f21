// Waiting for a session to reach a state (its disks attached, a LUN's block device present). Every waiter
// in the process shares one read per tick (sessions({ sids })): 32 attaches at once cost one native call
// per poll, not 32, which is what kept the event loop busy during a 32-volume storm.
import { sessions, type Session, type SessionReadOptions } from './session';
import { throwIfAborted } from './errors';

type Binding = SessionReadOptions['binding'];

export interface WaitResult {
  /** The session as last read; undefined when it is gone. */
  session?: Session;
  /** Whether `ready` held before the deadline. */
  ready: boolean;
}

interface Waiter {
  sid: number;
  ready: (s: Session) => boolean;
  started: number;
  until: number;
  signal: AbortSignal | undefined;
  resolve: (r: WaitResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Poll intervals: fine at first (a disk usually attaches within tens of ms), then coarser; and at least
 * 1 ms per session waited for, so that the JS thread's share (parsing what was read) stays small when
 * many attaches wait at once.
 */
export function pollDelayMs(waitedMs: number, waiting = 1): number {
  return Math.max(waitedMs < 250 ? 5 : 25, waiting);
}

const groups = new Map<Binding | undefined, Set<Waiter>>();

async function poll(binding: Binding | undefined, waiters: Set<Waiter>): Promise<void> {
  let first = true;
  while (waiters.size > 0) {
    if (!first) {
      const now = Date.now();
      const delay = Math.min(...[...waiters].map((w) => pollDelayMs(now - w.started, waiters.size)));
      await new Promise((r) => setTimeout(r, delay));
    }
    first = false;
    const sids = [...new Set([...waiters].map((w) => w.sid))];
    let list: Session[];
    try {
      list = await sessions({ sids, ...(binding ? { binding } : {}) });
    } catch (e) {
      for (const w of waiters) w.reject(e);
      waiters.clear();
      break;
    }
    const now = Date.now();
    const read = new Set(sids);
    for (const w of [...waiters]) {
      if (!read.has(w.sid)) continue; // joined while this read was in flight: judged on the next one
      const s = list.find((x) => x.sid === w.sid);
      const settle = (r: WaitResult) => {
        waiters.delete(w);
        w.resolve(r);
      };
      if (w.signal?.aborted) {
        waiters.delete(w);
        w.reject(w.signal.reason);
      } else if (!s) settle({ ready: false });
      else if (w.ready(s)) settle({ session: s, ready: true });
      else if (now >= w.until) settle({ session: s, ready: false });
    }
  }
  groups.delete(binding);
}

/**
 * Resolves once session `sid` satisfies `ready`, or at `until` with the session as last read (ready:
 * false), or when the session is gone (no session). Rejects on abort or a read error.
 */
export function waitForSession(sid: number, ready: (s: Session) => boolean, o: { until: number; signal?: AbortSignal | undefined; binding?: Binding }): Promise<WaitResult> {
  throwIfAborted(o.signal);
  return new Promise<WaitResult>((resolve, reject) => {
    let waiters = groups.get(o.binding);
    const start = !waiters;
    if (!waiters) {
      waiters = new Set();
      groups.set(o.binding, waiters);
    }
    waiters.add({ sid, ready, started: Date.now(), until: o.until, signal: o.signal, resolve, reject });
    if (start) void poll(o.binding, waiters);
  });
}
