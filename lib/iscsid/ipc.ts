// Requests to iscsid's management socket: framing and waiting are native, meaning and errors are here.
import { native, type NativeBinding, type NativeIpcResponse } from '../native';
import { fromNative, IscsiAbortError, IscsiError, IscsiTimeoutError } from '../errors';
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
  /** Test seam: another abstract socket name. */
  socketName?: string;
  binding?: Pick<NativeBinding, 'buildRequest' | 'ipcRequest'>;
}

/** Sends one request; resolves with iscsid's answer when err == 0, else rejects with the typed iscsid error. */
export async function iscsidRequest(command: IpcCommand, o: IpcOptions): Promise<NativeIpcResponse> {
  if (o.signal?.aborted) throw new IscsiAbortError(`${command} was aborted before it was sent`);
  if (o.record) checkRecordFitsFamily(o.record, o.family);
  const binding = o.binding ?? native();
  const record = o.record && { ...o.record, discType: wireDiscType(o.record.discType, o.family) };
  const bytes = binding.buildRequest(o.family, IPC_COMMAND[command], o.sid ?? 0, record);
  const handle = binding.ipcRequest(bytes, o.timeoutMs, o.socketName);
  const onAbort = () => handle.cancel();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let rsp: NativeIpcResponse;
  try {
    rsp = await handle.promise;
  } catch (e) {
    const err = fromNative(e, command);
    if (err instanceof IscsiError && err.code === 'ABORTED') throw new IscsiAbortError(`${command} was aborted`, { cause: err });
    if (err instanceof IscsiError && err.code === 'ISCSID_TIMEOUT') {
      throw new IscsiTimeoutError('ISCSID_TIMEOUT', err.message, { cause: err, ...(err.errno !== undefined ? { errno: err.errno } : {}) });
    }
    if (err instanceof IscsiError && err.code === 'ISCSID_NOT_RUNNING') {
      throw new IscsiError('ISCSID_NOT_RUNNING', err.message, { cause: err, hint: 'start iscsid (systemctl start iscsid)', ...(err.errno !== undefined ? { errno: err.errno } : {}) });
    }
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (rsp.err !== 0) throw iscsidError(rsp.err, command);
  if (rsp.command !== IPC_COMMAND[command]) {
    throw new IscsiError('ISCSID_COMM_ERR', `${command}: iscsid answered command ${rsp.command}`, { errno: 18 });
  }
  return rsp;
}
