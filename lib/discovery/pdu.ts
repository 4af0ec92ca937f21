// iSCSI PDUs of a discovery session (RFC 7143 §11): a 48-byte basic header segment (BHS), optional additional
// header segments (AHS, skipped), a data segment padded to 4 bytes, no digests (we only ever negotiate None).
// Encoders and decoders for every PDU a discovery session sends or receives: Login, Text, Logout (request and
// response), NOP-Out/NOP-In, Async Message and Reject. Requests and responses both round-trip, so tests can
// play the target with the same code.
//
// Every length read from the wire is checked before it is trusted: a data segment longer than the
// MaxRecvDataSegmentLength we declare is refused as soon as its header arrives, before any of it is buffered.
// Anything malformed is an IscsiProtocolError with code DISCOVERY_PROTOCOL_ERROR, and nothing else is thrown.
import { IscsiProtocolError } from '../errors';

export const OPCODE = {
  NOP_OUT: 0x00,
  LOGIN_REQUEST: 0x03,
  TEXT_REQUEST: 0x04,
  LOGOUT_REQUEST: 0x06,
  NOP_IN: 0x20,
  LOGIN_RESPONSE: 0x23,
  TEXT_RESPONSE: 0x24,
  LOGOUT_RESPONSE: 0x26,
  ASYNC_MESSAGE: 0x32,
  REJECT: 0x3f,
} as const;

export const BHS_LENGTH = 48;
/** The reserved tag value 0xffffffff (no task / no transfer). */
export const RESERVED_TAG = 0xffffffff;
/** What we declare as MaxRecvDataSegmentLength, and the most we accept in one PDU. */
export const MAX_RECV_DATA_SEGMENT_LENGTH = 32768;
/** The largest DataSegmentLength the 24-bit field can carry. */
const MAX_DSL_FIELD = 0xffffff;

/** Login stages (CSG/NSG). 2 is reserved. */
export const STAGE = { SECURITY: 0, OPERATIONAL: 1, FULL_FEATURE: 3 } as const;
export type Stage = 0 | 1 | 3;

export function protocolError(message: string, details?: Record<string, unknown>): IscsiProtocolError {
  return new IscsiProtocolError('DISCOVERY_PROTOCOL_ERROR', `malformed or unexpected answer from the target: ${message}`, details ? { details } : {});
}

const hex = (n: number, digits = 2) => `0x${n.toString(16).padStart(digits, '0')}`;
const padded = (n: number) => n + ((4 - (n % 4)) % 4);

// ---- PDU types ------------------------------------------------------------------------------------------

export interface LoginRequest {
  transit: boolean;
  continue: boolean;
  csg: Stage;
  nsg: Stage;
  versionMax: number;
  versionMin: number;
  /** 6 bytes */
  isid: Buffer;
  tsih: number;
  itt: number;
  cid: number;
  cmdSN: number;
  expStatSN: number;
  data: Buffer;
}

export interface LoginResponse {
  transit: boolean;
  continue: boolean;
  csg: Stage;
  /** Only meaningful when `transit` is set. */
  nsg: Stage;
  versionMax: number;
  versionActive: number;
  isid: Buffer;
  tsih: number;
  itt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  statusClass: number;
  statusDetail: number;
  data: Buffer;
}

export interface TextRequest {
  immediate: boolean;
  final: boolean;
  continue: boolean;
  /** 8 bytes */
  lun: Buffer;
  itt: number;
  ttt: number;
  cmdSN: number;
  expStatSN: number;
  data: Buffer;
}

export interface TextResponse {
  final: boolean;
  continue: boolean;
  lun: Buffer;
  itt: number;
  ttt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  data: Buffer;
}

export interface LogoutRequest {
  /** 0 close the session, 1 close the connection, 2 remove the connection for recovery */
  reasonCode: number;
  itt: number;
  cid: number;
  cmdSN: number;
  expStatSN: number;
}

export interface LogoutResponse {
  /** 0 closed successfully, 1 CID not found, 2 recovery not supported, 3 cleanup failed */
  response: number;
  itt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  time2Wait: number;
  time2Retain: number;
}

export interface NopOut {
  lun: Buffer;
  itt: number;
  ttt: number;
  cmdSN: number;
  expStatSN: number;
  data: Buffer;
}

export interface NopIn {
  lun: Buffer;
  itt: number;
  ttt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  data: Buffer;
}

export interface AsyncMessage {
  lun: Buffer;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  asyncEvent: number;
  asyncVCode: number;
  parameter1: number;
  parameter2: number;
  parameter3: number;
  data: Buffer;
}

