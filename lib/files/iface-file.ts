// iface files (<dbRoot>/ifaces/<name>: /etc/iscsi/ifaces, or /var/lib/iscsi/ifaces on Debian 13+) in iscsiadm's own format: `# BEGIN RECORD <version>`, one `key = value`
// per line for each non-empty value, `# END RECORD`. The file name is the iface name. libopeniscsiusr 2.1.8 and
// iscsiadm skip `#` lines, so a comment line marks the files this library created.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { recordLines } from './record-file';
import { checkCommonOptions, checkOptions, pathInside, recordLine, validateIfaceName } from '../validate';

export const IFACES_DIR = '/etc/iscsi/ifaces';

/**
 * Where a build with that database root keeps its iface files: `<dbRoot>/ifaces` (the root as
 * detectIscsidVersion() reads it from the running iscsid: /var/lib/iscsi in Debian 13 and later and Red Hat's
 * builds), IFACES_DIR when it is not known.
 */
export function ifacesDirOf(dbRoot: string | undefined): string {
  return dbRoot ? path.join(dbRoot, 'ifaces') : IFACES_DIR;
}
/** The record version iscsiadm 2.1.8 writes in its header comment. */
export const RECORD_VERSION = '2.1.8';
const MARKER_PREFIX = '# openiscsi: created';
/** The marker of the first builds (kept so their files still count as ours). */
const LEGACY_MARKER = '# created by openiscsi';

export interface IfaceFields {
  transport: string;
  hwaddress?: string | undefined;
  ipaddress?: string | undefined;
  netdev?: string | undefined;
  initiatorName?: string | undefined;
  /** iface.iface_num: which iscsi_iface entry of a multi-iface HBA (the N of ipv4-iface-H-N). */
  ifaceNum?: number | undefined;
}

export interface IfaceFile {
  name: string;
  /** iface.transport_name as written ('' when missing); a read is not narrowed to `Transport`: a hand-edited file or an out-of-tree driver can name another; `isTransport()` narrows it. */
  transport: string;
  /** Binding values; the sentinel `default` ("not bound") reads as absent. */
  hwaddress?: string;
  ipaddress?: string;
  netdev?: string;
  initiatorName?: string;
  ifaceNum?: number;
  /** Every `key = value` of the file, in order. */
  keys: Map<string, string>;
  /** Created by this library (the marker comment is present). */
  ours: boolean;
  /** When, as the marker says. */
  createdAt?: string;
}

/** The file text, in iscsiadm 2.1.8's key order; `createdAt` adds the marker that makes it ours. */
export function formatIfaceFile(name: string, f: IfaceFields, o: { createdAt?: Date } = {}): string {
  validateIfaceName(name);
  checkOptions(f, 'iface fields');
  const kv = (k: string, v: string | number | undefined) => (v === undefined || v === '' ? [] : [recordLine(k, v)]);
  return [
    ...(o.createdAt ? [`${MARKER_PREFIX} ${o.createdAt.toISOString()} by createIface(); remove with deleteIface()`] : []),
    `# BEGIN RECORD ${RECORD_VERSION}`,
    ...kv('iface.iscsi_ifacename', name),
    ...kv('iface.net_ifacename', f.netdev),
    ...kv('iface.ipaddress', f.ipaddress),
    ...kv('iface.hwaddress', f.hwaddress),
    ...kv('iface.transport_name', f.transport),
    ...kv('iface.initiatorname', f.initiatorName),
    // 0 is the default, and iscsiadm leaves it out too.
    ...kv('iface.iface_num', f.ifaceNum ? f.ifaceNum : undefined),
    '# END RECORD',
    '',
  ].join('\n');
}

export function parseIfaceFile(name: string, text: string): IfaceFile {
  const keys = new Map(recordLines(text));
  const bound = (k: string) => {
    const v = keys.get(k);
    return v === undefined || v === 'default' ? undefined : v;
  };
  const out: IfaceFile = { name, transport: keys.get('iface.transport_name') ?? '', keys, ours: false };
  const hw = bound('iface.hwaddress');
  if (hw !== undefined) out.hwaddress = hw.toLowerCase();
  const ip = bound('iface.ipaddress');
  if (ip !== undefined) out.ipaddress = ip;
  const nd = bound('iface.net_ifacename');
  if (nd !== undefined) out.netdev = nd;
  const iname = keys.get('iface.initiatorname');
  if (iname !== undefined) out.initiatorName = iname;
  const num = keys.get('iface.iface_num');
  if (num !== undefined && /^\d+$/.test(num)) out.ifaceNum = Number(num);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith(MARKER_PREFIX)) {
      out.ours = true;
      const at = /^# openiscsi: created (\S+)/.exec(line)?.[1];
      if (at) out.createdAt = at;
      break;
    }
    if (line === LEGACY_MARKER) {
      out.ours = true;
      break;
    }
  }
  return out;
}

/** Same settings (the keys and values; comments, order and the marker's time do not count). */
export function sameIfaceSettings(a: IfaceFile, b: IfaceFile): boolean {
  return a.keys.size === b.keys.size && [...b.keys].every(([k, v]) => a.keys.get(k) === v);
}

/** One iface file, or undefined when there is none. (The built-ins `default` and `iser` have no file.) */
export async function readIfaceFile(name: string, o: { ifacesDir?: string | undefined } = {}): Promise<IfaceFile | undefined> {
  validateIfaceName(name);
  checkCommonOptions(o);
  return readAt(o.ifacesDir ?? IFACES_DIR, name);
}

/** `dir/name`, proven inside `dir`; undefined when there is no such file. */
async function readAt(dir: string, name: string): Promise<IfaceFile | undefined> {
  const text = await fs.readFile(pathInside(dir, name), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR' || e.code === 'EISDIR') return undefined;
    throw e;
  });
  return text === undefined ? undefined : parseIfaceFile(name, text);
}

/** Every iface file in the directory (as libopeniscsiusr lists them: sorted, `iface.example` and dot files left out). */
export async function listIfaceFiles(o: { ifacesDir?: string | undefined } = {}): Promise<IfaceFile[]> {
  checkCommonOptions(o);
  const dir = o.ifacesDir ?? IFACES_DIR;
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.') && n !== 'iface.example').sort();
  const out: IfaceFile[] = [];
  for (const n of names) {
    const f = await readAt(dir, n).catch(() => undefined);
    if (f) out.push(f);
  }
  return out;
}
