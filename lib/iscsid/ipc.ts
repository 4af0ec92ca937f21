// Requests to iscsid's management socket: framing and waiting are native, meaning and errors are here.
import { native, type NativeBinding, type NativeIpcHandle, type NativeIpcResponse, type NativeIscsidPeer } from '../native';
import { fromNative, IscsiAbortError, IscsiError, IscsiPermissionError, IscsiTimeoutError, IscsiUnsupportedError } from '../errors';
import { iscsidError } from './error-numbers';
import type { AbiFamily } from './version';
import { checkRecordFitsFamily, wireDiscType, type LoginRecord } from './record';

export const IPC_COMMAND = {
  SESSION_LOGIN: 1,
  SESSION_LOGOUT: 2,
  SESSION_STATS: 7,
  CONFIG_INAME: 8,
  CONFIG_IALIAS: 9,
  CONFIG_FILE: 10,
  SESSION_INFO: 13,
} as const;
export type IpcCommand = keyof typeof IPC_COMMAND;

export interface IpcOptions {
  family: AbiFamily;
  sid?: number;
  record?: LoginRecord;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /**
   * The pid identifyIscsid() found, whose executable chose `family`: the request goes to that process or
   * nowhere (ISCSID_PEER_CHANGED). 0 or absent: any root peer (an explicit `abi` override chose the family).
   */
  expectedPid?: number | undefined;
  /** Test seam: another abstract socket name. */
  socketName?: string | undefined;
  binding?: Pick<NativeBinding, 'buildRequest' | 'ipcRequest'>;
}

const NOT_RUNNING_HINT =
  'start iscsid (systemctl start iscsid); in a container, its socket is only reachable from the host network namespace (Kubernetes: hostNetwork: true)';

/** The typed error for a failed exchange or identification. */
function exchangeError(e: unknown, what: string): unknown {
  const err = fromNative(e, what);
  if (!(err instanceof IscsiError)) return err;
  const options = { cause: err, ...(err.errno !== undefined ? { errno: err.errno } : {}) };
  switch (err.code) {
    case 'ABORTED':
      return new IscsiAbortError(`${what} was aborted`, { cause: err });
    case 'ISCSID_TIMEOUT':
      return new IscsiTimeoutError('ISCSID_TIMEOUT', err.message, options);
    case 'ISCSID_NOT_RUNNING':
      return new IscsiError('ISCSID_NOT_RUNNING', err.message, { ...options, hint: NOT_RUNNING_HINT });
    case 'ISCSID_PEER_UNTRUSTED':
      return new IscsiPermissionError(err.code, err.message, { ...options, hint: 'another user holds iscsid\'s socket name: stop that process and (re)start iscsid' });
    case 'ISCSID_PEER_PID_HIDDEN':
      return new IscsiUnsupportedError(err.code, err.message, {
        ...options,
        hint: 'run in the host\'s pid namespace (Kubernetes: hostPID: true), or pass { abi } (or OPENISCSI_ABI) naming the host\'s open-iscsi version',
      });
    case 'ISCSID_PEER_CHANGED':
      return new IscsiError(err.code, err.message, { ...options, hint: 'iscsid restarted meanwhile: retry' });
    default:
      return err;
  }
}

async function settle<T>(handle: NativeIpcHandle<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  const onAbort = () => handle.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await handle.promise;
  } catch (e) {
    throw exchangeError(e, what);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

export interface IdentifyOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  socketName?: string | undefined;
  binding?: Pick<NativeBinding, 'identifyIscsid'> | undefined;
}

/**
 * Who listens on iscsid's socket: connects, reads SO_PEERCRED, closes, sending nothing. Only a root peer with
 * a pid visible here is an answer (ISCSID_PEER_UNTRUSTED, ISCSID_PEER_PID_HIDDEN, ISCSID_NOT_RUNNING).
 */
export async function identifyIscsid(o: IdentifyOptions): Promise<NativeIscsidPeer> {
  if (o.signal?.aborted) throw new IscsiAbortError('identifying iscsid was aborted');
  const binding = o.binding ?? native();
  return settle(binding.identifyIscsid(o.timeoutMs, o.socketName), o.signal, 'identifying iscsid');
}

/** Sends one request; resolves with iscsid's answer when err == 0, else rejects with the typed iscsid error. */
export async function iscsidRequest(command: IpcCommand, o: IpcOptions): Promise<NativeIpcResponse> {
  if (o.signal?.aborted) throw new IscsiAbortError(`${command} was aborted before it was sent`);
  if (o.record) checkRecordFitsFamily(o.record, o.family);
  const binding = o.binding ?? native();
  const record = o.record && { ...o.record, discType: wireDiscType(o.record.discType, o.family) };
  const bytes = binding.buildRequest(o.family, IPC_COMMAND[command], o.sid ?? 0, record);
  const rsp: NativeIpcResponse = await settle(binding.ipcRequest(bytes, o.timeoutMs, o.socketName, o.expectedPid ?? 0), o.signal, command);
  if (rsp.err !== 0) throw iscsidError(rsp.err, command);
  if (rsp.command !== IPC_COMMAND[command]) {
    throw new IscsiError('ISCSID_COMM_ERR', `${command}: iscsid answered command ${rsp.command}`, { errno: 18 });
  }
  return rsp;
}
