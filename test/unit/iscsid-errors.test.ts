// iscsid's error numbers 0..33: each maps to a stable code, keeps iscsid's number, and is classified.
import { describe, expect, it } from 'vitest';
import { ISCSID_ERRORS, iscsidError, iscsidErrorInfo, isAuthRelated, isTransportRelated } from '../../lib/iscsid/error-numbers';
import { IscsiError, IscsiPermissionError, IscsiTimeoutError, IscsiUnsupportedError } from '../../lib/errors';

// The decisions documented in lib/iscsid/error-numbers.ts, restated so that a change to one is deliberate.
const TRANSPORT = [4, 5, 8, 11, 12, 14, 23, 27];
const AUTH = [24];
const RETRYABLE = [3, 4, 5, 8, 9, 10, 11, 18, 20, 22, 25, 26, 28, 29, 31, 32, 33];

describe('iscsid error table', () => {
  it('covers every code 0..33, in order, with the names of include/iscsi_err.h', () => {
    expect(ISCSID_ERRORS.map((e) => e.errno)).toEqual(Array.from({ length: 34 }, (_, i) => i));
    expect(ISCSID_ERRORS.map((e) => e.name)).toEqual([
      'SUCCESS', 'ERR', 'SESS_NOT_FOUND', 'NOMEM', 'TRANS', 'LOGIN', 'IDBM', 'INVAL', 'TRANS_TIMEOUT', 'INTERNAL', 'LOGOUT',
      'PDU_TIMEOUT', 'TRANS_NOT_FOUND', 'ACCESS', 'TRANS_CAPS', 'SESS_EXISTS', 'INVALID_MGMT_REQ', 'ISNS_UNAVAILABLE',
      'ISCSID_COMM_ERR', 'FATAL_LOGIN', 'ISCSID_NOTCONN', 'NO_OBJS_FOUND', 'SYSFS_LOOKUP', 'HOST_NOT_FOUND',
      'LOGIN_AUTH_FAILED', 'ISNS_QUERY', 'ISNS_REG_FAILED', 'OP_NOT_SUPP', 'BUSY', 'AGAIN', 'UNKNOWN_DISCOVERY_TYPE',
      'CHILD_TERMINATED', 'SESSION_NOT_CONNECTED', 'REQ_TIMEDOUT',
    ]);
  });

  it.each(ISCSID_ERRORS.slice(1).map((i) => [i.errno, i.name] as const))('%i maps to ISCSID_ERR_%s with its errno, text and flags', (n, name) => {
    const err = iscsidError(n, 'SESSION_LOGIN');
    expect(err).toBeInstanceOf(IscsiError);
    expect(err.code).toBe(`ISCSID_ERR_${name}`);
    expect(err.errno).toBe(n);
    expect(err.message).toMatch(new RegExp(`^SESSION_LOGIN: iscsid error ${n} \\(`));
    expect(err.message).toContain(iscsidErrorInfo(n)!.text);
    expect(err.details).toEqual({ retryable: RETRYABLE.includes(n), transportRelated: TRANSPORT.includes(n), authRelated: AUTH.includes(n) });
    expect(isTransportRelated(err)).toBe(TRANSPORT.includes(n));
    expect(isAuthRelated(err)).toBe(AUTH.includes(n));
  });

  it('uses the class that fits: permission, timeout, unsupported', () => {
    expect(iscsidError(13, 'x')).toBeInstanceOf(IscsiPermissionError);
    expect(iscsidError(13, 'x').message).toMatch(/run as root/);
    expect(iscsidError(33, 'x')).toBeInstanceOf(IscsiTimeoutError);
    for (const n of [12, 14, 27]) expect(iscsidError(n, 'x')).toBeInstanceOf(IscsiUnsupportedError);
    expect(iscsidError(24, 'x').constructor).toBe(IscsiError);
  });

  it('an authentication failure is never a reason to fall back, whatever else it says', () => {
    const err = iscsidError(24, 'x');
    expect(isTransportRelated(err)).toBe(false);
    const forged = new IscsiError('ISCSID_ERR_ERR', 'y', { details: { transportRelated: true, authRelated: true } });
    expect(isTransportRelated(forged)).toBe(false);
    expect(isTransportRelated(new Error('plain'))).toBe(false);
  });

  it('numbers outside the table are ISCSID_ERR_UNKNOWN, keeping the number', () => {
    for (const n of [34, 99, -1]) expect(iscsidError(n, 'x')).toMatchObject({ code: 'ISCSID_ERR_UNKNOWN', errno: n, details: { retryable: false, transportRelated: false } });
    expect(iscsidErrorInfo(34)).toBeUndefined();
  });
});
