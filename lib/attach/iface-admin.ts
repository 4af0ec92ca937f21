// Creating and deleting iface files (<dbRoot>/ifaces/<name>, the running iscsid's database) in iscsiadm's format, atomically, under
// open-iscsi's DB lock, and only after every field is valid: nothing is written when anything is wrong.
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { IscsiError, IscsiUnsupportedError, IscsiValidationError, requireRoot, throwIfAborted } from '../errors';
import { checkHardware, matchHost, type HardwareOptions, type HardwareReport } from './hardware';
import { formatIfaceFile, parseIfaceFile, readIfaceFile, sameIfaceSettings } from '../files/iface-file';
import { ifacesDirFor } from './ifaces-dir';
import { writeFileAtomic } from '../files/atomic-write';
import { hosts, sessionIfaceNames, type HostIfaceEntry } from '../read/sysfs';
import { parseTransport, TRANSPORT_INFO, type Transport } from './transport';
import { checkAddress, checkBoolean, checkCommonOptions, checkHwaddress, checkNetdev, pathInside, validateIfaceName, validateIscsiName } from '../validate';
import { withIscsiDbLock } from '../files/db-lock';

export { IFACES_DIR } from '../files/iface-file';

export interface CreateIfaceOptions extends HardwareOptions {
  /** An offload transport (cxgb4i, bnx2i, qla4xxx, ...), or tcp/iser for a software iface bound to a NIC. */
  transport: Transport;
  /** The offload host's (or, for tcp, the NIC's) MAC: `xx:xx:xx:xx:xx:xx` (or with `-`), any case; written lower-case. */
  hwaddress?: string | undefined;
  /** IPv4 or IPv6. Required by bnx2i and qedi (iscsid pushes it to the host); refused for tcp (iscsid refuses it). */
  ipaddress?: string | undefined;
  netdev?: string | undefined;
  initiatorName?: string | undefined;
  /** Default `<transport>.<hwaddress>`, or `<transport>.<hwaddress>.<ipv4|ipv6>.<n>` where the host exposes iscsi_iface entries. */
  name?: string | undefined;
  /** Check the hardware first (default true); a failed check refuses with IFACE_HARDWARE_CHECK_FAILED. */
  checkHardware?: boolean | undefined;
  /** Default: the running iscsid's own, `<dbRoot>/ifaces` (/var/lib/iscsi/ifaces on Debian 13+); /etc/iscsi/ifaces when none runs. */
  ifacesDir?: string | undefined;
  lockDir?: string | undefined;
  /** How long to wait for open-iscsi's database lock while another process holds it (default 30 s). */
  timeoutMs?: number | undefined;
}

export interface CreatedIface {
  name: string;
  file: string;
  /** false when an identical iface already existed (nothing was written). */
  created: boolean;
  hardware?: HardwareReport;
}

/** A name for an iface file of our own: a valid iface name that is not a built-in. */
export function validateOwnIfaceName(value: unknown): string {
  const name = validateIfaceName(value);
  if (name === 'default' || name === 'iser') throw new IscsiValidationError('INVALID_IFACE_NAME', `"${name}" is a built-in iface and cannot be created or deleted`);
  return name;
}

export function normaliseMac(mac: unknown): string {
  const m = checkHwaddress(mac, 'hardware address').toLowerCase().replace(/-/g, ':');
  if (m === '00:00:00:00:00:00' || m === 'ff:ff:ff:ff:ff:ff') throw new IscsiValidationError('INVALID_HWADDRESS', `hardware address ${m} names no device`);
  return m;
}

/** The iscsi_iface entry an iface for `ipaddress` belongs on: the one holding that address, else the first of its family. */
function entryFor(entries: HostIfaceEntry[], ipaddress: string | undefined): HostIfaceEntry | undefined {
  if (!ipaddress) return entries[0];
  const family = isIP(ipaddress) === 6 ? 'ipv6' : 'ipv4';
  return entries.find((e) => e.ipaddress === ipaddress) ?? entries.find((e) => e.family === family);
}

