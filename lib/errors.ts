// Every error the library raises is an IscsiError with a stable `code`. Classification (may a caller retry,
// may connect() fall back to TCP, is it an authentication problem) lives here and nowhere else.

/**
 * Every stable `code` an {@link IscsiError} can carry: compare `e.code` against these (a misspelt code does not
 * compile). Grouped by where they come from; each line says when. test/unit/error-codes.test.ts keeps the list
 * equal to what lib/ and native/ throw.
 */
export type IscsiErrorCode =
  // ---- input, refused before anything was sent or written (IscsiValidationError) ----
  /** An options argument is not an object, or a combination of options is not allowed. */
  | 'INVALID_OPTIONS'
  /** One option has a value of the wrong type or out of range (a login option, `abi`, a flag). */
  | 'INVALID_OPTION'
  /** A login option name that is not one of iscsiadm's `node.*` keys. */
  | 'UNKNOWN_OPTION'
  /** A transport name that is not one of `Transport` (the message lists them). */
  | 'UNKNOWN_TRANSPORT'
  /** A string (name, option value) longer than the file or wire format holds. */
  | 'VALUE_TOO_LONG'
  /** A value for a file or the wire that is empty, has control characters or edge white space, or is not a whole number. */
  | 'INVALID_VALUE'
  /** An iSCSI name (IQN, EUI, NAA) that RFC 3720/3722 does not allow. */
  | 'INVALID_IQN'
  /** A portal that is not `host[:port][,tpgt]` (IPv6 in brackets). */
  | 'INVALID_PORTAL'
  /** An IPv4/IPv6 address that does not parse, or is of the wrong family or kind for its use. */
  | 'INVALID_ADDRESS'
  /** A MAC address that is not `xx:xx:xx:xx:xx:xx`, or names no device (all zeros, broadcast). */
  | 'INVALID_HWADDRESS'
  /** A network device name that Linux cannot have, or one the transport cannot bind to. */
  | 'INVALID_NETDEV'
  /** An iface name outside 1–64 of `[A-Za-z0-9._:-]`, with `..`, or a built-in (`default`, `iser`) to create or delete. */
  | 'INVALID_IFACE_NAME'
  /** A LUN outside 0–65535. */
  | 'INVALID_LUN'
  /** A session id that is not a whole number from 1 up, or `sids` that is not an array of them. */
  | 'INVALID_SID'
  /** A `timeoutMs` that is not a whole number of milliseconds from 1 to 2^31−1. */
  | 'INVALID_TIMEOUT'
  /** A CHAP user name that is empty, too long or has control characters. */
  | 'INVALID_CHAP_USER'
  /** A CHAP secret of the wrong length or with control characters (its value is never shown). */
  | 'INVALID_CHAP_SECRET'
  /** CHAP `algorithms` that are not a non-empty list of the supported ones. */
  | 'INVALID_CHAP_ALGORITHM'
  /** A SendTargets text key that is not a valid iSCSI key name. */
  | 'INVALID_TEXT_KEY'
  /** A SendTargets text value that is too long or has a NUL byte. */
  | 'INVALID_TEXT_VALUE'
  /** A SCSI address that is not `H:C:T:L`. */
  | 'INVALID_HCTL'
  /** A multipath map that is not a dm name (`dm-0`), a map name or a WWID. */
  | 'INVALID_MAP'
  /** A file name built from input would leave its directory. */
  | 'PATH_ESCAPE'
  /** The CLI's `--chap-secret-env` names an environment variable that is unset or empty. */
  | 'CHAP_SECRET_MISSING'
  /** The portal's host name does not resolve. */
  | 'PORTAL_UNRESOLVABLE'
  // ---- privilege and planted files (IscsiPermissionError) ----
  /** The system refused (EACCES/EPERM on a lock, file, sysfs write or socket), or the caller is not root. */
  | 'PERMISSION_DENIED'
  /** Reading a session needs CAP_SYS_ADMIN on Linux ≥ 5.12 (the kernel hides its CHAP attributes). */
  | 'SESSIONS_PERMISSION_DENIED'
  /** A directory to write into is not root's or is writable by others; nothing was written. */
  | 'UNSAFE_DIRECTORY'
  /** A lock directory is a symbolic link, not root's or writable by others; nothing was created in it. */
  | 'LOCK_DIR_UNSAFE'
  /** A lock file is a symbolic link, or not a regular root-owned file with one link that only root can write. */
  | 'LOCK_FILE_UNSAFE'
  /** The lock directory or file cannot be opened or created without root. */
  | 'LOCK_ACCESS'
  /** Any other I/O error on a lock directory or file (errno in `errno`). */
  | 'LOCK_IO'
  // ---- the addon and the libraries it loads (IscsiUnsupportedError) ----
  /** The native addon cannot be loaded: the message says what to install or rebuild. */
  | 'NATIVE_UNAVAILABLE'
  /** libopeniscsiusr.so.0 is not installed: only ifaces(), nodes(), setupDefaultIfaces() and sessions({ source: 'libopeniscsiusr' }) need it. */
  | 'LIBOPENISCSIUSR_MISSING'
  /** libopeniscsiusr: an internal error (also its wrapping of EACCES, then an IscsiPermissionError). */
  | 'USR_BUG'
  /** libopeniscsiusr: no such session. */
  | 'USR_SESS_NOT_FOUND'
  /** libopeniscsiusr: out of memory. */
  | 'USR_NOMEM'
  /** libopeniscsiusr: its database (iface or node files, its lock) failed. */
  | 'USR_IDBM'
  /** libopeniscsiusr: an invalid argument. */
  | 'USR_INVAL'
  /** libopeniscsiusr: the transport is not loaded. */
  | 'USR_TRANS_NOT_FOUND'
  /** libopeniscsiusr: permission denied (an IscsiPermissionError). */
  | 'USR_ACCESS'
  /** libopeniscsiusr: a sysfs lookup failed. */
  | 'USR_SYSFS_LOOKUP'
  /** libopeniscsiusr: an error number this library does not know (in `errno`). */
  | 'USR_UNKNOWN'
  // ---- iscsid: reaching it, identifying it, its configuration ----
  /** Nothing listens on iscsid's socket (not started, or another network namespace: `hostNetwork`). */
  | 'ISCSID_NOT_RUNNING'
  /** iscsid did not answer within the deadline (an IscsiTimeoutError). */
  | 'ISCSID_TIMEOUT'
  /** The exchange with iscsid failed: a short, closed or mismatched answer. */
  | 'ISCSID_COMM_ERR'
  /** iscsid refused this process (not root). */
  | 'ISCSID_ACCESS'
  /** iscsid's socket is held by a process that is not root; nothing was sent. */
  | 'ISCSID_PEER_UNTRUSTED'
  /** iscsid's pid is not visible (another pid namespace: `hostPID`, or pass `abi`). */
  | 'ISCSID_PEER_PID_HIDDEN'
  /** The process holding iscsid's socket changed between identification and the request: retry. */
  | 'ISCSID_PEER_CHANGED'
  /** The running iscsid's open-iscsi version has no verified request layout; nothing was sent. */
  | 'ISCSID_ABI_UNSUPPORTED'
  /** The root process on iscsid's socket has no open-iscsi version in its executable. */
  | 'ISCSID_VERSION_UNKNOWN'
  /** A login option the running iscsid's request layout has no room for. */
  | 'OPTION_NOT_SUPPORTED'
  /** A discovery type whose number differs between builds of the running open-iscsi; nothing was sent. */
  | 'DISCOVERY_TYPE_RENUMBERED'
  /** `iscsid.conf` or `initiatorname.iscsi` has a line that is not `key = value` (file and line in `details`). */
  | 'CONFIG_PARSE_ERROR'
  /** A value in `iscsid.conf` that its key does not allow. */
  | 'CONFIG_INVALID_VALUE'
  /** `iscsid.conf` or `initiatorname.iscsi` cannot be read. */
  | 'CONFIG_READ_ERROR'
  /** Neither iscsid nor `initiatorname.iscsi` has an initiator name. */
  | 'NO_INITIATOR_NAME'
  /** The kernel has no iSCSI transport for the request and cannot load its module (`details.module`). */
  | 'ISCSI_TRANSPORT_NOT_LOADED'
  // ---- login, logout, sessions ----
  /** The login did not finish by its deadline; `details.inFlight`: iscsid may still complete it. */
  | 'LOGIN_TIMEOUT'
  /** Another process kept logging in to the same (target, portal, iface) until the deadline. */
  | 'LOGIN_LOCKED'
  /** disconnect(): another connect() or disconnect() held the session's (target, portal, iface) lock until the deadline. */
  | 'SESSION_LOCKED'
  /** iscsid reported a login but no session shows in sysfs. */
  | 'LOGIN_SESSION_MISSING'
  /** A session for the same (target, portal, iface) exists but is not LOGGED_IN (its state is named). */
  | 'SESSION_NOT_LOGGED_IN'
  /** No session with that sid. */
  | 'SESSION_NOT_FOUND'
  /** A library lock was still held by another process or call at the deadline. */
  | 'LOCK_TIMEOUT'
  /** open-iscsi's database lock was still held at the deadline (another iscsiadm, or a stale lock). */
  | 'ISCSI_DB_LOCKED'
  // ---- discovery (SendTargets) ----
  /** The portal cannot be reached (connection refused, no route, name does not resolve). */
  | 'DISCOVERY_CONNECT_FAILED'
  /** The target closed the connection mid-exchange. */
  | 'DISCOVERY_CONNECTION_CLOSED'
  /** Discovery did not finish by its deadline (the phase is named). */
  | 'DISCOVERY_TIMEOUT'
  /** The target refused the CHAP credentials or offered no algorithm in common (an IscsiAuthError). */
  | 'DISCOVERY_AUTH_FAILED'
  /** The target requires authentication for discovery and none was given. */
  | 'DISCOVERY_AUTH_REQUIRED'
  /** The target failed to prove itself in mutual CHAP. */
  | 'DISCOVERY_MUTUAL_AUTH_FAILED'
  /** The target rejected the discovery login for a reason no other DISCOVERY_ code names (its status is in the message). */
  | 'DISCOVERY_LOGIN_REJECTED'
  /** The target redirected more times than `maxRedirects` allows. */
  | 'DISCOVERY_REDIRECT'
  /** The target or portal was not found or was removed (login status 0x0203/0x0204). */
  | 'DISCOVERY_TARGET_NOT_FOUND'
  /** The target service is unavailable: retry later. */
  | 'DISCOVERY_SERVICE_UNAVAILABLE'
  /** A malformed or unexpected answer (an IscsiProtocolError). */
  | 'DISCOVERY_PROTOCOL_ERROR'
  /** More than 65,536 targets, or 256 portals for one. */
  | 'DISCOVERY_ANSWER_TOO_LARGE'
  // ---- ifaces, node records, hardware ----
  /** No iface of that name. */
  | 'IFACE_NOT_FOUND'
  /** An iface of that name exists with other settings. */
  | 'IFACE_EXISTS'
  /** The iface is used by a session: log it out first. */
  | 'IFACE_IN_USE'
  /** The iface was not created by this library: pass `force: true` to delete it. */
  | 'IFACE_NOT_OURS'
  /** The hardware check for a new iface failed (`details.problems`); nothing was written. */
  | 'IFACE_HARDWARE_CHECK_FAILED'
  /** An offload iface needs a hwaddress, netdev or ipaddress so iscsid can find its host. */
  | 'IFACE_BINDING_REQUIRED'
  /** The transport (bnx2i, qedi) needs the iface's ipaddress. */
  | 'IPADDRESS_REQUIRED'
  /** An iface file libopeniscsiusr would refuse; it was skipped (reported through `onProblem`). */
  | 'IFACE_FILE_INVALID'
  /** A node file libopeniscsiusr would refuse; it was skipped (reported through `onProblem`). */
  | 'NODE_FILE_INVALID'
  /** The node record's path is a directory of new-style records; not overwritten. */
  | 'NODE_RECORD_CONFLICT'
  /** The iface is bound to a netdev that does not exist. */
  | 'IFACE_NETDEV_MISSING'
  /** The iface's netdev has no address of the portal's family to discover from. */
  | 'IFACE_NETDEV_NO_ADDRESS'
  /** No route to the target address. */
  | 'NO_ROUTE'
  /** No local netdev or iSCSI host has the source address. */
  | 'ADDRESS_NOT_LOCAL'
  // ---- connect ----
  /** The requested transport cannot be used and fallback is off (`details.problems`). */
  | 'TRANSPORT_UNAVAILABLE'
  /** The portal does not offer the named target (`details.offered`). */
  | 'TARGET_NOT_OFFERED'
  /** No target was named and the portal offers several. */
  | 'TARGET_AMBIGUOUS'
  /** No target was named and the portal offers none to this initiator. */
  | 'NO_TARGETS'
  /** The target has no such LUN, or no disk LUN (it lists the LUNs it has). */
  | 'LUN_NOT_FOUND'
  /** The LUN is not a disk (a controller, a CD), so it has no block device. */
  | 'LUN_NOT_A_DISK'
  /** The LUN's block device did not appear in `/dev` by the deadline. */
  | 'DEVICE_TIMEOUT'
  // ---- detach ----
  /** A device to remove is mounted, held, open or claimed; nothing was removed (unless `force`). */
  | 'DEVICE_IN_USE'
  /** Flushing a device failed; nothing was removed. */
  | 'DEVICE_FLUSH_FAILED'
  /** A device could not be opened to check and flush it. */
  | 'DEVICE_OPEN_FAILED'
  /** The `/dev` node is not the block device sysfs names for the LUN. */
  | 'DEVICE_NODE_MISMATCH'
  /** The kernel refused to delete a SCSI device. */
  | 'DEVICE_DELETE_FAILED'
  // ---- multipath ----
  /** `multipath: 'required'` but multipathd does not answer on its socket; nothing was logged in. */
  | 'MULTIPATHD_NOT_RUNNING'
  /** multipathd's socket is held by a process that is not root; nothing was sent. */
  | 'MULTIPATHD_UNTRUSTED'
  /** multipathd answered `fail` to a command (its reason in the message). */
  | 'MULTIPATHD_REFUSED'
  /** multipathd did not answer within the deadline, or its listen queue is full. */
  | 'MULTIPATHD_TIMEOUT'
  /** The exchange with multipathd failed (closed, short or oversized answer). */
  | 'MULTIPATHD_COMM_ERR'
  /** multipathd made no map over the paths in time; the paths were detached again. */
  | 'MULTIPATH_MAP_TIMEOUT'
  /** multipathd would not remove the map: something still has it open. */
  | 'MULTIPATH_MAP_BUSY'
  /** The paths' devices are different volumes (WWIDs); refused. */
  | 'MULTIPATH_WWID_MISMATCH'
  /** Flushing the multipath map failed; it was not removed. */
  | 'FLUSH_FAILED'
  /** device-mapper (DM_DEV_REMOVE) refused to remove the map: it is open or held (the cause of MULTIPATH_MAP_BUSY). */
  | 'DM_MAP_BUSY'
  /** device-mapper has no map with that uuid (taken as already removed). */
  | 'DM_MAP_NOT_FOUND'
  /** No /dev/mapper/control, or dm_mod is not loaded. */
  | 'DM_CONTROL_UNAVAILABLE'
  /** device-mapper refused the caller (EACCES/EPERM on its control node or ioctl). */
  | 'DM_PERMISSION'
  /** Any other failure of a device-mapper ioctl (errno in `errno`). */
  | 'DM_IOCTL_FAILED'
  // ---- deadlines and signals ----
  /** A call did not finish within its `timeoutMs` (an IscsiTimeoutError). */
  | 'TIMEOUT'
  /** An AbortSignal fired (an IscsiAbortError, `name === 'AbortError'`). */
  | 'ABORTED'
  // ---- iscsid's own answers: ISCSID_ERR_<NAME>, errno = its number (ISCSID_ERRORS classifies each) ----
  | IscsidErrorCode;

