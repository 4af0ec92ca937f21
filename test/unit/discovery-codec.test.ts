// The discovery client's pieces, each on its own: PDU encode/decode and framing, text keys and their limits,
// CHAP arithmetic (vectors computed independently, with Python's hashlib) and value encodings, SendTargets
// parsing of every address form.
import { describe, expect, it } from 'vitest';
import {
  BHS_LENGTH,
  MAX_RECV_DATA_SEGMENT_LENGTH,
  OPCODE,
  PduReader,
  RESERVED_TAG,
  frameOf,
} from '../../lib/discovery/frame';
import {
  decodeLoginRequest,
  decodeLoginResponse,
  decodeLogoutRequest,
  decodeLogoutResponse,
  decodeTargetPdu,
  decodeTextRequest,
  decodeTextResponse,
  encodeLoginRequest,
  encodeLoginResponse,
  encodeLogoutRequest,
  encodeLogoutResponse,
  encodeTextRequest,
  encodeTextResponse,
  type LoginRequest,
  type LoginResponse,
  type TextResponse,
} from '../../lib/discovery/pdu';
import {
  decodeAsyncMessage,
  decodeNopIn,
  decodeNopOut,
  decodeReject,
  describeReject,
  encodeAsyncMessage,
  encodeNopIn,
  encodeNopOut,
  encodeReject,
} from '../../lib/discovery/pdu-control';
import { DEFAULT_KEY_LIMITS, decodeKeys, encodeKeys, uniqueValue } from '../../lib/discovery/keys';
import { ChapInitiator, chapResponse, decodeBinaryValue, decodeChapIdentifier, encodeHexValue } from '../../lib/discovery/chap';
import { parseSendTargets, parseTargetAddress } from '../../lib/discovery/sendtargets';
import { IscsiError, IscsiValidationError } from '../../lib/errors';

const protocolError = { code: 'DISCOVERY_PROTOCOL_ERROR', name: 'IscsiProtocolError' };
const throwsProtocol = (f: () => unknown) => {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a DISCOVERY_PROTOCOL_ERROR').toBeInstanceOf(IscsiError);
  expect(err).toMatchObject(protocolError);
  return err as IscsiError;
};

const loginRequest: LoginRequest = {
  transit: true,
  continue: false,
  csg: 0,
  nsg: 1,
  versionMax: 0,
  versionMin: 0,
  isid: Buffer.from([0x80, 1, 2, 3, 4, 5]),
  tsih: 0,
  itt: 0x12345678,
  cid: 0,
  cmdSN: 1,
  expStatSN: 0,
  data: encodeKeys([['InitiatorName', 'iqn.2026-11.org.x:i'], ['SessionType', 'Discovery'], ['AuthMethod', 'None']]),
};

const loginResponse: LoginResponse = {
  transit: true,
  continue: false,
  csg: 1,
  nsg: 3,
  versionMax: 0,
  versionActive: 0,
  isid: Buffer.from([0x80, 1, 2, 3, 4, 5]),
  tsih: 0x0102,
  itt: 0x12345678,
  statSN: 0xfffffffe,
  expCmdSN: 2,
  maxCmdSN: 33,
  statusClass: 0,
  statusDetail: 0,
  data: encodeKeys([['HeaderDigest', 'None']]),
};

const textResponse: TextResponse = {
  final: false,
  continue: true,
  lun: Buffer.alloc(8),
  itt: 7,
  ttt: 0xabc,
  statSN: 9,
  expCmdSN: 2,
  maxCmdSN: 3,
  data: Buffer.from('TargetName=iqn.2026-11.x:a\0TargetAdd'),
};