export interface Reject {
  reason: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  dataSN: number;
  /** The BHS of the rejected PDU, when the target included it (it must). */
  header: Buffer | undefined;
}

/** What a target can send us, tagged by kind. */
export type TargetPdu =
  | ({ kind: 'login' } & LoginResponse)
  | ({ kind: 'text' } & TextResponse)
  | ({ kind: 'logout' } & LogoutResponse)
  | ({ kind: 'nop-in' } & NopIn)
  | ({ kind: 'async' } & AsyncMessage)
  | ({ kind: 'reject' } & Reject);

/** Reject reasons (RFC 7143 §11.17.1). */
export const REJECT_REASONS: Record<number, string> = {
  0x02: 'data (payload) digest error',
  0x03: 'SNACK reject',
  0x04: 'protocol error',
  0x05: 'command not supported',
  0x06: 'immediate command reject',
  0x07: 'task in progress',
  0x08: 'invalid data ack',
  0x09: 'invalid PDU field',
  0x0a: 'long operation reject',
  0x0b: 'deprecated',
  0x0c: 'waiting for logout',
};

// ---- framing ---------------------------------------------------------------------------------------------

/** One PDU as framed on the wire: its BHS, its AHS (unused here) and its unpadded data segment. */
export interface Frame {
  bhs: Buffer;
  ahs: Buffer;
  data: Buffer;
}

function build(opcode: number, immediate: boolean, byte1: number, data: Buffer, fill: (bhs: Buffer) => void): Buffer {
  if (data.length > MAX_DSL_FIELD) throw new RangeError(`a data segment of ${data.length} bytes does not fit a PDU`);
  const buf = Buffer.alloc(BHS_LENGTH + padded(data.length));
  fill(buf);
  buf[0] = (opcode & 0x3f) | (immediate ? 0x40 : 0);
  buf[1] = byte1 & 0xff;
  buf[4] = 0; // TotalAHSLength: we never send an AHS
  buf.writeUIntBE(data.length, 5, 3);
  data.copy(buf, BHS_LENGTH);
  return buf;
}

function copyInto(buf: Buffer, src: Buffer | undefined, at: number, len: number, what: string): void {
  if (!src) return;
  if (src.length !== len) throw new RangeError(`${what} must be ${len} bytes, not ${src.length}`);
  src.copy(buf, at);
}

/**
 * Incremental framer: push bytes as they arrive, take whole PDUs out. The DataSegmentLength is checked against
 * `maxDataSegmentLength` as soon as the 48-byte header is in, so an oversized PDU is refused before its data is
 * buffered; the AHS is bounded by its one-byte length field (at most 1020 bytes).
 */
export class PduReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxDataSegmentLength = MAX_RECV_DATA_SEGMENT_LENGTH) {}

  /** Bytes received but not yet returned as PDUs. */
  get pending(): number {
    return this.buffered;
  }

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.buffered += bytes.length;
  }

  private head(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!.subarray(0, n);
  }

  next(): Frame | undefined {
    if (this.buffered < BHS_LENGTH) return undefined;
    const bhs = this.head(BHS_LENGTH);
    const ahsLength = bhs[4]! * 4;
    const dataLength = bhs.readUIntBE(5, 3);
    if (dataLength > this.maxDataSegmentLength) {
      throw protocolError(`a PDU (opcode ${hex(bhs[0]! & 0x3f)}) announces a ${dataLength}-byte data segment; at most ${this.maxDataSegmentLength} were allowed`, {
        opcode: bhs[0]! & 0x3f,
        dataSegmentLength: dataLength,
      });
    }
    const total = BHS_LENGTH + ahsLength + padded(dataLength);
    if (this.buffered < total) return undefined;
    const whole = this.head(total);
    const frame: Frame = {
      bhs: Buffer.from(whole.subarray(0, BHS_LENGTH)),
      ahs: Buffer.from(whole.subarray(BHS_LENGTH, BHS_LENGTH + ahsLength)),
      data: Buffer.from(whole.subarray(BHS_LENGTH + ahsLength, BHS_LENGTH + ahsLength + dataLength)),
    };
    const rest = this.chunks[0]!.subarray(total);
    this.chunks.shift();
    if (rest.length) this.chunks.unshift(rest);
    this.buffered -= total;
    return frame;
  }
}