/** iscsid answered an error: `ISCSID_ERR_<NAME>`, with iscsid's number in `errno`. */
export type IscsidErrorCode =
  /** 1: unknown error. */
  | 'ISCSID_ERR_ERR'
  /** 2: session not found. */
  | 'ISCSID_ERR_SESS_NOT_FOUND'
  /** 3: no memory (retryable). */
  | 'ISCSID_ERR_NOMEM'
  /** 4: connection failure (retryable; a reason to fall back to tcp). */
  | 'ISCSID_ERR_TRANS'
  /** 5: login failure (retryable; a reason to fall back to tcp). */
  | 'ISCSID_ERR_LOGIN'
  /** 6: iscsid's database failed. */
  | 'ISCSID_ERR_IDBM'
  /** 7: invalid parameter. */
  | 'ISCSID_ERR_INVAL'
  /** 8: connection timed out (retryable; a reason to fall back to tcp). */
  | 'ISCSID_ERR_TRANS_TIMEOUT'
  /** 9: internal error (retryable). */
  | 'ISCSID_ERR_INTERNAL'
  /** 10: logout failure (retryable). */
  | 'ISCSID_ERR_LOGOUT'
  /** 11: PDU timed out (retryable; a reason to fall back to tcp). */
  | 'ISCSID_ERR_PDU_TIMEOUT'
  /** 12: the transport's driver is not loaded (an IscsiUnsupportedError). */
  | 'ISCSID_ERR_TRANS_NOT_FOUND'
  /** 13: iscsid serves only root (an IscsiPermissionError). */
  | 'ISCSID_ERR_ACCESS'
  /** 14: the driver lacks a capability (an IscsiUnsupportedError). */
  | 'ISCSID_ERR_TRANS_CAPS'
  /** 15: the session exists (login() treats it as success). */
  | 'ISCSID_ERR_SESS_EXISTS'
  /** 16: iscsid does not understand the request (check the detected version). */
  | 'ISCSID_ERR_INVALID_MGMT_REQ'
  /** 17: iSNS is not supported. */
  | 'ISCSID_ERR_ISNS_UNAVAILABLE'
  /** 18: could not communicate with iscsid (retryable). */
  | 'ISCSID_ERR_ISCSID_COMM_ERR'
  /** 19: the target refused this initiator or target name for good: check its ACLs. */
  | 'ISCSID_ERR_FATAL_LOGIN'
  /** 20: could not connect to iscsid (retryable). */
  | 'ISCSID_ERR_ISCSID_NOTCONN'
  /** 21: no objects found. */
  | 'ISCSID_ERR_NO_OBJS_FOUND'
  /** 22: a sysfs lookup failed (retryable). */
  | 'ISCSID_ERR_SYSFS_LOOKUP'
  /** 23: no iSCSI host matches the iface (a reason to fall back to tcp). */
  | 'ISCSID_ERR_HOST_NOT_FOUND'
  /** 24: the target refused the CHAP credentials (never a reason to fall back). */
  | 'ISCSID_ERR_LOGIN_AUTH_FAILED'
  /** 25: an iSNS query failed (retryable). */
  | 'ISCSID_ERR_ISNS_QUERY'
  /** 26: iSNS registration failed (retryable). */
  | 'ISCSID_ERR_ISNS_REG_FAILED'
  /** 27: the transport does not support the operation (an IscsiUnsupportedError). */
  | 'ISCSID_ERR_OP_NOT_SUPP'
  /** 28: a device of the session is in use (retryable). */
  | 'ISCSID_ERR_BUSY'
  /** 29: failed, but a retry may succeed. */
  | 'ISCSID_ERR_AGAIN'
  /** 30: unknown discovery type. */
  | 'ISCSID_ERR_UNKNOWN_DISCOVERY_TYPE'
  /** 31: a child process of iscsid terminated (retryable). */
  | 'ISCSID_ERR_CHILD_TERMINATED'
  /** 32: the session is reconnecting: retry the logout later. */
  | 'ISCSID_ERR_SESSION_NOT_CONNECTED'
  /** 33: iscsid's own request timed out (an IscsiTimeoutError). */
  | 'ISCSID_ERR_REQ_TIMEDOUT'
  /** A number this library does not know (in `errno`). */
  | 'ISCSID_ERR_UNKNOWN';

