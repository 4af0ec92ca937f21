// The framing of iSCSI PDUs in a discovery session (RFC 7143 §11): a 48-byte basic header segment (BHS),
// optional additional header segments (AHS, skipped), a data segment padded to 4 bytes, no digests (we only
// ever negotiate None). The constants every PDU shares, the incremental framer, and the raw builder that
// tests and fake targets use to build any PDU, valid or not.
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
export const MAX_DSL_FIELD = 0xffffff;

/** Login stages (CSG/NSG). 2 is reserved. */
export const STAGE = { SECURITY: 0, OPERATIONAL: 1, FULL_FEATURE: 3 } as const;
export type Stage = 0 | 1 | 3;

export function protocolError(message: string, details?: Record<string, unknown>): IscsiProtocolError {
  return new IscsiProtocolError('DISCOVERY_PROTOCOL_ERROR', `malformed or unexpected answer from the target: ${message}`, details ? { details } : {});
}

export const hex = (n: number, digits = 2) => `0x${n.toString(16).padStart(digits, '0')}`;
export const padded = (n: number) => n + ((4 - (n % 4)) % 4);

// ---- framing ---------------------------------------------------------------------------------------------

/** One PDU as framed on the wire: its BHS, its AHS (unused here) and its unpadded data segment. */
export interface Frame {
  bhs: Buffer;
  ahs: Buffer;
  data: Buffer;
}

export function build(opcode: number, immediate: boolean, byte1: number, data: Buffer, fill: (bhs: Buffer) => void): Buffer {
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

export function copyInto(buf: Buffer, src: Buffer | undefined, at: number, len: number, what: string): void {
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

export const opcodeOf = (f: Frame) => f.bhs[0]! & 0x3f;

export function expectOpcode(f: Frame, opcode: number, what: string): void {
  if (opcodeOf(f) !== opcode) throw protocolError(`expected a ${what} (opcode ${hex(opcode)}), got opcode ${hex(opcodeOf(f))}`);
}

export function stage(v: number, what: string): Stage {
  if (v === 2) throw protocolError(`${what} is the reserved stage 2`);
  return v as Stage;
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
