// Every error the library raises is an IscsiError with a stable `code`. Classification (may a caller retry,
// may connect() fall back to TCP, is it an authentication problem) lives here and nowhere else.

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
  readonly code: string;
  readonly errno: number | undefined;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: IscsiErrorOptions = {}) {
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
const PERMISSION_CODES = new Set(['USR_ACCESS', 'ISCSID_ACCESS']);
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
  const { code, errno } = e as Error & { code?: unknown; errno?: unknown };
  if (typeof code !== 'string' || e instanceof TypeError) return e;
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