export interface IscsiErrorOptions {
  /** iscsid's or libopeniscsiusr's numeric error, where there is one. */
  errno?: number;
  /** What the caller can do about it. Appended to the message. */
  hint?: string;
  cause?: unknown;
  /** Structured facts (file names, versions, …). Never secrets. */
  details?: Record<string, unknown>;
}

export class IscsiError extends Error {
  /** Stable: what went wrong, for programs (the message is for people). One of IscsiErrorCode. */
  readonly code: IscsiErrorCode;
  readonly errno: number | undefined;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: IscsiErrorCode, message: string, options: IscsiErrorOptions = {}) {
    super(options.hint ? `${message}. ${options.hint}` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.errno = options.errno;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** Bad input: nothing was sent and nothing was written. */
export class IscsiValidationError extends IscsiError {}
/** The caller lacks a privilege (root, CAP_SYS_ADMIN) the operation needs. */
export class IscsiPermissionError extends IscsiError {}
/** The addon, libopeniscsiusr or an iscsid ABI is unavailable or unsupported here. */
export class IscsiUnsupportedError extends IscsiError {}
/** A deadline passed. */
export class IscsiTimeoutError extends IscsiError {}
/** An AbortSignal fired. */
export class IscsiAbortError extends IscsiError {
  constructor(message = 'The operation was aborted', options: IscsiErrorOptions = {}) {
    super('ABORTED', message, options);
    this.name = 'AbortError';
  }
}

/** The peer broke the iSCSI protocol: a malformed PDU or an answer that makes no sense (`DISCOVERY_PROTOCOL_ERROR`). */
export class IscsiProtocolError extends IscsiError {}
/**
 * Authentication was refused, is required but was not configured, or the peer could not prove it (CHAP):
 * `DISCOVERY_AUTH_FAILED`, `DISCOVERY_AUTH_REQUIRED`, `DISCOVERY_MUTUAL_AUTH_FAILED`. Never a reason to retry
 * elsewhere or fall back to another transport.
 */
export class IscsiAuthError extends IscsiError {}

export function isIscsiError(e: unknown): e is IscsiError {
  return e instanceof IscsiError;
}

/** Throws IscsiAbortError when the signal has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new IscsiAbortError(what === undefined ? undefined : `${what} was aborted`);
}

/** The hint every permission failure carries: what to do about it. */
export const PERMISSION_HINT = 'run as root (iSCSI administration needs root, or CAP_SYS_ADMIN for session reads)';

/**
 * Refuses a caller that is not root before an operation that changes shared state takes a lock or writes a
 * file: iscsid serves only uid 0, and open-iscsi's files and locks are root's.
 */
export function requireRoot(what: string, euid: number = process.geteuid?.() ?? 0): void {
  if (euid !== 0) {
    throw new IscsiPermissionError('PERMISSION_DENIED', `${what} as uid ${euid}: only root may do this`, { hint: PERMISSION_HINT, details: { euid, needs: 'euid 0' } });
  }
}

const SYSTEM_PERMISSION_CODES = new Set(['EACCES', 'EPERM']);

/** The EACCES/EPERM system error (Node's fs/net, or the addon's) at `e` or in its cause chain, if any. */
function permissionCause(e: unknown): (Error & { code: string; syscall?: unknown; path?: unknown }) | undefined {
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 8; x = x.cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && SYSTEM_PERMISSION_CODES.has(code)) return x as Error & { code: string };
  }
  return undefined;
}