/** Frames one complete PDU held in a buffer (tests, tools). Throws if the buffer is not exactly one PDU. */
export function frameOf(buf: Buffer, maxDataSegmentLength = MAX_DSL_FIELD): Frame {
  const r = new PduReader(maxDataSegmentLength);
  r.push(buf);
  const f = r.next();
  if (!f || r.pending !== 0) throw protocolError(`expected exactly one PDU in ${buf.length} bytes`);
  return f;
}

const opcodeOf = (f: Frame) => f.bhs[0]! & 0x3f;

function expectOpcode(f: Frame, opcode: number, what: string): void {
  if (opcodeOf(f) !== opcode) throw protocolError(`expected a ${what} (opcode ${hex(opcode)}), got opcode ${hex(opcodeOf(f))}`);
}

function stage(v: number, what: string): Stage {
  if (v === 2) throw protocolError(`${what} is the reserved stage 2`);
  return v as Stage;
}

// ---- login ---------------------------------------------------------------------------------------------

function loginByte1(transit: boolean, cont: boolean, csg: Stage, nsg: Stage): number {
  return (transit ? 0x80 : 0) | (cont ? 0x40 : 0) | ((csg & 3) << 2) | (transit ? nsg & 3 : 0);
}

function loginFlags(f: Frame, what: string): { transit: boolean; continue: boolean; csg: Stage; nsg: Stage } {
  const b1 = f.bhs[1]!;
  const transit = (b1 & 0x80) !== 0;
  const cont = (b1 & 0x40) !== 0;
  if (transit && cont) throw protocolError(`${what} has both the T and the C bit set`);
  const csg = stage((b1 >> 2) & 3, `${what} CSG`);
  const nsg = transit ? stage(b1 & 3, `${what} NSG`) : ((b1 & 3) === 2 ? 0 : ((b1 & 3) as Stage));
  return { transit, continue: cont, csg, nsg };
}

export function encodeLoginRequest(r: LoginRequest): Buffer {
  return build(OPCODE.LOGIN_REQUEST, true, loginByte1(r.transit, r.continue, r.csg, r.nsg), r.data, (b) => {
    b[2] = r.versionMax;
    b[3] = r.versionMin;
    copyInto(b, r.isid, 8, 6, 'ISID');
    b.writeUInt16BE(r.tsih, 14);
    b.writeUInt32BE(r.itt >>> 0, 16);
    b.writeUInt16BE(r.cid, 20);
    b.writeUInt32BE(r.cmdSN >>> 0, 24);
    b.writeUInt32BE(r.expStatSN >>> 0, 28);
  });
}

export function decodeLoginRequest(f: Frame): LoginRequest {
  expectOpcode(f, OPCODE.LOGIN_REQUEST, 'Login Request');
  const b = f.bhs;
  return {
    ...loginFlags(f, 'Login Request'),
    versionMax: b[2]!,
    versionMin: b[3]!,
    isid: Buffer.from(b.subarray(8, 14)),
    tsih: b.readUInt16BE(14),
    itt: b.readUInt32BE(16),
    cid: b.readUInt16BE(20),
    cmdSN: b.readUInt32BE(24),
    expStatSN: b.readUInt32BE(28),
    data: f.data,
  };
}

export function encodeLoginResponse(r: LoginResponse): Buffer {
  return build(OPCODE.LOGIN_RESPONSE, false, loginByte1(r.transit, r.continue, r.csg, r.nsg), r.data, (b) => {
    b[2] = r.versionMax;
    b[3] = r.versionActive;
    copyInto(b, r.isid, 8, 6, 'ISID');
    b.writeUInt16BE(r.tsih, 14);
    b.writeUInt32BE(r.itt >>> 0, 16);
    b.writeUInt32BE(r.statSN >>> 0, 24);
    b.writeUInt32BE(r.expCmdSN >>> 0, 28);
    b.writeUInt32BE(r.maxCmdSN >>> 0, 32);
    b[36] = r.statusClass;
    b[37] = r.statusDetail;
  });
}

export function decodeLoginResponse(f: Frame): LoginResponse {
  expectOpcode(f, OPCODE.LOGIN_RESPONSE, 'Login Response');
  const b = f.bhs;
  return {
    ...loginFlags(f, 'Login Response'),
    versionMax: b[2]!,
    versionActive: b[3]!,
    isid: Buffer.from(b.subarray(8, 14)),
    tsih: b.readUInt16BE(14),
    itt: b.readUInt32BE(16),
    statSN: b.readUInt32BE(24),
    expCmdSN: b.readUInt32BE(28),
    maxCmdSN: b.readUInt32BE(32),
    statusClass: b[36]!,
    statusDetail: b[37]!,
    data: f.data,
  };
}

