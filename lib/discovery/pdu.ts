// The request/response PDUs of a discovery session (RFC 7143 §11): Login, Text and Logout, requests and
// responses both (they round-trip, so tests can play the target with the same code), and the decoder of
// whatever a target may send (decodeTargetPdu), which hands the others to pdu-control.ts. Framing and the
// constants are frame.ts's.
import {
  OPCODE,
  build,
  copyInto,
  expectOpcode,
  hex,
  opcodeOf,
  protocolError,
  stage,
  type Frame,
  type Stage,
} from './frame';
import {
  decodeAsyncMessage,
  decodeNopIn,
  decodeReject,
  type AsyncMessage,
  type NopIn,
  type Reject,
} from './pdu-control';

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

/** What a target can send us, tagged by kind. */
export type TargetPdu =
  | ({ kind: 'login' } & LoginResponse)
  | ({ kind: 'text' } & TextResponse)
  | ({ kind: 'logout' } & LogoutResponse)
  | ({ kind: 'nop-in' } & NopIn)
  | ({ kind: 'async' } & AsyncMessage)
  | ({ kind: 'reject' } & Reject);

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
