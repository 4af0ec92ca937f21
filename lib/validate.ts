// Every check of caller input, in one module: done at the edge (the public call, the CLI), before anything is
// read, sent, written or opened. Each check returns the value typed as checked (IscsiName, IfaceName, ...), so
// lower layers take it as it is. Every refusal is an IscsiValidationError with a stable code; secrets never
// appear in a message or in details. The rules are summed up in lib/README.md ("Input rules").
import { isIP } from 'node:net';
import * as path from 'node:path';
import { IscsiValidationError, type IscsiErrorCode } from './errors';

declare const checked: unique symbol;
/** A string that passed a check; `T` names which. Lower layers take these as they are. */
export type Checked<T extends string> = string & { readonly [checked]: T };
export type IscsiName = Checked<'IscsiName'>;
export type IfaceName = Checked<'IfaceName'>;

const fail = (code: IscsiErrorCode, message: string, details?: Record<string, unknown>) => new IscsiValidationError(code, message, details ? { details } : {});
/** A value for a message: short, with its control characters visible, whatever its type (a BigInt too). */
export const describeValue = (v: unknown): string => show(v);
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

// ---- text that reaches a file or the wire ------------------------------------------------------------

/**
 * C0 controls (NUL, tab, newline, ...), DEL, C1 controls, and the Unicode line and paragraph separators: none of
 * them belongs in a value that is written as a `key = value` line or sent as an iSCSI text key.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** A UTF-16 surrogate without its pair: it would be written as U+FFFD, not as the caller's text. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export interface TextRule {
  /** Most UTF-8 bytes (the C buffer's size less its NUL). */
  maxBytes: number;
  minBytes?: number;
  /** Leading or trailing white space is refused (default true): record files trim it away. */
  noOuterSpace?: boolean;
  code?: IscsiErrorCode;
  /** Never echo the value (secrets). */
  secret?: boolean;
}

/** A string for a file or the wire: no control characters, well-formed, within its byte bounds. */
export function checkText(v: unknown, what: string, rule: TextRule): string {
  const code = rule.code ?? 'INVALID_VALUE';
  const shown = rule.secret ? '' : ` (got ${show(v)})`;
  if (typeof v !== 'string') throw fail(code, `${what} must be a string, got ${rule.secret ? `a ${typeof v}` : show(v)}`);
  const n = Buffer.byteLength(v);
  const min = rule.minBytes ?? 1;
  if (n > rule.maxBytes) throw fail(rule.code ?? 'VALUE_TOO_LONG', `${what} is ${n} bytes; at most ${rule.maxBytes} fit${min > 1 ? ` (it must be ${min} to ${rule.maxBytes} bytes)` : ''}`);
  if (n < min) throw fail(code, min === 1 ? `${what} must not be empty` : `${what} must be ${min} to ${rule.maxBytes} bytes (got ${n} bytes)`);
  if (CONTROL.test(v)) throw fail(code, `${what} must not contain control characters (NUL, tab, newline, ...)${shown}`);
  if (LONE_SURROGATE.test(v)) throw fail(code, `${what} is not well-formed Unicode${shown}`);
  if (rule.noOuterSpace !== false && v.trim() !== v) throw fail(code, `${what} must not begin or end with white space${shown}`);
  return v;
}

/** Bytes that must fit a fixed C buffer with its NUL; no control characters. */
export function checkFits(value: string, max: number, what: string): string {
  return checkText(value, what, { maxBytes: max, minBytes: 0, noOuterSpace: false });
}

// ---- iSCSI names (RFC 3720 §3.2.6, RFC 3722) ----------------------------------------------------------

/**
 * What RFC 3722's stringprep profile leaves in a name: ASCII letters (upper-case ones are folded to
 * lower case by the profile, so they name the same node), digits, `-`, `.`, `:`, and non-ASCII letters,
 * marks and digits. No `/`, `\`, `_`, white space or control characters.
 */