describe('PDU encode/decode', () => {
  it('Login Request: byte layout and round trip', () => {
    const b = encodeLoginRequest(loginRequest);
    expect(b.length).toBe(BHS_LENGTH + Math.ceil(loginRequest.data.length / 4) * 4);
    expect(b[0]).toBe(0x43); // immediate | 0x03
    expect(b[1]).toBe(0x81); // T, CSG 0, NSG 1
    expect(b.readUIntBE(5, 3)).toBe(loginRequest.data.length);
    expect(b.subarray(8, 14)).toEqual(loginRequest.isid);
    expect(b.readUInt32BE(16)).toBe(0x12345678);
    expect(b.subarray(BHS_LENGTH + loginRequest.data.length).every((x) => x === 0)).toBe(true); // padding
    expect(decodeLoginRequest(frameOf(b))).toEqual(loginRequest);
  });

  it('Login Response: byte layout and round trip, status at bytes 36-37', () => {
    const b = encodeLoginResponse({ ...loginResponse, statusClass: 2, statusDetail: 1 });
    expect(b[0]).toBe(0x23);
    expect(b[1]).toBe(0x87);
    expect(b.readUInt16BE(14)).toBe(0x0102);
    expect([b[36], b[37]]).toEqual([2, 1]);
    expect(decodeLoginResponse(frameOf(b))).toEqual({ ...loginResponse, statusClass: 2, statusDetail: 1 });
    // NSG is only meaningful with T; a C-bit response round-trips too
    const c = { ...loginResponse, transit: false, continue: true, nsg: 0 as const };
    expect(decodeLoginResponse(frameOf(encodeLoginResponse(c)))).toEqual(c);
  });

  it('Text Request/Response: F, C, LUN, TTT and sequence numbers', () => {
    const req = { immediate: false, final: true, continue: false, lun: Buffer.alloc(8), itt: 5, ttt: RESERVED_TAG, cmdSN: 1, expStatSN: 2, data: encodeKeys([['SendTargets', 'All']]) };
    const rb = encodeTextRequest(req);
    expect([rb[0], rb[1]]).toEqual([0x04, 0x80]);
    expect(rb.readUInt32BE(20)).toBe(RESERVED_TAG);
    expect(decodeTextRequest(frameOf(rb))).toEqual(req);
    const tb = encodeTextResponse(textResponse);
    expect([tb[0], tb[1]]).toEqual([0x24, 0x40]);
    expect(decodeTextResponse(frameOf(tb))).toEqual(textResponse);
  });

  it('Logout Request/Response, NOP-Out/NOP-In, Async Message, Reject', () => {
    const lo = { reasonCode: 0, itt: 9, cid: 0, cmdSN: 3, expStatSN: 4 };
    const lob = encodeLogoutRequest(lo);
    expect([lob[0], lob[1]]).toEqual([0x46, 0x80]);
    expect(decodeLogoutRequest(frameOf(lob))).toEqual(lo);
    const lr = { response: 0, itt: 9, statSN: 4, expCmdSN: 4, maxCmdSN: 5, time2Wait: 2, time2Retain: 20 };
    expect(decodeLogoutResponse(frameOf(encodeLogoutResponse(lr)))).toEqual(lr);
    const nopOut = { lun: Buffer.alloc(8, 1), itt: RESERVED_TAG, ttt: 77, cmdSN: 1, expStatSN: 2, data: Buffer.from('ping') };
    expect(decodeNopOut(frameOf(encodeNopOut(nopOut)))).toEqual(nopOut);
    const nopIn = { lun: Buffer.alloc(8), itt: RESERVED_TAG, ttt: 77, statSN: 2, expCmdSN: 1, maxCmdSN: 2, data: Buffer.alloc(0) };
    expect(decodeNopIn(frameOf(encodeNopIn(nopIn)))).toEqual(nopIn);
    const am = { lun: Buffer.alloc(8), statSN: 1, expCmdSN: 1, maxCmdSN: 1, asyncEvent: 1, asyncVCode: 0, parameter1: 0, parameter2: 2, parameter3: 20, data: Buffer.alloc(0) };
    expect(decodeAsyncMessage(frameOf(encodeAsyncMessage(am)))).toEqual(am);
    const rejected = encodeTextRequest({ immediate: false, final: true, continue: false, lun: Buffer.alloc(8), itt: 5, ttt: RESERVED_TAG, cmdSN: 1, expStatSN: 2, data: Buffer.alloc(0) });
    const rj = { reason: 0x09, statSN: 1, expCmdSN: 1, maxCmdSN: 1, dataSN: 0, header: rejected.subarray(0, 48) };
    const rjd = decodeReject(frameOf(encodeReject(rj)));
    expect(rjd).toEqual(rj);
    expect(describeReject(rjd)).toBe('the target sent a Reject of our opcode 0x04 PDU: reason 0x09 (invalid PDU field)');
  });

  it('decodeTargetPdu tags what a target may send and refuses the rest', () => {
    expect(decodeTargetPdu(frameOf(encodeLoginResponse(loginResponse))).kind).toBe('login');
    expect(decodeTargetPdu(frameOf(encodeTextResponse(textResponse))).kind).toBe('text');
    throwsProtocol(() => decodeTargetPdu(frameOf(encodeLoginRequest(loginRequest)))); // a request from the "target"
    const scsiResponse = Buffer.alloc(48);
    scsiResponse[0] = 0x21;
    expect(throwsProtocol(() => decodeTargetPdu(frameOf(scsiResponse))).message).toMatch(/opcode 0x21/);
  });

  it('refuses impossible flag combinations and the reserved stage', () => {
    const both = encodeTextResponse({ ...textResponse, continue: false, final: true });
    both[1] = 0xc0;
    throwsProtocol(() => decodeTextResponse(frameOf(both)));
    const tc = encodeLoginResponse(loginResponse);
    tc[1] = 0xc7;
    throwsProtocol(() => decodeLoginResponse(frameOf(tc)));
    const stage2 = encodeLoginResponse(loginResponse);
    stage2[1] = 0x80 | (2 << 2) | 3;
    expect(throwsProtocol(() => decodeLoginResponse(frameOf(stage2))).message).toMatch(/reserved stage 2/);
    const lr = encodeLogoutResponse({ response: 0, itt: 1, statSN: 1, expCmdSN: 1, maxCmdSN: 1, time2Wait: 0, time2Retain: 0 });
    lr[2] = 9;
    throwsProtocol(() => decodeLogoutResponse(frameOf(lr)));
  });
});

