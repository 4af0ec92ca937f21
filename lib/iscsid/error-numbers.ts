// iscsid's error numbers (ISCSI_ERR_*), the same in every open-iscsi release since 2.1.6, and what each
// means for a caller: may it retry, may connect() fall back to software TCP, is it an authentication failure.
import { IscsiError, IscsiPermissionError, IscsiTimeoutError, IscsiUnsupportedError, type IscsidErrorCode } from '../errors';

export interface IscsidErrorInfo {
  errno: number;
  name: string;
  text: string;
  /** A later attempt may succeed without any change. */
  retryable: boolean;
  /** The transport or the hardware behind it failed: a reason to fall back to software TCP. */
  transportRelated: boolean;
  /** Credentials were refused: never a reason to fall back or to retry unchanged. */
  authRelated: boolean;
  hint?: string;
}

const e = (errno: number, name: string, text: string, flags: Partial<Pick<IscsidErrorInfo, 'retryable' | 'transportRelated' | 'authRelated' | 'hint'>> = {}): IscsidErrorInfo => ({
  errno, name, text, retryable: false, transportRelated: false, authRelated: false, ...flags,
});

/**
 * Every ISCSI_ERR_* code and its classification. The reasoning, code by code, for the ones that are not plain:
 * - transportRelated (connect() may retry over software TCP; it only ever falls back *from* iser or an offload
 *   transport, so a tcp login that fails with these is simply reported):
 *   4 TRANS, 8 TRANS_TIMEOUT, 11 PDU_TIMEOUT: the connection through the chosen iface failed or stalled; with
 *     iser the target may lack RDMA, with offload the HBA's own stack or link may be the cause.
 *   5 LOGIN: besides target-side failures after retries, iscsid answers 5 at once when the driver cannot create
 *     the session or connection, or cannot apply the iface's network settings to an offload host.
 *   12 TRANS_NOT_FOUND: the transport's kernel module is missing; 14 TRANS_CAPS: it lacks a capability;
 *   23 HOST_NOT_FOUND: no iscsi_host matches the iface (hwaddress, netdev, ipaddress);
 *   27 OP_NOT_SUPP: the transport does not implement the operation.
 * - authRelated, never a reason to fall back or to retry unchanged: 24 LOGIN_AUTH_FAILED.
 * - Neither, and not retryable: 19 FATAL_LOGIN (the target refused this initiator or target name: another
 *   transport would be refused too), 13 ACCESS (not root), 15 SESS_EXISTS (login() treats it as success),
 *   2 SESS_NOT_FOUND, 7 INVAL, 16 INVALID_MGMT_REQ (this iscsid does not understand the request), 6, 17, 21, 30.
 * - retryable: resource, timing and daemon-state conditions that can clear on their own (3, 9, 10, 18, 20, 22,
 *   25, 26, 28, 29, 31, 32, 33) plus the transport ones above except 12, 14, 23, 27, which need a change first.
 */