/**
 * The one mapping of "the operating system said no" to the library's error: any EACCES or EPERM (a lock file,
 * an iface or node file, a sysfs write, a socket), raw or wrapped as the cause of another error, becomes an
 * IscsiPermissionError with code PERMISSION_DENIED (details: the errno name, syscall and path) and the hint to
 * run as root. Anything else comes back unchanged, an IscsiPermissionError included.
 */
export function asPermissionError(e: unknown, context?: string): unknown {
  if (e instanceof IscsiPermissionError) return e;
  const sys = permissionCause(e);
  if (!sys) return e;
  const top = e as Error;
  const message = context && !top.message.startsWith(`${context}:`) ? `${context}: ${top.message}` : top.message;
  const details: Record<string, unknown> = { errno: sys.code };
  if (typeof sys.syscall === 'string') details.syscall = sys.syscall;
  if (typeof sys.path === 'string') details.path = sys.path;
  return new IscsiPermissionError('PERMISSION_DENIED', message, { cause: e, errno: sys.code === 'EPERM' ? 1 : 13, hint: PERMISSION_HINT, details });
}

/** Runs an operation and maps its permission failures (asPermissionError): the public operations go through this. */
export async function withPermissionErrors<T>(context: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw asPermissionError(e, context);
  }
}

/** libopeniscsiusr codes that mean "you lack a privilege". */
const PERMISSION_CODES = new Set<string>(['USR_ACCESS', 'ISCSID_ACCESS']);
/**
 * libopeniscsiusr reports some EACCES as BUG (scandir of /etc/iscsi/nodes: "Got unexpected error 13") or IDBM
 * (its lock: "lock.write: 13 Permission denied"); its log lines, carried in the message, tell them apart.
 */