describe('framing (PduReader)', () => {
  it('reassembles a PDU fed one byte at a time, and splits back-to-back PDUs', () => {
    const a = encodeTextResponse(textResponse);
    const b = encodeLoginResponse(loginResponse);
    const r = new PduReader();
    const all = Buffer.concat([a, b]);
    const frames = [];
    for (let i = 0; i < all.length; i++) {
      r.push(all.subarray(i, i + 1));
      for (let f = r.next(); f; f = r.next()) frames.push(f);
    }
    expect(frames.map((f) => f.bhs[0])).toEqual([OPCODE.TEXT_RESPONSE, OPCODE.LOGIN_RESPONSE]);
    expect(frames[0]!.data).toEqual(textResponse.data);
    expect(r.pending).toBe(0);
  });

  it('skips an AHS using TotalAHSLength (4-byte words)', () => {
    const b = encodeTextResponse({ ...textResponse, continue: false, final: true, data: Buffer.from('A=1\0') });
    const withAhs = Buffer.concat([b.subarray(0, 48), Buffer.alloc(8, 0xee), b.subarray(48)]);
    withAhs[4] = 2;
    const f = frameOf(withAhs);
    expect(f.ahs).toEqual(Buffer.alloc(8, 0xee));
    expect(decodeKeys(f.data)).toEqual([['A', '1']]);
  });

  it('refuses a data segment over MaxRecvDataSegmentLength as soon as the header is in', () => {
    const bhs = encodeTextResponse({ ...textResponse, data: Buffer.alloc(0) });
    bhs.writeUIntBE(MAX_RECV_DATA_SEGMENT_LENGTH + 1, 5, 3);
    const r = new PduReader();
    r.push(bhs.subarray(0, 48)); // only the header: the rest never needs to arrive
    expect(throwsProtocol(() => r.next()).details).toMatchObject({ dataSegmentLength: MAX_RECV_DATA_SEGMENT_LENGTH + 1 });
    // exactly the limit is fine
    const ok = encodeTextResponse({ ...textResponse, continue: false, final: true, data: Buffer.alloc(MAX_RECV_DATA_SEGMENT_LENGTH, 0x41) });
    expect(frameOf(ok, MAX_RECV_DATA_SEGMENT_LENGTH).data.length).toBe(MAX_RECV_DATA_SEGMENT_LENGTH);
  });

  it('waits for the padding of the data segment', () => {
    const b = encodeTextResponse({ ...textResponse, data: Buffer.from('abcde') }); // 5 bytes + 3 padding
    expect(b.length).toBe(48 + 8);
    const r = new PduReader();
    r.push(b.subarray(0, 48 + 5));
    expect(r.next()).toBeUndefined();
    r.push(b.subarray(48 + 5));
    expect(r.next()!.data.toString()).toBe('abcde');
  });

  it('frameOf wants exactly one PDU', () => {
    throwsProtocol(() => frameOf(Buffer.alloc(47)));
    throwsProtocol(() => frameOf(Buffer.concat([encodeNopIn({ lun: Buffer.alloc(8), itt: 1, ttt: 1, statSN: 1, expCmdSN: 1, maxCmdSN: 1, data: Buffer.alloc(0) }), Buffer.alloc(4)])));
  });
});