export const ISCSID_ERRORS: readonly IscsidErrorInfo[] = [
  e(0, 'SUCCESS', 'success'),
  e(1, 'ERR', 'unknown error'),
  e(2, 'SESS_NOT_FOUND', 'session not found', { hint: 'the session is gone, or was created by firmware and is not tracked by iscsid' }),
  e(3, 'NOMEM', 'no available memory', { retryable: true }),
  e(4, 'TRANS', 'encountered connection failure', { retryable: true, transportRelated: true, hint: 'check the portal is reachable from the chosen iface' }),
  e(5, 'LOGIN', 'encountered iSCSI login failure', { retryable: true, transportRelated: true, hint: 'check iscsid has an initiator name, the target accepts this initiator, and (offload) the iface settings suit the host' }),
  e(6, 'IDBM', 'encountered iSCSI database failure'),
  e(7, 'INVAL', 'invalid parameter'),
  e(8, 'TRANS_TIMEOUT', 'connection timed out', { retryable: true, transportRelated: true, hint: 'the portal did not answer: check the address, routing and firewall' }),
  e(9, 'INTERNAL', 'internal error', { retryable: true }),
  e(10, 'LOGOUT', 'encountered iSCSI logout failure', { retryable: true }),
  e(11, 'PDU_TIMEOUT', 'iSCSI PDU timed out', { retryable: true, transportRelated: true }),
  e(12, 'TRANS_NOT_FOUND', 'iSCSI driver not found', { transportRelated: true, hint: 'the transport kernel module is not loaded (modprobe it) or does not exist on this kernel' }),
  e(13, 'ACCESS', 'daemon access denied', { hint: 'iscsid only serves root: run as root' }),
  e(14, 'TRANS_CAPS', 'iSCSI driver does not support requested capability', { transportRelated: true }),
  e(15, 'SESS_EXISTS', 'session exists'),
  e(16, 'INVALID_MGMT_REQ', 'unknown request', { hint: 'the request does not match this iscsid: check the detected open-iscsi version' }),
  e(17, 'ISNS_UNAVAILABLE', 'iSNS service not supported'),
  e(18, 'ISCSID_COMM_ERR', 'could not communicate to iscsid', { retryable: true }),
  e(19, 'FATAL_LOGIN', 'encountered non-retryable iSCSI login failure', { hint: 'the target refused this initiator or target name; check its ACLs' }),
  e(20, 'ISCSID_NOTCONN', 'could not connect to iscsid', { retryable: true, hint: 'start iscsid (systemctl start iscsid)' }),
  e(21, 'NO_OBJS_FOUND', 'no objects found'),
  e(22, 'SYSFS_LOOKUP', 'sysfs lookup failure', { retryable: true }),
  e(23, 'HOST_NOT_FOUND', 'host not found', { transportRelated: true, hint: 'no iSCSI host matches the iface (hwaddress, netdev or ipaddress): check the offload hardware' }),
  e(24, 'LOGIN_AUTH_FAILED', 'iSCSI login failed due to authorization failure', { authRelated: true, hint: 'check the CHAP user name and secret (and the mutual ones)' }),
  e(25, 'ISNS_QUERY', 'iSNS query failed', { retryable: true }),
  e(26, 'ISNS_REG_FAILED', 'iSNS registration failed', { retryable: true }),
  e(27, 'OP_NOT_SUPP', 'operation not supported', { transportRelated: true }),
  e(28, 'BUSY', 'device or resource in use', { retryable: true, hint: 'a disk of the session is still mounted or open' }),
  e(29, 'AGAIN', 'operation failed but retry may succeed', { retryable: true }),
  e(30, 'UNKNOWN_DISCOVERY_TYPE', 'unknown discovery type'),
  e(31, 'CHILD_TERMINATED', 'child process terminated', { retryable: true }),
  e(32, 'SESSION_NOT_CONNECTED', 'target likely not connected', { retryable: true, hint: 'the session is reconnecting; retry the logout later' }),
  e(33, 'REQ_TIMEDOUT', 'iscsid request timed out', { retryable: true }),
];

export function iscsidErrorInfo(errno: number): IscsidErrorInfo | undefined {
  return ISCSID_ERRORS[errno]?.errno === errno ? ISCSID_ERRORS[errno] : undefined;
}

/** The typed error for an iscsid answer with err != 0. Code: ISCSID_ERR_<NAME>; errno: iscsid's number. */
export function iscsidError(errno: number, context: string): IscsiError {
  const info = iscsidErrorInfo(errno);
  // Each ISCSI_ERRORS name is in IscsidErrorCode (test/unit/error-codes.test.ts).
  const code = (info ? `ISCSID_ERR_${info.name}` : 'ISCSID_ERR_UNKNOWN') as IscsidErrorCode;
  const message = `${context}: iscsid error ${errno} (${info?.text ?? 'unknown'})`;
  const options = { errno, details: { retryable: info?.retryable ?? false, transportRelated: info?.transportRelated ?? false, authRelated: info?.authRelated ?? false }, ...(info?.hint ? { hint: info.hint } : {}) };
  if (errno === 13) return new IscsiPermissionError(code, message, options);
  if (errno === 33) return new IscsiTimeoutError(code, message, options);
  if (errno === 12 || errno === 14 || errno === 27) return new IscsiUnsupportedError(code, message, options);
  return new IscsiError(code, message, options);
}

/** Whether an error justifies falling back to software TCP: transport/hardware trouble, never auth. */
export function isTransportRelated(err: unknown): boolean {
  if (!(err instanceof IscsiError)) return false;
  const d = err.details as { transportRelated?: boolean; authRelated?: boolean } | undefined;
  return d?.transportRelated === true && d.authRelated !== true;
}

export function isAuthRelated(err: unknown): boolean {
  return err instanceof IscsiError && (err.details as { authRelated?: boolean } | undefined)?.authRelated === true;
}
