// The discovery client's pieces: PDU framing, text keys, CHAP arithmetic (checked against Python's
// hashlib, an independent implementation), SendTargets parsing, and a bounded fuzz of the parsers.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { encodePdu, OP, PduReader, MAX_DATA_SEGMENT } from '../../lib/discovery/pdu';
import { decodeKeys, encodeKeys } from '../../lib/discovery/keys';
import { chapResponse, decodeBinary } from '../../lib/discovery/chap';
import { parseSendTargets, parseTargetAddress } from '../../lib/discovery/sendtargets';
import { IscsiError } from '../../lib/errors';

describe('PDU framing', () => {
  it('round-trips a login request, padding the data segment to 4 bytes', () => {
    const data = encodeKeys([['InitiatorName', 'iqn.2026-11.org.x:i'], ['SessionType', 'Discovery']]);
    const b = encodePdu({ opcode: OP.LOGIN_REQ, immediate: true, flags: 0x81, itt: 7, w24: 1, data });
    expect(b.length % 4).toBe(0);
    expect(b[0]).toBe(0x43);
    const r = new PduReader();
    r.push(b.subarray(0, 10));
    expect(r.next()).toBeUndefined();
    r.push(b.subarray(10));
    const p = r.next()!;
    expect(p).toMatchObject({ opcode: OP.LOGIN_REQ, immediate: true, flags: 0x81, itt: 7, w24: 1 });
    expect(decodeKeys(p.data)).toEqual([['InitiatorName', 'iqn.2026-11.org.x:i'], ['SessionType', 'Discovery']]);
    expect(r.next()).toBeUndefined();
  });

  it('splits back-to-back PDUs and skips AHS', () => {
    const a = encodePdu({ opcode: OP.TEXT_RSP, flags: 0x40, data: Buffer.from('a=1\0') });
    const b = Buffer.from(encodePdu({ opcode: OP.TEXT_RSP, flags: 0x80, data: Buffer.from('b=2\0') }));
    const withAhs = Buffer.concat([b.subarray(0, 48), Buffer.alloc(8, 0xee), b.subarray(48)]);
    withAhs[4] = 2;
    const r = new PduReader();
    r.push(Buffer.concat([a, withAhs]));
    expect(decodeKeys(r.next()!.data)).toEqual([['a', '1']]);
    expect(decodeKeys(r.next()!.data)).toEqual([['b', '2']]);
  });

  it('refuses a data segment larger than the limit before buffering it', () => {
    const b = encodePdu({ opcode: OP.TEXT_RSP });
    b.writeUIntBE(MAX_DATA_SEGMENT + 1, 5, 3);
    const r = new PduReader();
    r.push(b);
    expect(() => r.next()).toThrow(/exceeds/);
  });
});

describe('text keys', () => {
  it('rejects pairs without "=", bad keys and oversized values', () => {
    expect(() => decodeKeys(Buffer.from('novalue\0'))).toThrow(IscsiError);
    expect(() => decodeKeys(Buffer.from('bad key=1\0'))).toThrow(/invalid key/);
    expect(() => decodeKeys(Buffer.from(`k=${'v'.repeat(9000)}\0`))).toThrow(/longer than/);
    expect(decodeKeys(Buffer.from('a=\0b=x=y\0'))).toEqual([['a', ''], ['b', 'x=y']]);
  });
});

describe('CHAP', () => {
  it.each([[5, 'md5'], [6, 'sha1'], [7, 'sha256']])('algorithm %i matches Python hashlib.%s', (alg, name) => {
    const challenge = randomBytes(16);
    const py = spawnSync('python3', ['-c', `import hashlib,sys; print(hashlib.${name}(bytes([42]) + b"s3cret-secret" + bytes.fromhex(sys.argv[1])).hexdigest())`, challenge.toString('hex')], { encoding: 'utf8' });
    expect(chapResponse(alg, 42, 's3cret-secret', challenge).toString('hex')).toBe(py.stdout.trim());
  });
  it('decodes hex and base64 binary values', () => {
    expect(decodeBinary('0x0aff', 'x')).toEqual(Buffer.from([10, 255]));
    expect(decodeBinary('0bCv8=', 'x')).toEqual(Buffer.from([10, 255]));
    expect(() => decodeBinary('0xabc', 'x')).toThrow(IscsiError);
  });
});