describe('text keys', () => {
  it('round-trips pairs, keeps repeated keys in order, skips NUL padding, accepts a missing last NUL', () => {
    const pairs: Array<[string, string]> = [['TargetName', 'iqn.2026-11.x:a'], ['TargetAddress', '1.2.3.4:3260,1'], ['TargetName', 'iqn.2026-11.x:b'], ['X-com.example.Vendor', 'a=b=c']];
    expect(decodeKeys(encodeKeys(pairs))).toEqual(pairs);
    expect(decodeKeys(Buffer.from('A=1\0\0\0B=\0'))).toEqual([['A', '1'], ['B', '']]);
    expect(decodeKeys(Buffer.from('A=1\0B=2'))).toEqual([['A', '1'], ['B', '2']]);
    expect(decodeKeys(Buffer.from('X#org.iana.key=1\0'))).toEqual([['X#org.iana.key', '1']]);
    expect(decodeKeys(Buffer.from('TargetAlias=dépôt ☃\0'))).toEqual([['TargetAlias', 'dépôt ☃']]);
  });

  it('refuses malformed pairs: no "=", empty or invalid key, lower-case start, invalid UTF-8', () => {
    for (const bad of ['novalue\0', '=x\0', 'bad key=1\0', 'lower=1\0', 'Key\u0001=1\0']) throwsProtocol(() => decodeKeys(Buffer.from(bad)));
    throwsProtocol(() => decodeKeys(Buffer.concat([Buffer.from('A='), Buffer.from([0xc3, 0x28]), Buffer.from('\0')])));
  });

  it('enforces the limits: key 63 bytes, value 8192 bytes, pair count, total size', () => {
    expect(decodeKeys(Buffer.from(`K${'k'.repeat(62)}=1\0`))).toHaveLength(1);
    throwsProtocol(() => decodeKeys(Buffer.from(`K${'k'.repeat(63)}=1\0`)));
    expect(decodeKeys(Buffer.from(`K=${'v'.repeat(8192)}\0`))).toHaveLength(1);
    throwsProtocol(() => decodeKeys(Buffer.from(`K=${'v'.repeat(8193)}\0`)));
    const limits = { ...DEFAULT_KEY_LIMITS, maxPairs: 3, maxBytes: 64 };
    expect(decodeKeys(Buffer.from('A=1\0B=2\0C=3\0'), limits)).toHaveLength(3);
    throwsProtocol(() => decodeKeys(Buffer.from('A=1\0B=2\0C=3\0D=4\0'), limits));
    throwsProtocol(() => decodeKeys(Buffer.alloc(65, 0), limits));
  });

  it('uniqueValue refuses a negotiation key given twice with different values', () => {
    expect(uniqueValue([['A', '1'], ['A', '1']], 'A')).toBe('1');
    expect(uniqueValue([['A', '1']], 'B')).toBeUndefined();
    throwsProtocol(() => uniqueValue([['A', '1'], ['A', '2']], 'A'));
  });

  it('encoding refuses what cannot be sent, without echoing the value', () => {
    expect(() => encodeKeys([['bad key', 'x']])).toThrow(IscsiValidationError);
    const e = (() => {
      try {
        encodeKeys([['CHAP_N', 'some\0name']]);
      } catch (err) {
        return err as IscsiError;
      }
      return undefined;
    })();
    expect(e).toMatchObject({ code: 'INVALID_TEXT_VALUE' });
    expect(e!.message).not.toContain('some');
  });
});

