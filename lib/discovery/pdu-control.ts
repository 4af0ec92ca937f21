// The PDUs of a discovery session outside its request/response exchanges: NOP-Out/NOP-In (a target's ping
// and our echo), Async Message and Reject. Encoders and decoders both, so tests can play the target.
import {
  BHS_LENGTH,
  OPCODE,
  RESERVED_TAG,
  build,
  copyInto,
  expectOpcode,
  hex,
  type Frame,
} from './frame';

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