const NAME_CHAR = /^[A-Za-z0-9.:\-\p{L}\p{M}\p{Nd}]+$/u;
const IQN = /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:.*)?$/su;
const EUI = /^eui\.[0-9A-Fa-f]{16}$/;
const NAA = /^naa\.([0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})$/;
export const MAX_ISCSI_NAME_BYTES = 223;

/** iqn.YYYY-MM.reversed.domain[:unique], eui.<16 hex>, naa.<16 or 32 hex>; at most 223 bytes; no "..". */
export function validateIscsiName(name: unknown, what = 'iSCSI name'): IscsiName {
  if (typeof name !== 'string' || name.length === 0) throw fail('INVALID_IQN', `${what} must be a non-empty string, got ${show(name)}`);
  if (Buffer.byteLength(name) > MAX_ISCSI_NAME_BYTES) throw fail('INVALID_IQN', `${what} is longer than ${MAX_ISCSI_NAME_BYTES} bytes`);
  if (!NAME_CHAR.test(name) || LONE_SURROGATE.test(name)) {
    throw fail('INVALID_IQN', `${what} ${show(name)} has a character RFC 3722 does not allow (allowed: letters, digits, "-", ".", ":")`);
  }
  if (name.includes('..')) throw fail('INVALID_IQN', `${what} ${show(name)} contains ".."`);
  if (!IQN.test(name) && !EUI.test(name) && !NAA.test(name)) {
    throw fail('INVALID_IQN', `${what} ${show(name)} is not an iqn.YYYY-MM.domain[:name], eui.<16 hex> or naa.<16 or 32 hex> name`);
  }
  return name as IscsiName;
}

// ---- portals -----------------------------------------------------------------------------------------

export interface Portal {
  /** IP literal or host name, without brackets. */
  host: string;
  port: number;
  tpgt?: number;
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** "1.2.3.4", "1.2.3.4:3260", "[2001:db8::1]:3260", "host.example:3260", optional ",tpgt". */
export function parsePortal(portal: unknown): Portal {
  if (typeof portal !== 'string' || portal.length === 0 || portal.length > 300) {
    throw fail('INVALID_PORTAL', `portal must be a string like "192.0.2.10:3260" or "[2001:db8::1]:3260", got ${show(portal)}`);
  }
  const bad = () => fail('INVALID_PORTAL', `portal ${show(portal)} is not host[:port][,tpgt]`);
  let rest = portal;
  let tpgt: number | undefined;
  const comma = rest.lastIndexOf(',');
  if (comma >= 0) {
    const t = rest.slice(comma + 1);
    if (!/^\d{1,5}$/.test(t) || Number(t) > 65535) throw bad();
    tpgt = Number(t);
    rest = rest.slice(0, comma);
  }
  let host: string;
  let port = 3260;
  const v6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    if (isIP(host) !== 6) throw bad();
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (isIP(rest) === 6) {
    host = rest;
  } else {
    const m = /^([^:\s/]+)(?::(\d{1,5}))?$/.exec(rest);
    if (!m) throw bad();
    host = m[1]!;
    if (m[2] !== undefined) port = Number(m[2]);
    if (isIP(host) === 0 && (host.length > 253 || !HOST_NAME.test(host) || /^[\d.]+$/.test(host))) throw bad();
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad();
  return tpgt === undefined ? { host, port } : { host, port, tpgt };
}

/** An IPv4 or IPv6 address (an IPv6 zone as `%ifname` allowed). */
export function checkAddress(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length > 64 || isIP(v) === 0) throw fail('INVALID_ADDRESS', `${what} ${show(v)} is not an IPv4 or IPv6 address`);
  return v;
}

/** A network device name (the kernel's dev_valid_name): 1..15 of letters, digits, . _ : @ -; not "." or "..". */
export function checkNetdev(v: unknown, what = 'netdev'): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9._:@-]{1,15}$/.test(v) || v === '.' || v === '..') {
    throw fail('INVALID_NETDEV', `${what} ${show(v)} must be a network device name of 1..15 characters, without "/" or spaces`);
  }
  return v;
}