describe('SendTargets parsing', () => {
  it('parses every TargetAddress form', () => {
    expect(parseTargetAddress('192.0.2.1:3261,2')).toEqual({ address: '192.0.2.1', port: 3261, tpgt: 2, portal: '192.0.2.1:3261' });
    expect(parseTargetAddress('[2001:db8::5]:3260,1')).toEqual({ address: '2001:db8::5', port: 3260, tpgt: 1, portal: '[2001:db8::5]:3260' });
    expect(parseTargetAddress('[2001:db8::5]')).toEqual({ address: '2001:db8::5', port: 3260, tpgt: -1, portal: '[2001:db8::5]:3260' });
    expect(parseTargetAddress('san.example.com,3')).toEqual({ address: 'san.example.com', port: 3260, tpgt: 3, portal: 'san.example.com:3260' });
    for (const bad of ['', '1.2.3.4:', '1.2.3.4:99999', '[1.2.3.4', 'a b', '1.2.3.4,x']) expect(() => parseTargetAddress(bad), bad).toThrow(IscsiError);
  });
  it('groups addresses by target and gives address-less targets the discovery portal', () => {
    const t = parseSendTargets(
      [['TargetName', 'iqn.2026-11.x:a'], ['TargetAddress', '192.0.2.1:3260,1'], ['TargetAddress', '[2001:db8::1]:3260,1'], ['TargetName', 'iqn.2026-11.x:b']],
      { address: '198.51.100.1', port: 3260 },
    );
    expect(t.map((x) => [x.name, x.portals.map((p) => `${p.portal},${p.tpgt}`)])).toEqual([
      ['iqn.2026-11.x:a', ['192.0.2.1:3260,1', '[2001:db8::1]:3260,1']],
      ['iqn.2026-11.x:b', ['198.51.100.1:3260,-1']],
    ]);
    expect(() => parseSendTargets([['TargetAddress', '1.2.3.4']], { address: 'x', port: 1 })).toThrow(/before any TargetName/);
  });
});

describe('fuzz: parsers only ever throw DISCOVERY_PROTOCOL_ERROR, and never hang', () => {
  const valid = Buffer.concat([
    encodePdu({ opcode: OP.TEXT_RSP, flags: 0x80, data: encodeKeys([['TargetName', 'iqn.2026-11.x:a'], ['TargetAddress', '192.0.2.1:3260,1'], ['TargetName', 'iqn.2026-11.x:b']]) }),
  ]);
  const parseAll = (bytes: Buffer) => {
    const r = new PduReader();
    r.push(bytes);
    for (let p = r.next(), n = 0; p && n < 1000; p = r.next(), n++) parseSendTargets(decodeKeys(p.data), { address: '127.0.0.1', port: 3260 });
  };
  it('random and mutated inputs, 2 s', () => {
    const end = Date.now() + 2000;
    let runs = 0;
    while (Date.now() < end) {
      const input = runs % 2 ? randomBytes(Math.floor(Math.random() * 400)) : Buffer.from(valid);
      if (runs % 2 === 0) for (let i = 0; i < 1 + (runs % 5); i++) input[Math.floor(Math.random() * input.length)] = Math.floor(Math.random() * 256);
      try {
        parseAll(input);
      } catch (e) {
        expect(e).toBeInstanceOf(IscsiError);
        expect((e as IscsiError).code).toBe('DISCOVERY_PROTOCOL_ERROR');
      }
      runs++;
    }
    expect(runs).toBeGreaterThan(1000);
  });
});