// ---- text ----------------------------------------------------------------------------------------------

function textFlags(f: Frame, what: string): { final: boolean; continue: boolean } {
  const final = (f.bhs[1]! & 0x80) !== 0;
  const cont = (f.bhs[1]! & 0x40) !== 0;
  if (final && cont) throw protocolError(`${what} has both the F and the C bit set`);
  return { final, continue: cont };
}

export function encodeTextRequest(r: TextRequest): Buffer {
  return build(OPCODE.TEXT_REQUEST, r.immediate, (r.final ? 0x80 : 0) | (r.continue ? 0x40 : 0), r.data, (b) => {
    copyInto(b, r.lun, 8, 8, 'LUN');
    b.writeUInt32BE(r.itt >>> 0, 16);
    b.writeUInt32BE(r.ttt >>> 0, 20);
    b.writeUInt32BE(r.cmdSN >>> 0, 24);
    b.writeUInt32BE(r.expStatSN >>> 0, 28);
  });
}

export function decodeTextRequest(f: Frame): TextRequest {
  expectOpcode(f, OPCODE.TEXT_REQUEST, 'Text Request');
  const b = f.bhs;
  return {
    immediate: (b[0]! & 0x40) !== 0,
    ...textFlags(f, 'Text Request'),
    lun: Buffer.from(b.subarray(8, 16)),
    itt: b.readUInt32BE(16),
    ttt: b.readUInt32BE(20),
    cmdSN: b.readUInt32BE(24),
    expStatSN: b.readUInt32BE(28),
    data: f.data,
  };
}

export function encodeTextResponse(r: TextResponse): Buffer {
  return build(OPCODE.TEXT_RESPONSE, false, (r.final ? 0x80 : 0) | (r.continue ? 0x40 : 0), r.data, (b) => {
    copyInto(b, r.lun, 8, 8, 'LUN');
    b.writeUInt32BE(r.itt >>> 0, 16);
    b.writeUInt32BE(r.ttt >>> 0, 20);
    b.writeUInt32BE(r.statSN >>> 0, 24);
    b.writeUInt32BE(r.expCmdSN >>> 0, 28);
    b.writeUInt32BE(r.maxCmdSN >>> 0, 32);
  });
}

export function decodeTextResponse(f: Frame): TextResponse {
  expectOpcode(f, OPCODE.TEXT_RESPONSE, 'Text Response');
  const b = f.bhs;
  return {
    ...textFlags(f, 'Text Response'),
    lun: Buffer.from(b.subarray(8, 16)),
    itt: b.readUInt32BE(16),
    ttt: b.readUInt32BE(20),
    statSN: b.readUInt32BE(24),
    expCmdSN: b.readUInt32BE(28),
    maxCmdSN: b.readUInt32BE(32),
    data: f.data,
  };
}

// ---- logout --------------------------------------------------------------------------------------------

export function encodeLogoutRequest(r: LogoutRequest): Buffer {
  return build(OPCODE.LOGOUT_REQUEST, true, 0x80 | (r.reasonCode & 0x7f), Buffer.alloc(0), (b) => {
    b.writeUInt32BE(r.itt >>> 0, 16);
    b.writeUInt16BE(r.cid, 20);
    b.writeUInt32BE(r.cmdSN >>> 0, 24);
    b.writeUInt32BE(r.expStatSN >>> 0, 28);
  });
}

export function decodeLogoutRequest(f: Frame): LogoutRequest {
  expectOpcode(f, OPCODE.LOGOUT_REQUEST, 'Logout Request');
  const b = f.bhs;
  return { reasonCode: b[1]! & 0x7f, itt: b.readUInt32BE(16), cid: b.readUInt16BE(20), cmdSN: b.readUInt32BE(24), expStatSN: b.readUInt32BE(28) };
}

export function encodeLogoutResponse(r: LogoutResponse): Buffer {
  return build(OPCODE.LOGOUT_RESPONSE, false, 0x80, Buffer.alloc(0), (b) => {
    b[2] = r.response;
    b.writeUInt32BE(r.itt >>> 0, 16);
    b.writeUInt32BE(r.statSN >>> 0, 24);
    b.writeUInt32BE(r.expCmdSN >>> 0, 28);
    b.writeUInt32BE(r.maxCmdSN >>> 0, 32);
    b.writeUInt16BE(r.time2Wait, 40);
    b.writeUInt16BE(r.time2Retain, 42);
  });
}