describe('CHAP', () => {
  // Computed with Python's hashlib: H(bytes([id]) + secret + challenge).
  const challenge = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
  it.each([
    [5, '55a6f8fa415c57b65d9ba16cf14eab71'],
    [6, '2274d1e15097d6fc245924b5f8cf1705778d7bdb'],
    [7, '0c8709540d13290f8d0602c0aabc322c4e3ecf02aa19f2f2f23cc4d2504402ce'],
  ])('algorithm %i matches an independent implementation', (alg, expected) => {
    expect(chapResponse(alg, 0x2a, 's3cret-secret!', challenge).toString('hex')).toBe(expected);
  });

  it('hashes the secret as UTF-8 and uses identifiers 0 and 255 as one byte', () => {
    const c = Buffer.from('d1a2c3b4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90', 'hex');
    expect(chapResponse(7, 255, 'pässwörd-ünïcode', c).toString('hex')).toBe('32ec6f5a053fd0a2d6382b6bf3926f38e0b021af1a62a463f1055db364f603d8');
    expect(chapResponse(5, 0, 'discovery-secret-1', c).toString('hex')).toBe('ab90d23fa361f97c0fc1126063d4fe29');
  });

  it('decodes binary values: 0x/0X hex (odd digit count padded), 0b/0B canonical base64, bounded', () => {
    expect(decodeBinaryValue('0x0aff', 'v')).toEqual(Buffer.from([10, 255]));
    expect(decodeBinaryValue('0XAFF', 'v')).toEqual(Buffer.from([10, 255]));
    expect(decodeBinaryValue('0bCv8=', 'v')).toEqual(Buffer.from([10, 255]));
    expect(decodeBinaryValue('0BCv8=', 'v')).toEqual(Buffer.from([10, 255]));
    expect(decodeBinaryValue(`0x${'ab'.repeat(1024)}`, 'v')).toHaveLength(1024);
    for (const bad of ['', '0x', '0b', 'abcd', '0xzz', '0bCv8', '0bCv9=', '0b====', `0x${'ab'.repeat(1025)}`, '0x 12']) throwsProtocol(() => decodeBinaryValue(bad, 'v'));
  });

  it('decodes CHAP_I in decimal, hex or base64, 0..255 only', () => {
    expect([decodeChapIdentifier('0'), decodeChapIdentifier('255'), decodeChapIdentifier('0x1f'), decodeChapIdentifier('0x00ff'), decodeChapIdentifier('0bBw==')]).toEqual([0, 255, 31, 255, 7]);
    for (const bad of ['256', '-1', '007', '', 'x', '0x100', '1.5']) throwsProtocol(() => decodeChapIdentifier(bad));
  });

  it('answers a challenge, and as mutual sends its own challenge and checks the target\'s answer', () => {
    const chap = new ChapInitiator({ username: 'init', password: 'initiator-secret', usernameIn: 'tgt', passwordIn: 'target-secret-12' }, [7, 5]);
    expect(chap.offer()).toEqual([['CHAP_A', '7,5']]);
    const reply = chap.answer('5', '9', encodeHexValue(challenge));
    const m = new Map(reply);
    expect(m.get('CHAP_N')).toBe('init');
    expect(m.get('CHAP_R')).toBe(`0x${chapResponse(5, 9, 'initiator-secret', challenge).toString('hex')}`);
    const ours = decodeBinaryValue(m.get('CHAP_C')!, 'c');
    expect(ours.length).toBeGreaterThanOrEqual(16);
    expect(ours.equals(challenge)).toBe(false);
    const id = Number(m.get('CHAP_I'));
    const right = chapResponse(5, id, 'target-secret-12', ours);
    expect(() => chap.verifyTarget('tgt', encodeHexValue(right))).not.toThrow();
    expect(() => chap.verifyTarget('tgt', `0b${right.toString('base64')}`)).not.toThrow();
    for (const [n, r, reason] of [
      ['tgt', encodeHexValue(chapResponse(5, id, 'wrong-secret-12', ours)), 'response'],
      ['other', encodeHexValue(right), 'name'],
      [undefined, undefined, 'no-response'],
      ['tgt', encodeHexValue(right.subarray(1)), 'response'],
      ['tgt', 'garbage', 'malformed'],
    ] as const) {
      expect(() => chap.verifyTarget(n, r)).toThrow(expect.objectContaining({ code: 'DISCOVERY_MUTUAL_AUTH_FAILED', details: { reason } }));
    }
  });

  it('refuses a challenge it issued itself (reflection), an algorithm it did not offer, and CHAP_A=Reject', () => {
    const a = new ChapInitiator({ username: 'i', password: 'initiator-secret', usernameIn: 't', passwordIn: 'target-secret-12' }, [5]);
    const ours = new Map(a.answer('5', '1', encodeHexValue(challenge))).get('CHAP_C')!;
    const b = new ChapInitiator({ username: 'i', password: 'initiator-secret', usernameIn: 't', passwordIn: 'target-secret-12' }, [5]);
    expect(() => b.answer('5', '1', ours)).toThrow(expect.objectContaining({ code: 'DISCOVERY_MUTUAL_AUTH_FAILED', details: { reason: 'reflected-challenge' } }));
    const oneWay = new ChapInitiator({ username: 'i', password: 'initiator-secret' }, [5]);
    expect(() => oneWay.answer('5', '1', ours)).toThrow(expect.objectContaining({ code: 'DISCOVERY_AUTH_FAILED', details: { reason: 'reflected-challenge' } }));
    throwsProtocol(() => oneWay.answer('7', '1', encodeHexValue(challenge)));
    throwsProtocol(() => oneWay.answer('5', undefined, encodeHexValue(challenge)));
    expect(() => oneWay.answer('Reject', undefined, undefined)).toThrow(expect.objectContaining({ code: 'DISCOVERY_AUTH_FAILED', details: { reason: 'algorithm', offered: [5] } }));
  });
});

