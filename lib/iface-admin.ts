// Creating and deleting iface files (/etc/iscsi/ifaces/<name>) in iscsiadm's format, atomically, only
// after every field is valid; nothing is written when anything is wrong.
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { IscsiError, IscsiValidationError, throwIfAborted } from './errors';
import { checkHardware, type HardwareOptions, type HardwareReport } from './hardware';
import { parseTransport, type Transport } from './transport';
import { validateIfaceName, validateIscsiName } from './validate';
import { parseRecordFile } from './record-file';
import { withIscsiDbLock } from './node-file';

export const IFACES_DIR = '/etc/iscsi/ifaces';
const MARKER = '# created by openiscsi';

export interface CreateIfaceOptions extends HardwareOptions {
  transport: string;
  hwaddress?: string | undefined;
  ipaddress?: string | undefined;
  netdev?: string | undefined;
  initiatorName?: string | undefined;
  /** Default `<transport>.<hwaddress>`, or `<transport>.<hwaddress>.<ipv4|ipv6>.<n>` where the host exposes iscsi_iface entries. */
  name?: string | undefined;
  /** Check the hardware first (default true); a failed check refuses with IFACE_HARDWARE_CHECK_FAILED. */
  checkHardware?: boolean | undefined;
  ifacesDir?: string | undefined;
  lockDir?: string | undefined;
}

export interface CreatedIface {
  name: string;
  file: string;
  /** false when an identical iface already existed. */
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
  if (typeof mac !== 'string' || !/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(mac)) {
    throw new IscsiValidationError('INVALID_HWADDRESS', `hardware address ${JSON.stringify(mac)} must look like 00:07:43:aa:bb:cc`);
  }
  return mac.toLowerCase().replace(/-/g, ':');
}

function serialiseIface(name: string, f: { transport: Transport; hwaddress?: string; ipaddress?: string; netdev?: string; initiatorName?: string; ifaceNum?: number }): string {
  const lines = [
    MARKER,
    '# BEGIN RECORD 2.1.8',
    `iface.iscsi_ifacename = ${name}`,
    ...(f.netdev ? [`iface.net_ifacename = ${f.netdev}`] : []),
    ...(f.ipaddress ? [`iface.ipaddress = ${f.ipaddress}`] : []),
    ...(f.hwaddress ? [`iface.hwaddress = ${f.hwaddress}`] : []),
    `iface.transport_name = ${f.transport}`,
    ...(f.initiatorName ? [`iface.initiatorname = ${f.initiatorName}`] : []),
    ...(f.ifaceNum ? [`iface.iface_num = ${f.ifaceNum}`] : []),
    '# END RECORD',
    '',
  ];
  return lines.join('\n');
}

