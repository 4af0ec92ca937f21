// Which open-iscsi is iscsid? Its IPC has no handshake and the request size changed five times, so the
// record layout must be chosen from the running daemon's version, found without spawning anything:
// the executable of the running iscsid (it embeds "# BEGIN RECORD <version>"), else the dpkg database.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { IscsiUnsupportedError } from './errors';

export type AbiFamily = '2.0.874' | '2.0.875' | '2.1.1' | '2.1.11';

/** Families whose layout was checked byte for byte against a real iscsid (2.1.8 in the lab). */
export const VERIFIED_FAMILIES: readonly AbiFamily[] = ['2.1.1'];

export interface IscsidVersion {
  version: string;
  family: AbiFamily | undefined;
  source: 'process' | 'dpkg' | 'override';
  pid?: number;
}

export interface VersionOptions {
  procRoot?: string | undefined;
  dpkgStatusPath?: string | undefined;
  /**
   * For users who know better: the open-iscsi version (e.g. "2.1.8") or family to assume, skipping
   * detection and the verified-layout check. Also read from OPENISCSI_ABI. A wrong value makes iscsid
   * misread every request.
   */
  abi?: string | undefined;
}

function parse(v: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

const cmp = (a: [number, number, number], b: [number, number, number]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The ABI family of an open-iscsi version (sizes in openiscsi-internals §2.3), or undefined if none is mirrored. */
export function familyOf(version: string): AbiFamily | undefined {
  const v = parse(version);
  if (!v) return undefined;
  if (cmp(v, [2, 0, 874]) < 0) return undefined;
  if (cmp(v, [2, 0, 875]) < 0) return '2.0.874';
  if (cmp(v, [2, 1, 1]) < 0) return '2.0.875';
  if (cmp(v, [2, 1, 11]) < 0) return '2.1.1';
  if (cmp(v, [2, 1, 12]) < 0) return '2.1.11';
  return undefined;
}

async function findIscsidPid(procRoot: string): Promise<number | undefined> {
  const entries = await fs.readdir(procRoot).catch(() => [] as string[]);
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const comm = await fs.readFile(path.join(procRoot, e, 'comm'), 'utf8').catch(() => '');
    if (comm.trim() === 'iscsid') return Number(e);
  }
  return undefined;
}

const cache = new Map<string, string | undefined>();

async function versionFromExecutable(exe: string): Promise<string | undefined> {
  const st = await fs.stat(exe).catch(() => undefined);
  if (!st) return undefined;
  const key = `${exe}:${st.ino}:${st.mtimeMs}`;
  if (cache.has(key)) return cache.get(key);
  const bytes = await fs.readFile(exe).catch(() => undefined);
  const m = bytes ? /# BEGIN RECORD (\d+\.\d+\.\d+)/.exec(bytes.toString('latin1')) : null;
  cache.set(key, m?.[1]);
  return m?.[1];
}

async function versionFromDpkg(statusPath: string): Promise<string | undefined> {
  const text = await fs.readFile(statusPath, 'utf8').catch(() => '');
  for (const stanza of text.split('\n\n')) {
    if (/^Package: open-iscsi$/m.test(stanza) && /^Status: install ok installed$/m.test(stanza)) {
      const v = /^Version: (?:\d+:)?([^\s-]+)/m.exec(stanza)?.[1];
      if (v) return v;
    }
  }
  return undefined;
}

/** Detects the running iscsid's version. Never throws for an unknown version: see requireVerifiedFamily. */
export async function detectIscsidVersion(o: VersionOptions = {}): Promise<IscsidVersion | undefined> {
  const override = o.abi ?? process.env.OPENISCSI_ABI;
  if (override) {
    const family = (['2.0.874', '2.0.875', '2.1.1', '2.1.11'] as const).find((f) => f === override) ?? familyOf(override);
    return { version: override, family, source: 'override' };
  }
  const procRoot = o.procRoot ?? '/proc';
  const pid = await findIscsidPid(procRoot);
  if (pid !== undefined) {
    const v = await versionFromExecutable(path.join(procRoot, String(pid), 'exe'));
    if (v) return { version: v, family: familyOf(v), source: 'process', pid };
  }
  const v = await versionFromDpkg(o.dpkgStatusPath ?? '/var/lib/dpkg/status');
  return v ? { version: v, family: familyOf(v), source: 'dpkg' } : undefined;
}

/** The family to build requests for; refuses (nothing is sent) unless it is verified or overridden. */
export async function requireVerifiedFamily(o: VersionOptions = {}): Promise<{ family: AbiFamily; version: IscsidVersion }> {
  const version = await detectIscsidVersion(o);
  if (!version) {
    throw new IscsiUnsupportedError('ISCSID_VERSION_UNKNOWN', 'could not tell which open-iscsi version iscsid is', {
      hint: 'start iscsid, or pass { abi: "<open-iscsi version>" } (or OPENISCSI_ABI) if you know it',
    });
  }
  if (!version.family) {
    throw new IscsiUnsupportedError('ISCSID_ABI_UNSUPPORTED', `open-iscsi ${version.version} (from ${version.source}) has no known request layout`, {
      hint: 'nothing was sent; supported: 2.1.1 to 2.1.10 (verified), 2.0.874 to 2.1.0 and 2.1.11 (override only)',
      details: { version: version.version },
    });
  }
  if (version.source !== 'override' && !VERIFIED_FAMILIES.includes(version.family)) {
    throw new IscsiUnsupportedError('ISCSID_ABI_UNSUPPORTED', `open-iscsi ${version.version} uses a request layout not yet verified against a real iscsid`, {
      hint: 'nothing was sent; if you know the layout matches, pass { abi } (or OPENISCSI_ABI) to override',
      details: { version: version.version, family: version.family },
    });
  }
  return { family: version.family, version };
}