describe('SendTargets parsing', () => {
  it.each([
    ['192.0.2.1', { address: '192.0.2.1', port: 3260, tpgt: -1, portal: '192.0.2.1:3260' }],
    ['192.0.2.1:3261', { address: '192.0.2.1', port: 3261, tpgt: -1, portal: '192.0.2.1:3261' }],
    ['192.0.2.1:3261,2', { address: '192.0.2.1', port: 3261, tpgt: 2, portal: '192.0.2.1:3261' }],
    ['192.0.2.1,0', { address: '192.0.2.1', port: 3260, tpgt: 0, portal: '192.0.2.1:3260' }],
    ['[2001:db8::5]:3260,1', { address: '2001:db8::5', port: 3260, tpgt: 1, portal: '[2001:db8::5]:3260' }],
    ['[2001:db8::5]', { address: '2001:db8::5', port: 3260, tpgt: -1, portal: '[2001:db8::5]:3260' }],
    ['[2001:db8::5],7', { address: '2001:db8::5', port: 3260, tpgt: 7, portal: '[2001:db8::5]:3260' }],
    ['[::ffff:192.0.2.1]:3262,65535', { address: '::ffff:192.0.2.1', port: 3262, tpgt: 65535, portal: '[::ffff:192.0.2.1]:3262' }],
    ['[fe80::1%eth0]:3260,1', { address: 'fe80::1%eth0', port: 3260, tpgt: 1, portal: '[fe80::1%eth0]:3260' }],
    ['2001:db8::9,1', { address: '2001:db8::9', port: 3260, tpgt: 1, portal: '[2001:db8::9]:3260' }],
    ['san.example.com', { address: 'san.example.com', port: 3260, tpgt: -1, portal: 'san.example.com:3260' }],
    ['san.example.com:3270,3', { address: 'san.example.com', port: 3270, tpgt: 3, portal: 'san.example.com:3270' }],
    ['storage-01,1', { address: 'storage-01', port: 3260, tpgt: 1, portal: 'storage-01:3260' }],
  ])('TargetAddress=%s', (value, expected) => {
    expect(parseTargetAddress(value)).toEqual(expected);
  });

  it.each(['', ',1', '1.2.3.4:', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4,65536', '1.2.3.4,x', '1.2.3.4,-1', '999.1.1.1', '1.2.3', '[1.2.3.4]', '[2001:db8::1', '[2001:db8::1]:', 'a b', 'host:port', 'bad_.-host.', '-host', 'x'.repeat(256)])(
    'refuses TargetAddress=%j',
    (value) => {
      throwsProtocol(() => parseTargetAddress(value));
    },
  );

  it('groups portals by target, merges repeats, gives address-less targets the discovery portal', () => {
    const t = parseSendTargets(
      [
        ['TargetName', 'iqn.2026-11.x:a'],
        ['TargetAlias', 'first'],
        ['TargetAddress', '192.0.2.1:3260,1'],
        ['TargetAddress', '[2001:db8::1]:3260,1'],
        ['TargetAddress', '192.0.2.1:3260,1'],
        ['TargetName', 'iqn.2026-11.x:b'],
        ['TargetName', 'iqn.2026-11.x:a'],
        ['TargetAddress', '192.0.2.2:3260,2'],
      ],
      { address: '198.51.100.1', port: 3261 },
    );
    expect(t).toEqual([
      {
        name: 'iqn.2026-11.x:a',
        portals: [
          { address: '192.0.2.1', port: 3260, tpgt: 1, portal: '192.0.2.1:3260' },
          { address: '2001:db8::1', port: 3260, tpgt: 1, portal: '[2001:db8::1]:3260' },
          { address: '192.0.2.2', port: 3260, tpgt: 2, portal: '192.0.2.2:3260' },
        ],
      },
      { name: 'iqn.2026-11.x:b', portals: [{ address: '198.51.100.1', port: 3261, tpgt: -1, portal: '198.51.100.1:3261' }] },
    ]);
    expect(parseSendTargets([], { address: '::1', port: 3260 })).toEqual([]);
    expect(parseSendTargets([['TargetName', 'eui.0123456789abcdef']], { address: '::1', port: 3260 })[0]!.portals[0]!.portal).toBe('[::1]:3260');
  });

  it('refuses a TargetAddress before any TargetName, bad names, and SendTargets=Reject', () => {
    throwsProtocol(() => parseSendTargets([['TargetAddress', '1.2.3.4']], { address: 'x', port: 1 }));
    throwsProtocol(() => parseSendTargets([['TargetName', '']], { address: 'x', port: 1 }));
    throwsProtocol(() => parseSendTargets([['TargetName', 'iqn.x y']], { address: 'x', port: 1 }));
    throwsProtocol(() => parseSendTargets([['TargetName', `iqn.2026-11.x:${'a'.repeat(224)}`]], { address: 'x', port: 1 }));
    throwsProtocol(() => parseSendTargets([['SendTargets', 'Reject']], { address: 'x', port: 1 }));
  });
});