export function decodeLogoutResponse(f: Frame): LogoutResponse {
  expectOpcode(f, OPCODE.LOGOUT_RESPONSE, 'Logout Response');
  const b = f.bhs;
  if (b[2]! > 3) throw protocolError(`Logout Response code ${b[2]} is not 0..3`);
  return {
    response: b[2]!,
    itt: b.readUInt32BE(16),
    statSN: b.readUInt32BE(24),
    expCmdSN: b.readUInt32BE(28),
    maxCmdSN: b.readUInt32BE(32),
    time2Wait: b.readUInt16BE(40),
    time2Retain: b.readUInt16BE(42),
  };
}

// ---- NOP, async, reject --------------------------------------------------------------------------------

export function encodeNopOut(r: NopOut): Buffer {
  return build(OPCODE.NOP_OUT, true, 0x80, r.data, (b) => {
    copyInto(b, r.lun, 8, 8, 'LUN');
    b.writeUInt32BE(r.itt >>> 0, 16);
    b.writeUInt32BE(r.ttt >>> 0, 20);
    b.writeUInt32BE(r.cmdSN >>> 0, 24);
    b.writeUInt32BE(r.expStatSN >>> 0, 28);
  });
}

export function decodeNopOut(f: Frame): NopOut {
  expectOpcode(f, OPCODE.NOP_OUT, 'NOP-Out');
  const b = f.bhs;
  return { lun: Buffer.from(b.subarray(8, 16)), itt: b.readUInt32BE(16), ttt: b.readUInt32BE(20), cmdSN: b.readUInt32BE(24), expStatSN: b.readUInt32BE(28), data: f.data };
}

export function encodeNopIn(r: NopIn): Buffer {
  return build(OPCODE.NOP_IN, false, 0x80, r.data, (b) => {
    copyInto(b, r.lun, 8, 8, 'LUN');
    b.writeUInt32BE(r.itt >>> 0, 16);
    b.writeUInt32BE(r.ttt >>> 0, 20);
    b.writeUInt32BE(r.statSN >>> 0, 24);
    b.writeUInt32BE(r.expCmdSN >>> 0, 28);
    b.writeUInt32BE(r.maxCmdSN >>> 0, 32);
  });
}

export function decodeNopIn(f: Frame): NopIn {
  expectOpcode(f, OPCODE.NOP_IN, 'NOP-In');
  const b = f.bhs;
  return {
    lun: Buffer.from(b.subarray(8, 16)),
    itt: b.readUInt32BE(16),
    ttt: b.readUInt32BE(20),
    statSN: b.readUInt32BE(24),
    expCmdSN: b.readUInt32BE(28),
    maxCmdSN: b.readUInt32BE(32),
    data: f.data,
  };
}

export function encodeAsyncMessage(r: AsyncMessage): Buffer {
  return build(OPCODE.ASYNC_MESSAGE, false, 0x80, r.data, (b) => {
    copyInto(b, r.lun, 8, 8, 'LUN');
    b.writeUInt32BE(RESERVED_TAG, 16);
    b.writeUInt32BE(r.statSN >>> 0, 24);
    b.writeUInt32BE(r.expCmdSN >>> 0, 28);
    b.writeUInt32BE(r.maxCmdSN >>> 0, 32);
    b[36] = r.asyncEvent;
    b[37] = r.asyncVCode;
    b.writeUInt16BE(r.parameter1, 38);
    b.writeUInt16BE(r.parameter2, 40);
    b.writeUInt16BE(r.parameter3, 42);
  });
}

export function decodeAsyncMessage(f: Frame): AsyncMessage {
  expectOpcode(f, OPCODE.ASYNC_MESSAGE, 'Async Message');
  const b = f.bhs;
  return {
    lun: Buffer.from(b.subarray(8, 16)),
    statSN: b.readUInt32BE(24),
    expCmdSN: b.readUInt32BE(28),
    maxCmdSN: b.readUInt32BE(32),
    asyncEvent: b[36]!,
    asyncVCode: b[37]!,
    parameter1: b.readUInt16BE(38),
    parameter2: b.readUInt16BE(40),
    parameter3: b.readUInt16BE(42),
    data: f.data,
  };
}

export function encodeReject(r: Reject): Buffer {
  return build(OPCODE.REJECT, false, 0x80, r.header ?? Buffer.alloc(0), (b) => {
    b[2] = r.reason;
    b.writeUInt32BE(RESERVED_TAG, 16);
    b.writeUInt32BE(r.statSN >>> 0, 24);
    b.writeUInt32BE(r.expCmdSN >>> 0, 28);
    b.writeUInt32BE(r.maxCmdSN >>> 0, 32);
    b.writeUInt32BE(r.dataSN >>> 0, 36);
  });
}