/** A MAC address as `xx:xx:xx:xx:xx:xx` (or with `-`), any case. */
export function checkHwaddress(v: unknown, what = 'hwaddress'): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(v)) {
    throw fail('INVALID_HWADDRESS', `${what} ${show(v)} must look like 00:07:43:aa:bb:cc`);
  }
  return v;
}

// ---- numbers -----------------------------------------------------------------------------------------

/** The longest delay setTimeout takes as given (2^31 - 1 ms, 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A caller's `timeoutMs`: absent, or a whole number of milliseconds from 1 to 2^31 - 1. */
export function checkTimeoutMs(ms: unknown, what = 'timeoutMs'): number | undefined {
  if (ms === undefined) return undefined;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > MAX_TIMEOUT_MS) {
    throw fail('INVALID_TIMEOUT', `${what} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${show(ms)}`);
  }
  return ms;
}
/** @deprecated the old name of checkTimeoutMs. */
export const validateTimeoutMs = (ms: unknown): void => void checkTimeoutMs(ms);

/**
 * LUNs as Linux numbers them for a single-level LUN (scsilun_to_int of the SAM first level, two bytes): 0 to
 * 65535. Peripheral addressing gives 0..255, flat addressing 16384..32767; iSCSI targets (LIO, tgtd) use
 * single-level LUNs only.
 */
export const MAX_LUN = 65535;
export function checkLun(v: unknown, what = 'lun'): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_LUN) throw fail('INVALID_LUN', `${what} must be a whole number from 0 to ${MAX_LUN}, got ${show(v)}`);
  return v;
}

/**
 * Session ids: the kernel numbers sessions from 1 (an int counter: scsi_transport_iscsi's iscsi_session_nr),
 * and iscsid's request carries an int: 1 to 2^31 - 1.
 */
export const MAX_SID = 2 ** 31 - 1;
export function checkSid(v: unknown, what = 'sid'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_SID) throw fail('INVALID_SID', `${what} must be a session id, a whole number from 1 to ${MAX_SID}, got ${show(v)}`);
  return v;
}
export function checkSids(v: unknown): number[] {
  if (!Array.isArray(v) || v.length > 65536) throw fail('INVALID_SID', `sids must be an array of session ids, got ${show(v)}`);
  return v.map((s, i) => checkSid(s, `sids[${i}]`));
}

export function checkInteger(v: unknown, what: string, min: number, max: number, code: IscsiErrorCode = 'INVALID_OPTION'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw fail(code, `${what} must be a whole number from ${min} to ${max}, got ${show(v)}`);
  return v;
}

// ---- option objects ----------------------------------------------------------------------------------

/** An options argument: absent, or an object (not null, not an array). */
export function checkOptions(o: unknown, what = 'options'): void {
  if (o !== undefined && (typeof o !== 'object' || o === null || Array.isArray(o))) throw fail('INVALID_OPTIONS', `${what} must be an object, got ${show(o)}`);
}

export function checkBoolean(v: unknown, what: string): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw fail('INVALID_OPTION', `${what} must be true or false, got ${show(v)}`);
  return v;
}

export function checkSignal(v: unknown): AbortSignal | undefined {
  if (v !== undefined && !(v instanceof AbortSignal)) throw fail('INVALID_OPTION', `signal must be an AbortSignal, got ${show(v)}`);
  return v;
}

/** A directory given as a test seam or an override: an absolute path without NUL. */
export function checkDir(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !path.isAbsolute(v) || v.includes('\0') || v.length > 4096) throw fail('INVALID_OPTION', `${what} must be an absolute path, got ${show(v)}`);
  return v;
}

/** timeoutMs and signal, the two every waiting call takes. */
export function checkWait(o: { timeoutMs?: unknown; signal?: unknown }): void {
  checkTimeoutMs(o.timeoutMs);
  checkSignal(o.signal);
}

