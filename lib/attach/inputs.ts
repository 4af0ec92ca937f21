// The inputs of connect() and disconnect(), checked whole before either does anything (issue 16.3): the
// shared rules of lib/validate.ts, applied to every field of their options.
import { IscsiValidationError } from '../errors';
import { CHAP_ALGORITHM_NAMES } from '../chap-algorithms';
import { checkAuth, checkBoolean, checkCommonOptions, checkLun, checkSid, parsePortal, validateIfaceName, validateIscsiName, type IfaceName, type Portal } from '../validate';
import { parseTransport, type Transport } from './transport';

/** What connect() goes on with: its fields parsed once here, taken as they are below. */
export interface CheckedConnect {
  /** Undefined for several paths (each path's portal is parsed where the path is). */
  portal: Portal | undefined;
  transport: Transport | undefined;
  iface: IfaceName | undefined;
}

export function checkConnectOptions(o: unknown): CheckedConnect {
  checkCommonOptions(o, 'connect options');
  if (o === undefined) throw new IscsiValidationError('INVALID_OPTIONS', 'connect needs { portal[, target][, lun] ... }');
  const c = o as Record<string, unknown>;
  // several paths (connect({ portals, multipath })): each path's portal is checked as it is parsed there
  const portal = c.portals === undefined || c.portal !== undefined ? parsePortal(c.portal) : undefined;
  if (c.multipath !== undefined && c.multipath !== false && c.multipath !== 'required' && c.multipath !== 'preferred') {
    throw new IscsiValidationError('INVALID_OPTIONS', `multipath must be 'required', 'preferred' or false, not ${JSON.stringify(c.multipath)}`);
  }
  if (c.target !== undefined) validateIscsiName(c.target, 'target');
  checkLun(c.lun);
  const transport = c.transport !== undefined ? parseTransport(c.transport) : undefined;
  const iface = c.iface !== undefined ? validateIfaceName(c.iface) : undefined;
  if (c.transport !== undefined && c.iface !== undefined) throw new IscsiValidationError('INVALID_OPTIONS', 'give transport or iface, not both');
  checkBoolean(c.fallback, 'fallback');
  checkBoolean(c.discovery, 'discovery');
  checkAuth(c.auth, CHAP_ALGORITHM_NAMES, 'auth');
  checkAuth(c.discoveryAuth, CHAP_ALGORITHM_NAMES, 'discoveryAuth');
  checkCommonOptions(c.hardware, 'hardware');
  return { portal, transport, iface };
}

export function checkDisconnectOptions(o: unknown): void {
  checkCommonOptions(o, 'disconnect options');
  if (o === undefined) throw new IscsiValidationError('INVALID_OPTIONS', 'disconnect needs { sid[, lun] }');
  const d = o as Record<string, unknown>;
  checkSid(d.sid);
  checkLun(d.lun);
  checkBoolean(d.force, 'force');
}