/** The on-the-fly iface from (transport, hwaddress, ipaddress): validated, hardware-checked, written atomically. */
export async function createIface(o: CreateIfaceOptions): Promise<CreatedIface> {
  throwIfAborted(o.signal);
  const transport = parseTransport(o.transport);
  const hwaddress = o.hwaddress === undefined ? undefined : normaliseMac(o.hwaddress);
  if (o.ipaddress !== undefined && isIP(o.ipaddress) === 0) throw new IscsiValidationError('INVALID_ADDRESS', `ipaddress ${JSON.stringify(o.ipaddress)} is not an IPv4 or IPv6 address`);
  if (o.netdev !== undefined && !/^[A-Za-z0-9._-]{1,15}$/.test(o.netdev)) throw new IscsiValidationError('INVALID_NETDEV', `netdev ${JSON.stringify(o.netdev)} must be 1..15 characters without "/"`);
  if (o.initiatorName !== undefined) validateIscsiName(o.initiatorName, 'initiatorName');
  if (o.name !== undefined) validateOwnIfaceName(o.name);
  if (transport !== 'tcp' && transport !== 'iser' && !hwaddress && !o.netdev && !o.ipaddress) {
    throw new IscsiValidationError('IFACE_BINDING_REQUIRED', `an ${transport} iface needs a hwaddress (or netdev or ipaddress) so iscsid can find its host`);
  }
  if (transport === 'tcp' && o.ipaddress) {
    throw new IscsiValidationError('INVALID_ADDRESS', 'iscsid refuses iface.ipaddress for software tcp ifaces; bind with netdev or hwaddress instead');
  }
  let hardware: HardwareReport | undefined;
  if (o.checkHardware !== false) {
    hardware = await checkHardware({ transport, hwaddress, netdev: o.netdev, ipaddress: o.ipaddress }, o);
    if (!hardware.ok) {
      throw new IscsiError('IFACE_HARDWARE_CHECK_FAILED', `the ${transport} hardware for this iface is not usable: ${hardware.problems.map((p) => p.message).join('; ')}`, {
        details: { problems: hardware.problems },
        hint: 'fix the problems, or pass checkHardware: false to write the iface anyway',
      });
    }
  }
  let name = o.name;
  let ifaceNum: number | undefined;
  if (name === undefined) {
    if (!hwaddress) throw new IscsiValidationError('INVALID_IFACE_NAME', 'give a name, or a hwaddress to name the iface after');
    const entry = hardware?.host?.ifaces.find((i) => !o.ipaddress || i.ipaddress === o.ipaddress);
    name = entry ? `${transport}.${hwaddress}.${entry.family}.${entry.ifaceNum}` : `${transport}.${hwaddress}`;
    if (entry) ifaceNum = entry.ifaceNum;
  }
  validateOwnIfaceName(name);
  const fields = {
    transport,
    ...(hwaddress ? { hwaddress } : {}),
    ...(o.ipaddress ? { ipaddress: o.ipaddress } : {}),
    ...(o.netdev ? { netdev: o.netdev } : {}),
    ...(o.initiatorName ? { initiatorName: o.initiatorName } : {}),
    ...(ifaceNum ? { ifaceNum } : {}),
  };
  const dir = o.ifacesDir ?? IFACES_DIR;
  const file = path.join(dir, name);
  const content = serialiseIface(name, fields);
  let created = true;
  await withIscsiDbLock(async () => {
    await fs.mkdir(dir, { recursive: true, mode: 0o770 });
    const existing = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (existing !== undefined) {
      const a = parseRecordFile(existing);
      const b = parseRecordFile(content);
      const same = a.size === b.size && [...b].every(([k, v]) => a.get(k) === v);
      if (!same) throw new IscsiError('IFACE_EXISTS', `iface ${name} already exists with other settings (${file})`, { hint: 'delete it first, or choose another name' });
      created = false;
      return;
    }
    const tmp = `${file}.openiscsi-${process.pid}`;
    const h = await fs.open(tmp, 'wx', 0o600);
    try {
      await h.writeFile(content);
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, file);
  }, o.lockDir ? { lockDir: o.lockDir } : {});
  return { name, file, created, ...(hardware ? { hardware } : {}) };
}

export interface DeleteIfaceOptions {
  /** Also delete ifaces this library did not create. */
  force?: boolean | undefined;
  /** Names of ifaces in use by sessions (default: read from sessions()). */
  inUse?: () => Promise<string[]>;
  ifacesDir?: string | undefined;
  lockDir?: string | undefined;
}

/** Removes an iface file: only ones this library created unless forced, never one a session uses. Idempotent. */
export async function deleteIface(name: string, o: DeleteIfaceOptions = {}): Promise<{ deleted: boolean }> {
  validateOwnIfaceName(name);
  const file = path.join(o.ifacesDir ?? IFACES_DIR, name);
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return { deleted: false };
  if (!o.force && !text.startsWith(MARKER)) {
    throw new IscsiError('IFACE_NOT_OURS', `iface ${name} was not created by openiscsi; pass force: true to delete it anyway`);
  }
  const inUse = o.inUse ?? (async () => (await (await import('./session')).sessions()).map((s) => s.iface.name));
  if ((await inUse()).includes(name)) throw new IscsiError('IFACE_IN_USE', `iface ${name} is used by a session; log it out first`);
  await withIscsiDbLock(() => fs.unlink(file).catch(() => {}), o.lockDir ? { lockDir: o.lockDir } : {});
  return { deleted: true };
}
