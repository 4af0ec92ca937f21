// The connection of a discovery session: a TCP connection (optionally from a given source address) that
// the guard destroys when it fires, framed into target PDUs; NOP-In pings are handed on, Async Messages
// skipped, PDUs nobody waits for queued (bounded).
import * as net from 'node:net';
import { IscsiError } from '../errors';
import { MAX_RECV_DATA_SEGMENT_LENGTH, PduReader, RESERVED_TAG, protocolError } from './frame';
import { decodeTargetPdu, type TargetPdu } from './pdu';
import type { NopIn } from './pdu-control';
import { LIMITS, type Guard } from './guard';

/** Where and how the session's connection is made. */
export interface ConnectOptions {
  /** An IP address (host names are resolved by the caller, within the same guard). */
  host: string;
  port: number;
  localAddress?: string | undefined;
  guard: Guard;
  connect?: ((o: net.NetConnectOpts) => net.Socket) | undefined;
}

function connectFailed(o: ConnectOptions, e: unknown): IscsiError {
  const err = e as NodeJS.ErrnoException;
  const errnoName = typeof err?.code === 'string' ? err.code : undefined;
  const from = o.localAddress ? ` from ${o.localAddress}` : '';
  const hint =
    errnoName === 'EADDRNOTAVAIL' || errnoName === 'EINVAL'
      ? 'localAddress must be an address of this host, of the same family as the portal'
      : errnoName === 'ECONNREFUSED'
        ? 'nothing listens on that portal: check the address and port, and that the target runs'
        : undefined;
  return new IscsiError('DISCOVERY_CONNECT_FAILED', `cannot connect to ${net.isIP(o.host) === 6 ? `[${o.host}]` : o.host}:${o.port}${from}: ${errnoName ?? err?.message ?? String(e)}`, {
    cause: e,
    details: { errnoName, address: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) },
    ...(hint ? { hint } : {}),
  });
}

export function connectSocket(o: ConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const opts: net.NetConnectOpts = { host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) };
    let s: net.Socket;
    try {
      s = (o.connect ?? net.connect)(opts);
    } catch (e) {
      reject(connectFailed(o, e));
      return;
    }
    // From here on an 'error' never goes unhandled, whoever owns the socket.
    s.on('error', () => {});
    const off = o.guard.onFire((e) => {
      s.destroy();
      reject(e);
    });
    const onError = (e: Error) => {
      off();
      s.removeListener('connect', onConnect);
      s.destroy();
      reject(connectFailed(o, e));
    };
    const onConnect = () => {
      off();
      s.removeListener('error', onError);
      if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
      resolve(s);
    };
    s.once('error', onError);
    s.once('connect', onConnect);
  });
}

/** The socket, framed into target PDUs. NOP-In pings are answered; Async Messages are noted and skipped. */
export class Connection {
  private readonly reader = new PduReader(MAX_RECV_DATA_SEGMENT_LENGTH);
  private readonly queue: TargetPdu[] = [];
  private waiter: { resolve: (p: TargetPdu) => void; reject: (e: unknown) => void } | undefined;
  private failure: unknown;
  private readonly unguard: () => void;
  onPing: ((nop: NopIn) => void) | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly guard: Guard,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => this.fail(this.closed(e.code)));
    socket.on('close', () => this.fail(this.closed(undefined)));
    this.unguard = guard.onFire((e) => this.fail(e));
  }

  private closed(errnoName: string | undefined): IscsiError {
    const phase = this.guard.phase;
    return new IscsiError('DISCOVERY_CONNECTION_CLOSED', `the target closed the connection during ${phase}${errnoName ? ` (${errnoName})` : ''}`, {
      details: { phase, ...(errnoName ? { errnoName } : {}) },
    });
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    try {
      this.reader.push(chunk);
      for (let f = this.reader.next(); f; f = this.reader.next()) this.deliver(decodeTargetPdu(f));
    } catch (e) {
      this.fail(e);
    }
  }

  private deliver(p: TargetPdu): void {
    if (p.kind === 'nop-in') {
      if (p.ttt !== RESERVED_TAG) this.onPing?.(p);
      return;
    }
    // Async events (logout requested, connection about to drop, renegotiation): a discovery session is about
    // to end anyway; a drop shows up as a close.
    if (p.kind === 'async') return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(p);
      return;
    }
    if (this.queue.length >= LIMITS.queuedPdus) throw protocolError(`the target sent more than ${LIMITS.queuedPdus} PDUs nobody asked for`);
    this.queue.push(p);
  }

  send(pdu: Buffer): void {
    if (this.failure !== undefined) throw this.failure;
    this.socket.write(pdu);
  }

  receive(): Promise<TargetPdu> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  fail(e: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    this.socket.destroy();
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }

  close(): void {
    this.unguard();
    this.fail(new Error('the discovery session is over'));
  }
}
