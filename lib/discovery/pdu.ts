// iSCSI PDUs for a discovery session (RFC 7143 §11): the 48-byte basic header segment, optional AHS,
// a data segment padded to 4 bytes, no digests. The reader bounds every length it trusts.
import { IscsiError } from '../errors';

export const OP = {
  NOP_OUT: 0x00,
  LOGIN_REQ: 0x03,
  TEXT_REQ: 0x04,
  LOGOUT_REQ: 0x06,
  NOP_IN: 0x20,
  LOGIN_RSP: 0x23,
  TEXT_RSP: 0x24,
  LOGOUT_RSP: 0x26,
  ASYNC: 0x32,
  REJECT: 0x3f,
} as const;

export const BHS_LEN = 48;
/** Largest data segment we accept in one PDU (we announce 32768; targets may send up to what we said). */
export const MAX_DATA_SEGMENT = 256 * 1024;

export function protocolError(message: string): IscsiError {
  return new IscsiError('DISCOVERY_PROTOCOL_ERROR', `malformed response from the target: ${message}`);
}

export interface Pdu {
  opcode: number;
  immediate: boolean;
  /** byte 1: F/T, C and stage bits depending on the opcode */
  flags: number;
  /** bytes 2-3 (login: version max/active; logout response: response code) */
  b2: number;
  b3: number;
  itt: number;
  /** bytes 20-23: target transfer tag (text), CID (login, bytes 20-21) */
  w20: number;
  /** bytes 24-27: StatSN in responses, CmdSN in requests */
  w24: number;
  /** bytes 28-31: ExpCmdSN in responses, ExpStatSN in requests */
  w28: number;
  w32: number;
  /** bytes 36-37: login status class and detail */
  statusClass: number;
  statusDetail: number;
  /** bytes 8-15 (ISID + TSIH in login PDUs) */
  lun: Buffer;
  data: Buffer;
}

export function encodePdu(p: Partial<Pdu> & { opcode: number }): Buffer {
  const data = p.data ?? Buffer.alloc(0);
  const pad = (4 - (data.length % 4)) % 4;
  const buf = Buffer.alloc(BHS_LEN + data.length + pad);
  buf[0] = (p.opcode & 0x3f) | (p.immediate ? 0x40 : 0);
  buf[1] = p.flags ?? 0;
  buf[2] = p.b2 ?? 0;
  buf[3] = p.b3 ?? 0;
  buf[4] = 0; // TotalAHSLength
  buf.writeUIntBE(data.length, 5, 3);
  (p.lun ?? Buffer.alloc(8)).copy(buf, 8, 0, 8);
  buf.writeUInt32BE(p.itt ?? 0, 16);
  buf.writeUInt32BE(p.w20 ?? 0, 20);
  buf.writeUInt32BE(p.w24 ?? 0, 24);
  buf.writeUInt32BE(p.w28 ?? 0, 28);
  buf.writeUInt32BE(p.w32 ?? 0, 32);
  buf[36] = p.statusClass ?? 0;
  buf[37] = p.statusDetail ?? 0;
  data.copy(buf, BHS_LEN);
  return buf;
}

/**
 * Incremental PDU reader: push bytes, take whole PDUs. Throws DISCOVERY_PROTOCOL_ERROR for lengths beyond
 * the limits, never allocates from an untrusted length before checking it.
 */
export class PduReader {
  private chunks: Buffer[] = [];
  private length = 0;

  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  private peek(n: number): Buffer {
    if (this.chunks.length > 1) {
      this.chunks = [Buffer.concat(this.chunks, this.length)];
    }
    return this.chunks[0]!.subarray(0, n);
  }

  next(): Pdu | undefined {
    if (this.length < BHS_LEN) return undefined;
    const bhs = this.peek(BHS_LEN);
    const ahsLen = bhs[4]! * 4;
    const dataLen = bhs.readUIntBE(5, 3);
    if (dataLen > MAX_DATA_SEGMENT) throw protocolError(`data segment of ${dataLen} bytes exceeds ${MAX_DATA_SEGMENT}`);
    const total = BHS_LEN + ahsLen + dataLen + ((4 - (dataLen % 4)) % 4);
    if (this.length < total) return undefined;
    const whole = this.peek(total);
    const rest = this.chunks[0]!.subarray(total);
    this.chunks = rest.length ? [rest] : [];
    this.length -= total;
    return decodeBhs(whole, ahsLen, dataLen);
  }
}

function decodeBhs(b: Buffer, ahsLen: number, dataLen: number): Pdu {
  return {
    opcode: b[0]! & 0x3f,
    immediate: (b[0]! & 0x40) !== 0,
    flags: b[1]!,
    b2: b[2]!,
    b3: b[3]!,
    lun: Buffer.from(b.subarray(8, 16)),
    itt: b.readUInt32BE(16),
    w20: b.readUInt32BE(20),
    w24: b.readUInt32BE(24),
    w28: b.readUInt32BE(28),
    w32: b.readUInt32BE(32),
    statusClass: b[36]!,
    statusDetail: b[37]!,
    data: Buffer.from(b.subarray(BHS_LEN + ahsLen, BHS_LEN + ahsLen + dataLen)),
  };
}