const DIR_OPTIONS = ['sysfsRoot', 'procRoot', 'ifacesDir', 'nodesDir', 'lockDir', 'iscsidConfPath', 'initiatorNamePath', 'dpkgStatusPath', 'procStatusPath'] as const;
const FUNCTION_OPTIONS = ['onProblem', 'onEvent', 'inUse', 'networkInterfaces', 'connect', 'lookup'] as const;
const OBJECT_OPTIONS = ['binding', 'deps', 'hardware', 'timings'] as const;

/**
 * An options object and the fields many calls share, where present: `timeoutMs`, `signal`, directories given
 * as overrides or test seams (absolute paths), callbacks (functions) and seams (objects). Call-specific
 * fields are checked by the call.
 */
export function checkCommonOptions(o: unknown, what = 'options', skip: readonly string[] = []): void {
  checkOptions(o, what);
  if (o === undefined) return;
  const r = o as Record<string, unknown>;
  checkWait(r);
  for (const k of DIR_OPTIONS) if (!skip.includes(k)) checkDir(r[k], `${what}.${k}`);
  for (const k of FUNCTION_OPTIONS) {
    if (!skip.includes(k) && r[k] !== undefined && typeof r[k] !== 'function') throw fail('INVALID_OPTION', `${what}.${k} must be a function, got ${show(r[k])}`);
  }
  for (const k of OBJECT_OPTIONS) if (!skip.includes(k)) checkOptions(r[k], `${what}.${k}`);
}

// ---- iface names -------------------------------------------------------------------------------------

/** iface names become file names under /etc/iscsi/ifaces: 1..64 of letters, digits, . _ : - ; not "." and no "..". */
export function validateIfaceName(name: unknown, what = 'iface name'): IfaceName {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64 || !/^[A-Za-z0-9._:-]+$/.test(name) || name.includes('..') || name === '.') {
    throw fail('INVALID_IFACE_NAME', `${what} ${show(name)} must be 1..64 characters of letters, digits, . _ : - and contain no ".."`);
  }
  return name as IfaceName;
}

// ---- CHAP --------------------------------------------------------------------------------------------

/** iscsid's buffers (AUTH_STR_MAX_LEN 256) hold 255 bytes and the NUL. */
export const MAX_CHAP_BYTES = 255;
/** RFC 7143 §12.1.3: at least 96 bits of secret; 12 bytes. */
export const MIN_CHAP_SECRET_BYTES = 12;
/** iscsid's AUTH_CHAP_ALG_MAX_COUNT. */
export const MAX_CHAP_ALGORITHMS = 5;

export function validateChapUser(user: unknown, what: string): string {
  return checkText(user, what, { maxBytes: MAX_CHAP_BYTES, code: 'INVALID_CHAP_USER' });
}

/** 12 to 255 bytes, no control characters, no leading or trailing white space. The message never has the secret. */
export function validateChapSecret(secret: unknown, what: string): string {
  return checkText(secret, what, { minBytes: MIN_CHAP_SECRET_BYTES, maxBytes: MAX_CHAP_BYTES, code: 'INVALID_CHAP_SECRET', secret: true });
}

export interface CheckedAuth<A extends string = string> {
  username: string;
  password: string;
  usernameIn?: string;
  passwordIn?: string;
  algorithms?: A[];
}

const AUTH_KEYS = new Set(['username', 'password', 'usernameIn', 'passwordIn', 'algorithms']);

/**
 * The one CHAP rule, for login, discovery and connect: `username` and `password` always; mutual CHAP adds
 * `usernameIn` and `passwordIn`, both or neither, and its secret differs from ours (RFC 7143 §12.1.3: a
 * secret authenticates one direction only). `algorithms`: 1..5 distinct names of `supported`, in order of
 * preference. Returns a fresh object holding only the checked fields.
 */