export function decodeReject(f: Frame): Reject {
  expectOpcode(f, OPCODE.REJECT, 'Reject');
  const b = f.bhs;
  return {
    reason: b[2]!,
    statSN: b.readUInt32BE(24),
    expCmdSN: b.readUInt32BE(28),
    maxCmdSN: b.readUInt32BE(32),
    dataSN: b.readUInt32BE(36),
    header: f.data.length >= BHS_LENGTH ? Buffer.from(f.data.subarray(0, BHS_LENGTH)) : undefined,
  };
}

export function describeReject(r: Reject): string {
  const rejected = r.header ? ` of our opcode ${hex(r.header[0]! & 0x3f)} PDU` : '';
  return `the target sent a Reject${rejected}: reason ${hex(r.reason)} (${REJECT_REASONS[r.reason] ?? 'reserved'})`;
}

// ---- raw builder -----------------------------------------------------------------------------------------

/** Short opcode names (kept for tests and tools that build raw PDUs with `encodePdu`). */
export const OP = {
  NOP_OUT: OPCODE.NOP_OUT,
  LOGIN_REQ: OPCODE.LOGIN_REQUEST,
  TEXT_REQ: OPCODE.TEXT_REQUEST,
  LOGOUT_REQ: OPCODE.LOGOUT_REQUEST,
  NOP_IN: OPCODE.NOP_IN,
  LOGIN_RSP: OPCODE.LOGIN_RESPONSE,
  TEXT_RSP: OPCODE.TEXT_RESPONSE,
  LOGOUT_RSP: OPCODE.LOGOUT_RESPONSE,
  ASYNC: OPCODE.ASYNC_MESSAGE,
  REJECT: OPCODE.REJECT,
} as const;

/**
 * Builds a raw PDU field by field, valid or not (tests, fuzzers, fake targets): byte 1 `flags`, bytes 2-3
 * `b2`/`b3`, bytes 8-15 `lun`, then the words at offsets 16 (`itt`), 20, 24, 28, 32, and the status bytes 36-37.
 */
export function encodePdu(p: {
  opcode: number;
  immediate?: boolean;
  flags?: number;
  b2?: number;
  b3?: number;
  lun?: Buffer;
  itt?: number;
  w20?: number;
  w24?: number;
  w28?: number;
  w32?: number;
  statusClass?: number;
  statusDetail?: number;
  data?: Buffer;
}): Buffer {
  return build(p.opcode, p.immediate ?? false, p.flags ?? 0, p.data ?? Buffer.alloc(0), (b) => {
    b[2] = p.b2 ?? 0;
    b[3] = p.b3 ?? 0;
    copyInto(b, p.lun, 8, 8, 'LUN');
    b.writeUInt32BE((p.itt ?? 0) >>> 0, 16);
    b.writeUInt32BE((p.w20 ?? 0) >>> 0, 20);
    b.writeUInt32BE((p.w24 ?? 0) >>> 0, 24);
    b.writeUInt32BE((p.w28 ?? 0) >>> 0, 28);
    b.writeUInt32BE((p.w32 ?? 0) >>> 0, 32);
    b[36] = p.statusClass ?? 0;
    b[37] = p.statusDetail ?? 0;
  });
}

/** Decodes any PDU a target may send in a discovery session; other opcodes are protocol errors. */
export function decodeTargetPdu(f: Frame): TargetPdu {
  const op = opcodeOf(f);
  switch (op) {
    case OPCODE.LOGIN_RESPONSE:
      return { kind: 'login', ...decodeLoginResponse(f) };
    case OPCODE.TEXT_RESPONSE:
      return { kind: 'text', ...decodeTextResponse(f) };
    case OPCODE.LOGOUT_RESPONSE:
      return { kind: 'logout', ...decodeLogoutResponse(f) };
    case OPCODE.NOP_IN:
      return { kind: 'nop-in', ...decodeNopIn(f) };
    case OPCODE.ASYNC_MESSAGE:
      return { kind: 'async', ...decodeAsyncMessage(f) };
    case OPCODE.REJECT:
      return { kind: 'reject', ...decodeReject(f) };
    default:
      throw protocolError(`opcode ${hex(op)} has no place in a discovery session`, { opcode: op });
  }
}