const USR_WRAPPED_EACCES = new Set(['USR_BUG', 'USR_IDBM']);
const EACCES_TEXT = /\berror 13\b|\b13 Permission denied\b|\bPermission denied\b/;

/**
 * Turns an error thrown by the addon (a plain Error with `code` and `errno`) into the IscsiError class that
 * fits it. The one place where native error codes meet the class hierarchy.
 */
export function fromNative(e: unknown, context?: string): unknown {
  if (e instanceof IscsiError || !(e instanceof Error)) return e;
  const { code: raw, errno } = e as Error & { code?: unknown; errno?: unknown };
  if (typeof raw !== 'string' || e instanceof TypeError) return e;
  // The addon's codes (native/**: NativeError{…, "CODE"}); test/unit/error-codes.test.ts keeps them in the union.
  const code = raw as IscsiErrorCode;
  const options: IscsiErrorOptions = { cause: e };
  if (typeof errno === 'number') options.errno = errno;
  // Native messages usually start with their own context already ("listing nodes: ...").
  const message = context && !e.message.startsWith(`${context}:`) ? `${context}: ${e.message}` : e.message;
  if (PERMISSION_CODES.has(code) || (USR_WRAPPED_EACCES.has(code) && EACCES_TEXT.test(e.message))) {
    return new IscsiPermissionError(code, message, { ...options, hint: PERMISSION_HINT });
  }
  if (SYSTEM_PERMISSION_CODES.has(code)) return asPermissionError(e, context);
  if (code === 'LIBOPENISCSIUSR_MISSING') return new IscsiUnsupportedError(code, message, options);
  return new IscsiError(code, message, options);
}
