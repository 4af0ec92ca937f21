// multipathd's socket, the way `multipathd <command>` uses it, without spawning it: add a path, remove a map,
// read path states. multipathd must be root (the addon checks SO_PEERCRED before sending). Its answers are text;
// a refusal is "fail" (with a reason on newer builds).
import { fromNative, IscsiError } from '../errors';
import { withDeadline } from '../deadline';
import { native, type NativeBinding } from '../native';

export interface MultipathdOptions {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  binding?: Pick<NativeBinding, 'multipathdCommand'> | undefined;
  /** Test seam: another abstract socket name. */
  socketName?: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Sends one command and returns multipathd's answer; "fail" answers become MULTIPATHD_REFUSED. */
export async function multipathd(command: string, o: MultipathdOptions = {}): Promise<string> {
  const binding = o.binding ?? native();
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let reply: string;
  try {
    reply = await withDeadline(binding.multipathdCommand(command, timeoutMs, o.socketName), `multipathd ${command}`, { timeoutMs: timeoutMs + 1000, signal: o.signal }, timeoutMs + 1000);
  } catch (e) {
    throw fromNative(e, `multipathd ${command}`);
  }
  if (/^fail\b/.test(reply)) {
    const why = reply.replace(/^fail\s*/, '').trim();
    throw new IscsiError('MULTIPATHD_REFUSED', `multipathd refused "${command}"${why ? `: ${why}` : ''}`, { details: { command, reply: reply.slice(0, 500) } });
  }
  return reply;
}

/** Whether multipathd answers on its socket (false only when nobody listens). */
export async function multipathdRunning(o: MultipathdOptions = {}): Promise<boolean> {
  try {
    await multipathd('show daemon', o);
    return true;
  } catch (e) {
    if (e instanceof IscsiError && e.code === 'MULTIPATHD_NOT_RUNNING') return false;
    throw e;
  }
}

export interface MultipathdPath {
  dev: string;
  /** The map's name, or "[orphan]" when the path is in no map. */
  map: string;
  /** device-mapper's view: active / failed / undef. */
  dmState: string;
  /** multipathd's path checker: ready / faulty / shaky / ghost / ... */
  checkerState: string;
}

/** Every path multipathd knows, with its map and states. */
export async function multipathdPaths(o: MultipathdOptions = {}): Promise<MultipathdPath[]> {
  const out = await multipathd('show paths raw format "%d %m %t %T"', o);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 4 && /^[a-z]+[0-9]*$/.test(f[0]!))
    .map(([dev, map, dmState, checkerState]) => ({ dev: dev!, map: map!, dmState: dmState!, checkerState: checkerState! }));
}