export function checkAuth<A extends string>(auth: unknown, supported: readonly A[], what = 'auth'): CheckedAuth<A> | undefined {
  if (auth === undefined) return undefined;
  if (typeof auth !== 'object' || auth === null || Array.isArray(auth)) throw fail('INVALID_CHAP_USER', `${what} must be { username, password[, usernameIn, passwordIn][, algorithms] }, got ${show(auth)}`);
  const a = auth as Record<string, unknown>;
  for (const k of Object.keys(a)) if (!AUTH_KEYS.has(k)) throw fail('INVALID_OPTION', `${what} has an unknown field ${show(k)} (it takes ${[...AUTH_KEYS].join(', ')})`);
  const out: CheckedAuth<A> = { username: validateChapUser(a.username, `${what}.username`), password: validateChapSecret(a.password, `${what}.password`) };
  if ((a.usernameIn === undefined) !== (a.passwordIn === undefined)) {
    throw fail('INVALID_CHAP_USER', `mutual CHAP needs both ${what}.usernameIn and ${what}.passwordIn`);
  }
  if (a.usernameIn !== undefined) {
    out.usernameIn = validateChapUser(a.usernameIn, `${what}.usernameIn`);
    out.passwordIn = validateChapSecret(a.passwordIn, `${what}.passwordIn`);
    if (out.passwordIn === out.password) throw fail('INVALID_CHAP_SECRET', `${what}.passwordIn must differ from ${what}.password (RFC 7143: one secret per direction)`);
  }
  if (a.algorithms !== undefined) {
    const algs = a.algorithms;
    if (!Array.isArray(algs) || algs.length === 0 || algs.length > MAX_CHAP_ALGORITHMS) {
      throw fail('INVALID_CHAP_ALGORITHM', `${what}.algorithms must be an array of 1 to ${MAX_CHAP_ALGORITHMS} of ${supported.join(', ')}`);
    }
    for (const x of algs) {
      if (typeof x !== 'string' || !(supported as readonly string[]).includes(x)) throw fail('INVALID_CHAP_ALGORITHM', `unknown CHAP algorithm ${show(x)}; this call supports ${supported.join(', ')}`);
    }
    if (new Set(algs).size !== algs.length) throw fail('INVALID_CHAP_ALGORITHM', `${what}.algorithms lists an algorithm twice`);
    out.algorithms = [...(algs as A[])];
  }
  return out;
}

// ---- record files --------------------------------------------------------------------------------------

/**
 * One `key = value` line of an iface or node file, as a writer checks it: a value with a newline or any other
 * control character would add lines (keys) to the file, and one with outer white space would read back
 * differently. Numbers must be whole. Defence in depth: the public calls have refused such values already.
 */
export function recordLine(key: string, value: string | number): string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw fail('INVALID_VALUE', `${key} must be a whole number, got ${show(value)}`);
  } else {
    checkText(value, key, { maxBytes: 4096, minBytes: 0 });
  }
  return `${key} = ${value}`;
}

// ---- paths built from input --------------------------------------------------------------------------

/**
 * `dir/part/part...`, proven to stay inside `dir`: each part a single non-empty component (no `/`, NUL, and
 * not `.` or `..`), and the resolved path under the resolved `dir`. Throws PATH_ESCAPE otherwise.
 */
export function pathInside(dir: string, ...parts: string[]): string {
  for (const p of parts) {
    if (typeof p !== 'string' || p === '' || p === '.' || p === '..' || p.includes('/') || p.includes('\0') || CONTROL.test(p)) {
      throw fail('PATH_ESCAPE', `${show(p)} cannot be a file name under ${dir}`, { dir });
    }
  }
  const base = path.resolve(dir);
  const full = path.resolve(base, ...parts);
  if (!full.startsWith(base + path.sep) || full === base) throw fail('PATH_ESCAPE', `${full} is not inside ${base}`, { dir: base });
  return full;
}
