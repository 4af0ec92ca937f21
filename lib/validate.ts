// Input checks shared by login, discovery and iface creation: done before anything is sent or written.
import { isIP } from 'node:net';
import { IscsiValidationError } from './errors';

/** iqn.YYYY-MM.reversed.domain[:anything], eui.<16 hex>, naa.<16 or 32 hex>; at most 223 bytes (RFC 7143). */
export function validateIscsiName(name: unknown, what = 'iSCSI name'): string {
  if (typeof name !== 'string' || name.length === 0) throw new IscsiValidationError('INVALID_IQN', `${what} must be a non-empty string`);
  const ok =
    /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[^\s\0]*)?$/i.test(name) ||
    /^eui\.[0-9a-f]{16}$/i.test(name) ||
    /^naa\.([0-9a-f]{16}|[0-9a-f]{32})$/i.test(name);
  if (!ok) throw new IscsiValidationError('INVALID_IQN', `${what} ${JSON.stringify(name)} is not an iqn., eui. or naa. name`);
  if (Buffer.byteLength(name) > 223) throw new IscsiValidationError('INVALID_IQN', `${what} is longer than 223 bytes`);
  return name;
}

export interface Portal {
  /** IP literal or host name, without brackets. */
  host: string;
  port: number;
  tpgt?: number;
}

/** "1.2.3.4", "1.2.3.4:3260", "[2001:db8::1]:3260", "host.example:3260", optional ",tpgt". */
export function parsePortal(portal: unknown): Portal {
  if (typeof portal !== 'string' || portal.length === 0 || portal.length > 1100) {
    throw new IscsiValidationError('INVALID_PORTAL', 'portal must be a string like "192.0.2.10:3260" or "[2001:db8::1]:3260"');
  }
  const bad = () => new IscsiValidationError('INVALID_PORTAL', `portal ${JSON.stringify(portal)} is not host[:port][,tpgt]`);
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
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    if (isIP(host) !== 6) throw bad();
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (isIP(rest) === 6) {
    host = rest;
  } else {
    const m = /^([^:\s/]+)(?::(\d+))?$/.exec(rest);
    if (!m) throw bad();
    host = m[1]!;
    if (m[2] !== undefined) port = Number(m[2]);
    if (isIP(host) === 0 && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(host)) throw bad();
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad();
  return tpgt === undefined ? { host, port } : { host, port, tpgt };
}

/** Bytes that must fit a fixed C buffer with its NUL. */
export function checkFits(value: string, max: number, what: string): string {
  if (value.includes('\0')) throw new IscsiValidationError('INVALID_VALUE', `${what} must not contain NUL`);
  const n = Buffer.byteLength(value);
  if (n > max) throw new IscsiValidationError('VALUE_TOO_LONG', `${what} is ${n} bytes; at most ${max} fit`);
  return value;
}

/**
 * CHAP secrets: 12 to 255 bytes. RFC 7143 requires at least 96 bits of secret; iscsid's buffer holds 255.
 * The message never includes the secret.
 */
export function validateChapSecret(secret: unknown, what: string): string {
  if (typeof secret !== 'string') throw new IscsiValidationError('INVALID_CHAP_SECRET', `${what} must be a string`);
  const n = Buffer.byteLength(secret);
  if (n < 12 || n > 255 || secret.includes('\0')) {
    throw new IscsiValidationError('INVALID_CHAP_SECRET', `${what} must be 12 to 255 bytes without NUL (got ${n} bytes)`);
  }
  return secret;
}

export function validateChapUser(user: unknown, what: string): string {
  if (typeof user !== 'string' || user.length === 0) throw new IscsiValidationError('INVALID_CHAP_USER', `${what} must be a non-empty string`);
  return checkFits(user, 255, what);
}

/** iface names become file names under /etc/iscsi/ifaces: letters, digits, . _ : - only, no "..". */
/** A caller's `timeoutMs`: absent, or a positive whole number of milliseconds. */
export function validateTimeoutMs(ms: unknown): void {
  if (ms !== undefined && (!Number.isInteger(ms) || (ms as number) < 1)) {
    throw new IscsiValidationError('INVALID_TIMEOUT', `timeoutMs must be a positive integer, got ${JSON.stringify(ms)}`);
  }
}

export function validateIfaceName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64 || !/^[A-Za-z0-9._:-]+$/.test(name) || name.includes('..') || name === '.') {
    throw new IscsiValidationError('INVALID_IFACE_NAME', `iface name ${JSON.stringify(name)} must be 1..64 characters of letters, digits, . _ : - and contain no ".."`);
  }
  return name;
}

/** CHAP credentials shared by login and discovery: user and secret, and the mutual pair given whole or not at all. */
export function validateChapCredentials(auth: { username: unknown; password: unknown; usernameIn?: unknown; passwordIn?: unknown }): void {
  validateChapUser(auth.username, 'auth.username');
  validateChapSecret(auth.password, 'auth.password');
  if ((auth.usernameIn === undefined) !== (auth.passwordIn === undefined)) {
    throw new IscsiValidationError('INVALID_CHAP_USER', 'mutual CHAP needs both auth.usernameIn and auth.passwordIn');
  }
  if (auth.usernameIn !== undefined) {
    validateChapUser(auth.usernameIn, 'auth.usernameIn');
    validateChapSecret(auth.passwordIn, 'auth.passwordIn');
  }
}
