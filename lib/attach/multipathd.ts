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
  /**
   * multipathd's path checker, which may contain a space: ready / faulty / shaky / ghost / delayed /
   * "i/o pending" (an asynchronous check, e.g. the first TUR, has not answered yet) / "i/o timeout" / undef
   * (not checked yet).
   */
  checkerState: string;
}

const DEV = /^[a-z][a-z0-9!_-]*$/;

/**
 * One line of `show paths raw format "%d %m %t %T"`: device, map, dm state, then the checker state as the
 * rest of the line (it can contain spaces). Lines that are not of that shape (blank, a "fail" answer, a
 * header on builds that print one) give undefined.
 */
export function parsePathLine(line: string): MultipathdPath | undefined {
  const m = /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S.*?)\s*$/.exec(line);
  if (!m || !DEV.test(m[1]!) || m[1] === 'dev') return undefined;
  return { dev: m[1]!, map: m[2]!, dmState: m[3]!, checkerState: m[4]!.replace(/\s+/g, ' ') };
}

/** Every path multipathd knows, with its map and states. */
export async function multipathdPaths(o: MultipathdOptions = {}): Promise<MultipathdPath[]> {
  const out = await multipathd('show paths raw format "%d %m %t %T"', o);
  return out.split('\n').flatMap((l) => parsePathLine(l) ?? []);
}