/** The on-the-fly iface from (transport, hwaddress, ipaddress): validated, hardware-checked, written atomically. */
export async function createIface(o: CreateIfaceOptions): Promise<CreatedIface> {
  // 1. Every field, before anything is read or written.
  checkCommonOptions(o, 'createIface options');
  throwIfAborted(o.signal);
  checkBoolean(o.checkHardware, 'checkHardware');
  const transport: Transport = parseTransport(o.transport);
  const info = TRANSPORT_INFO[transport];
  const hwaddress = o.hwaddress === undefined ? undefined : normaliseMac(o.hwaddress);
  if (o.ipaddress !== undefined) checkAddress(o.ipaddress, 'ipaddress');
  if (o.netdev !== undefined) checkNetdev(o.netdev);
  if (o.initiatorName !== undefined) validateIscsiName(o.initiatorName, 'initiatorName');
  if (o.name !== undefined) validateOwnIfaceName(o.name);
  if (info.offload && !hwaddress && !o.netdev && !o.ipaddress) {
    throw new IscsiValidationError('IFACE_BINDING_REQUIRED', `an ${transport} iface needs a hwaddress (or netdev or ipaddress) so iscsid can find its host`);
  }
  if (transport === 'tcp' && o.ipaddress !== undefined) {
    throw new IscsiValidationError('INVALID_ADDRESS', 'iscsid refuses iface.ipaddress for software tcp ifaces; bind with netdev or hwaddress instead');
  }
  if (info.hostIp === 'required' && o.ipaddress === undefined) {
    throw new IscsiValidationError('IPADDRESS_REQUIRED', `${transport} needs iface.ipaddress: iscsid pushes it to the host before logging in`);
  }
  if (!info.hasNetdev && o.netdev !== undefined) {
    throw new IscsiValidationError('INVALID_NETDEV', `${transport} hosts have no netdev; bind the iface with its hwaddress`);
  }
  if (o.name === undefined && !hwaddress) throw new IscsiValidationError('INVALID_IFACE_NAME', 'give a name, or a hwaddress to name the iface after');

  // 2. The hardware (reads only).
  let hardware: HardwareReport | undefined;
  let entries: HostIfaceEntry[] = [];
  if (o.checkHardware !== false) {
    hardware = await checkHardware({ transport, hwaddress, netdev: o.netdev, ipaddress: o.ipaddress }, o);
    if (!hardware.ok) {
      throw new IscsiUnsupportedError('IFACE_HARDWARE_CHECK_FAILED', `the ${transport} hardware for this iface is not usable: ${hardware.problems.map((p) => p.message).join('; ')}`, {
        details: { problems: hardware.problems },
        hint: 'fix the problems, or pass checkHardware: false to write the iface anyway',
      });
    }
    entries = hardware.host?.ifaces ?? [];
  } else if (info.offload) {
    // Not checking, but the name still follows the host's iscsi_iface entries when the host is here.
    const m = matchHost(await hosts(o), { transport, hwaddress, netdev: o.netdev, ipaddress: o.ipaddress });
    if (m?.host.transport === transport) entries = m.host.ifaces;
  }

  // 3. The name (iscsiadm's and libopeniscsiusr's naming for generated ifaces) and the fields.
  const entry = info.offload ? entryFor(entries, o.ipaddress) : undefined;
  const name = validateOwnIfaceName(o.name ?? (entry ? `${transport}.${hwaddress}.${entry.family}.${entry.ifaceNum}` : `${transport}.${hwaddress}`));
  const fields = { transport, hwaddress, ipaddress: o.ipaddress, netdev: o.netdev, initiatorName: o.initiatorName, ifaceNum: entry?.ifaceNum };
  const dir = await ifacesDirFor(o.ifacesDir);
  const file = pathInside(dir, name);
  const content = formatIfaceFile(name, fields, { createdAt: new Date() });

  // 4. Written under open-iscsi's lock: refuse a different iface of that name, accept an identical one.
  let created = true;
  requireRoot('writing iface files');
  await withIscsiDbLock(async () => {
    if ((await fs.mkdir(dir, { recursive: true, mode: 0o770 })) !== undefined) await fs.chmod(dir, 0o770);
    const existing = await readIfaceFile(name, { ifacesDir: dir });
    if (existing) {
      if (!sameIfaceSettings(existing, parseIfaceFile(name, content))) {
        throw new IscsiError('IFACE_EXISTS', `iface ${name} already exists with other settings (${file})`, {
          hint: 'delete it first, or choose another name',
          details: { file, existing: Object.fromEntries(existing.keys) },
        });
      }
      created = false;
      return;
    }
    await writeFileAtomic(file, content, 0o600);
  }, { lockDir: o.lockDir, timeoutMs: o.timeoutMs, signal: o.signal });
  return { name, file, created, ...(hardware ? { hardware } : {}) };
}

export interface DeleteIfaceOptions {
  /** Also delete ifaces this library did not create. Never overrides IFACE_IN_USE. */
  force?: boolean | undefined;
  /** Sessions already read (e.g. from sessions()); by default each session's ifacename is read from sysfs. */
  sessions?: ReadonlyArray<{ iface: { name: string } }> | undefined;
  /** Names of the ifaces sessions use (overrides `sessions`). */
  inUse?: (() => Promise<string[]>) | undefined;
  /** Default: as for createIface. */
  ifacesDir?: string | undefined;
  lockDir?: string | undefined;
  sysfsRoot?: string | undefined;
  /** How long to wait for open-iscsi's database lock while another process holds it (default 30 s). */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Removes an iface file: only ones this library created unless forced, never one a session uses. Idempotent. */
export async function deleteIface(name: string, o: DeleteIfaceOptions = {}): Promise<{ deleted: boolean }> {
  validateOwnIfaceName(name);
  checkCommonOptions(o, 'deleteIface options');
  checkBoolean(o.force, 'force');
  if (o.sessions !== undefined && (!Array.isArray(o.sessions) || !o.sessions.every((x) => typeof x === 'object' && x !== null && typeof x.iface?.name === 'string'))) {
    throw new IscsiValidationError('INVALID_OPTION', 'sessions must be an array of sessions (as sessions() returns them)');
  }
  throwIfAborted(o.signal);
  const dir = await ifacesDirFor(o.ifacesDir);
  const file = pathInside(dir, name);
  const inUse = async () => {
    if (o.inUse) return o.inUse();
    if (o.sessions) return o.sessions.map((s) => s.iface.name);
    return [...(await sessionIfaceNames(o.sysfsRoot !== undefined ? { sysfsRoot: o.sysfsRoot } : {})).values()];
  };
  let deleted = false;
  requireRoot('writing iface files');
  await withIscsiDbLock(async () => {
    const f = await readIfaceFile(name, { ifacesDir: dir });
    if (!f) return;
    if (!o.force && !f.ours) {
      throw new IscsiError('IFACE_NOT_OURS', `iface ${name} was not created by openiscsi`, { hint: 'pass force: true to delete it anyway', details: { file } });
    }
    if ((await inUse()).includes(name)) throw new IscsiError('IFACE_IN_USE', `iface ${name} is used by a session`, { hint: 'log the session out first', details: { file } });
    await fs.unlink(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    deleted = true;
  }, { lockDir: o.lockDir, timeoutMs: o.timeoutMs, signal: o.signal });
  return { deleted };
}
