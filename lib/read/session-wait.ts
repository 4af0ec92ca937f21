// Waiting for a session to reach a state (its disks attached, a LUN's block device present). Every waiter
// in the process shares one read per poll (sessions({ sids })): 32 attaches at once cost one native call
// per poll, not 32. Polls are woken by new nodes in /dev (inotify; the kernel creates a disk's node as
// it attaches it), with a timer as the fallback, so a storm of attaches reads sysfs about once per disk
// instead of every few milliseconds.
import { watch, type FSWatcher } from 'node:fs';
import { sessions, type Session, type SessionReadOptions } from './sessions';
import { throwIfAborted } from '../errors';

type Binding = SessionReadOptions['binding'];

export interface WaitResult {
  /** The session as last read; undefined when it is gone. */
  session?: Session;
  /** Whether `ready` held before the deadline. */
  ready: boolean;
}

export interface SessionWaitOptions {
  until: number;
  signal?: AbortSignal | undefined;
  binding?: Binding;
  /** Test seams: the directory whose changes wake the poll, and the timer's interval while it is watched. */
  watchDir?: string;
  fallbackMs?: number;
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
 * Poll intervals without a watch: fine at first (a disk usually attaches within tens of ms), then
 * coarser; and at least 1 ms per session waited for, so the JS thread's share (parsing what was read)
 * stays small when many attaches wait at once.
 */
function pollDelayMs(waitedMs: number, waiting = 1): number {
  return Math.max(waitedMs < 250 ? 5 : 25, waiting);
}

const WATCHED_FALLBACK_MS = 50;

interface Group {
  waiters: Set<Waiter>;
  wake?: (() => void) | undefined;
}

const groups = new Map<string, Group>();
const bindingIds = new WeakMap<object, number>();
let nextBindingId = 1;
const keyOf = (b: Binding | undefined, dir: string) => {
  if (b && !bindingIds.has(b)) bindingIds.set(b, nextBindingId++);
  return `${b ? bindingIds.get(b) : 0}\n${dir}`;
};

function startWatch(dir: string, g: Group): FSWatcher | undefined {
  try {
    const w = watch(dir, { persistent: false }, () => g.wake?.());
    w.on('error', () => w.close());
    return w;
  } catch {
    return undefined; // no inotify there (a static /dev in a container): timers only
  }
}

async function poll(key: string, g: Group, binding: Binding | undefined, dir: string, fallbackMs: number): Promise<void> {
  const watcher = startWatch(dir, g);
  const { waiters } = g;
  let first = true;
  try {
    while (waiters.size > 0) {
      if (!first) {
        const now = Date.now();
        const delay = watcher ? fallbackMs : Math.min(...[...waiters].map((w) => pollDelayMs(now - w.started, waiters.size)));
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, delay);
          function done() {
            clearTimeout(t);
            g.wake = undefined;
            resolve();
          }
          g.wake = done;
        });
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
  } finally {
    watcher?.close();
    groups.delete(key);
  }
}

/**
 * Resolves once session `sid` satisfies `ready`, or at `until` with the session as last read (ready:
 * false), or when the session is gone (no session). Rejects on abort or a read error.
 */
export function waitForSession(sid: number, ready: (s: Session) => boolean, o: SessionWaitOptions): Promise<WaitResult> {
  throwIfAborted(o.signal);
  const dir = o.watchDir ?? '/dev';
  const key = keyOf(o.binding, dir);
  return new Promise<WaitResult>((resolve, reject) => {
    let g = groups.get(key);
    const start = !g;
    if (!g) {
      g = { waiters: new Set() };
      groups.set(key, g);
    }
    g.waiters.add({ sid, ready, started: Date.now(), until: o.until, signal: o.signal, resolve, reject });
    if (start) void poll(key, g, o.binding, dir, o.fallbackMs ?? WATCHED_FALLBACK_MS);
  });
}
