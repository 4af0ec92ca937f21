// Which open-iscsi is iscsid? Its IPC has no handshake and the request layout changed six times, so the
// record layout must be chosen from the running daemon's version, found without spawning anything: the
// executable (it embeds "# BEGIN RECORD <version>") of the process SO_PEERCRED names as the listener on
// iscsid's socket (peer.ts), and the dpkg database only when the caller asks for that fallback.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { IscsiUnsupportedError, IscsiValidationError } from '../errors';
import { checkCommonOptions, checkText } from '../validate';
import { identifyPeer, listenerProcesses } from './peer';
import type { NativeBinding, NativeIscsidPeer } from '../native';

/**
 * The request layouts the addon mirrors (native/ipc/layout.h), named after their first release:
 * 2.0.874; 2.0.875; 2.0.876 to 2.1.0; 2.1.1 to 2.1.10; 2.1.11; 2.1.12 (and git builds after 2.1.11 that
 * have `tcp.congestion_control`: they still call themselves 2.1.11); 2.1.13.
 */
export const ABI_FAMILIES = ['2.0.874', '2.0.875', '2.0.876', '2.1.1', '2.1.11', '2.1.12', '2.1.13'] as const;
export type AbiFamily = (typeof ABI_FAMILIES)[number];

/**
 * Families checked against a real iscsid in the lab (login, CHAP, logout, session calls, and the release's
 * own iscsiadm's LOGIN request reproduced byte for byte, test/lab/releases.lab.test.ts): 2.1.1 (Debian 12's
 * 2.1.8), 2.1.11 (Debian 13's 2.1.11-1+deb13u2), 2.1.13 (Debian sid's 2.1.13-1).
 */
export const VERIFIED_FAMILIES: readonly AbiFamily[] = ['2.1.1', '2.1.11', '2.1.13'];

/** Families whose iscsid may number STATIC and FW discovery differently from an older build of the same version. */
export function discoveryRenumbered(family: AbiFamily): boolean {
  return ABI_FAMILIES.indexOf(family) >= ABI_FAMILIES.indexOf('2.1.11');
}

export interface IscsidVersion {
  /** open-iscsi's own numbering, e.g. "2.1.8" (2.0-8xx is written 2.0.8xx here). */
  version: string;
  family: AbiFamily | undefined;
  source: 'process' | 'dpkg' | 'override';
  /** The iscsid whose executable was read. */
  pid?: number;
  /**
   * The pid SO_PEERCRED names as the listener: requests go to that process or nowhere. Equal to `pid`, except
   * under socket activation (the manager, pid 1, listens and iscsid accepts).
   */
  peerPid?: number;
  /** Why the family is what it is, when that is not plain from the version. */
  note?: string;
  /**
   * Where that build keeps its node and iface database, as compiled into its executable (source 'process'
   * only): /etc/iscsi up to Debian 12, /var/lib/iscsi in Debian 13 and later and Red Hat's builds.
   */
  dbRoot?: string;
}

export interface VersionOptions {
  /** Test seam: a fake /proc. */
  procRoot?: string | undefined;
  /** Test seam: a fake dpkg status file. */
  dpkgStatusPath?: string | undefined;
  /**
   * When no iscsid can be identified on its socket (none listens, or a socket-activating manager holds it
   * and no iscsid took it within 3 s), take the version from the package database. Off by default: that
   * database may be a container's own, or older than the running daemon. Never used for a listener that is
   * not root or whose pid is hidden (another pid namespace): those are errors.
   */
  packageDbFallback?: boolean | undefined;
  /** Test seams: who listens on iscsid's socket (default SO_PEERCRED through the addon), and its name. */
  identify?: ((o: VersionOptions) => Promise<NativeIscsidPeer>) | undefined;
  socketName?: string | undefined;
  binding?: Pick<NativeBinding, 'identifyIscsid'> | undefined;
  signal?: AbortSignal | undefined;
  /**
   * For users who know better: the open-iscsi version (e.g. "2.1.8") or family (one of ABI_FAMILIES) to
   * assume, skipping detection and the verified-layout check. Also read from OPENISCSI_ABI. A wrong value
   * makes iscsid misread every request (or wait forever for the rest of a request that is too short).
   */
  abi?: string | undefined;
}

type Triple = [number, number, number];

function parse(v: string): Triple | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

const cmp = (a: Triple, b: Triple) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * The ABI family of an upstream open-iscsi version (layouts measured at every tag), or undefined if none is
 * mirrored. 2.1.11 maps to "2.1.11"; a git build after it may have 2.1.12's layout instead, which only the
 * executable tells.
 */
export function familyOf(version: string): AbiFamily | undefined {
  const v = parse(version);
  if (!v) return undefined;
  if (cmp(v, [2, 0, 874]) < 0) return undefined;
  if (cmp(v, [2, 0, 875]) < 0) return '2.0.874';
  if (cmp(v, [2, 0, 876]) < 0) return '2.0.875';
  if (cmp(v, [2, 1, 1]) < 0) return '2.0.876';
  if (cmp(v, [2, 1, 11]) < 0) return '2.1.1';
  if (cmp(v, [2, 1, 12]) < 0) return '2.1.11';
  if (cmp(v, [2, 1, 13]) < 0) return '2.1.12';
  if (cmp(v, [2, 1, 14]) < 0) return '2.1.13';
  return undefined;
}

/**
 * open-iscsi's upstream version from the string a build embeds: "2.1.8", "2.0-874" (releases before 2.1.0).
 * Red Hat's builds (RHEL, Rocky, Alma, CentOS Stream, Fedora, Azure Linux) write "6." + the upstream version
 * ("6.2.1.4-1" is 2.1.4): their patches leave the request layout as upstream's (shared/reference/iscsid-builds.md),
 * so the upstream version's family applies.
 */
export function normaliseVersion(raw: string): { version: string; vendor?: string } | undefined {
  const rh = /^6\.(2\.\d+\.\d+)(?![.\d])/.exec(raw);
  if (rh) return { version: rh[1]!, vendor: `Red Hat build ${raw}` };
  const old = /^(\d+\.\d+)-(\d+)/.exec(raw);
  if (old) return { version: `${old[1]}.${old[2]}` };
  const m = /^\d+\.\d+\.\d+/.exec(raw);
  return m ? { version: m[0] } : undefined;
}

interface ExeFacts {
  version: string;
  vendor?: string;
  /** git after 2.1.11 (commit 82ebd51 on): the congestion-control key that came with the new layout. */
  congestionKey: boolean;
  dbRoot: string;
}

// Promises, not values: 32 logins starting at once must scan the executable once, not 32 times on the
// event loop (the scan of a ~1 MB binary is the longest synchronous step a login has).
const cache = new Map<string, Promise<ExeFacts | undefined>>();

async function scanExecutable(exe: string): Promise<ExeFacts | undefined> {
  const bytes = await fs.readFile(exe).catch(() => undefined);
  const text = bytes?.toString('latin1') ?? '';
  const raw = /# BEGIN RECORD ([0-9][0-9A-Za-z.+~-]*)/.exec(text)?.[1];
  const n = raw ? normaliseVersion(raw) : undefined;
  // the database directory the build was configured with (meson's / make's dbroot), as its paths embed it
  const dbRoot = text.includes('/var/lib/iscsi/nodes') ? '/var/lib/iscsi' : '/etc/iscsi';
  return n ? { ...n, congestionKey: text.includes('tcp.congestion_control'), dbRoot } : undefined;
}

async function versionFromExecutable(exe: string): Promise<ExeFacts | undefined> {
  const st = await fs.stat(exe).catch(() => undefined);
  if (!st) return undefined;
  const key = `${exe}:${st.dev}:${st.ino}:${st.mtimeMs}`;
  let facts = cache.get(key);
  if (!facts) {
    facts = scanExecutable(exe);
    cache.set(key, facts);
  }
  return facts;
}

/** The installed open-iscsi package's upstream version (epoch and Debian revision dropped), e.g. "2.1.8". */
async function versionFromDpkg(statusPath: string): Promise<string | undefined> {
  const text = await fs.readFile(statusPath, 'utf8').catch(() => '');
  for (const stanza of text.split(/\n\n+/)) {
    if (/^Package: open-iscsi$/m.test(stanza) && /^Status: install ok installed$/m.test(stanza)) {
      const v = /^Version: (?:\d+:)?(\S+?)(?:-[^-\s]+)?$/m.exec(stanza)?.[1];
      if (v) return v;
    }
  }
  return undefined;
}

function fromDpkg(upstream: string): IscsidVersion {
  const n = normaliseVersion(upstream);
  const version = n?.version ?? upstream;
  const note = 'from the package database, as asked (packageDbFallback): no iscsid could be identified on its socket';
  const snapshot = /[+~](git|dev|pre|rc)/i.test(upstream) && version === '2.1.11';
  if (snapshot) return { version, family: undefined, source: 'dpkg', note: `${note}; ${upstream} is a git snapshot, whose layout the version cannot tell` };
  return { version, family: familyOf(version), source: 'dpkg', note };
}

/** Detects the running iscsid's version. Never throws for an unknown version: see requireVerifiedFamily. */
export async function detectIscsidVersion(o: VersionOptions = {}): Promise<IscsidVersion | undefined> {
  checkCommonOptions(o);
  if (o.abi !== undefined) checkText(o.abi, 'abi', { maxBytes: 64, code: 'INVALID_OPTION' });
  const override = o.abi ?? process.env.OPENISCSI_ABI;
  if (override) {
    // "2.1.11-git" was 2.1.12's family name before 2.1.12 was released; it must not fall back to 2.1.11's.
    const named = override === '2.1.11-git' ? '2.1.12' : ABI_FAMILIES.find((f) => f === override);
    const family = named ?? familyOf(normaliseVersion(override)?.version ?? override);
    return { version: override, family, source: 'override' };
  }
  if (o.packageDbFallback !== undefined && typeof o.packageDbFallback !== 'boolean') {
    throw new IscsiValidationError('INVALID_OPTION', `packageDbFallback must be true or false, got ${typeof o.packageDbFallback}`);
  }
  if (o.identify !== undefined && typeof o.identify !== 'function') throw new IscsiValidationError('INVALID_OPTION', 'identify must be a function');
  const procRoot = o.procRoot ?? '/proc';
  const fallback = async () => {
    const v = o.packageDbFallback ? await versionFromDpkg(o.dpkgStatusPath ?? '/var/lib/dpkg/status') : undefined;
    return v ? fromDpkg(v) : undefined;
  };
  let peer: NativeIscsidPeer;
  try {
    peer = await (o.identify ?? identifyPeer)(o);
  } catch (e) {
    if (o.packageDbFallback && (e as { code?: unknown }).code === 'ISCSID_NOT_RUNNING') return fallback();
    throw e;
  }
  const peerPid = peer.pid;
  const exeOf = (p: number) => versionFromExecutable(path.join(procRoot, String(p), 'exe'));
  let pid = peerPid;
  let facts: ExeFacts | undefined;
  // The processes that hold the listening socket (peer.ts), then, if none of them carries a version (a
  // socket-activating manager alone), the iscsid it starts for our connection.
  for (const waitForOthers of [false, true]) {
    for (const holder of await listenerProcesses(peerPid, { ...o, waitForOthers })) {
      facts = await exeOf(holder);
      if (facts) {
        pid = holder;
        break;
      }
    }
    if (facts) break;
  }
  if (facts) {
    // Red Hat's 6.2.1.N only: the older 6.2.0.874 builds (RHEL 7) carry backports nobody has measured.
    const measured = !facts.vendor || facts.version.startsWith('2.1.');
    let family = measured ? familyOf(facts.version) : undefined;
    const notes = facts.vendor ? [measured ? `${facts.vendor}, upstream ${facts.version}'s layout` : `${facts.vendor}: a distribution-patched layout, never measured`] : [];
    if (family === '2.1.11' && facts.congestionKey) {
      family = '2.1.12';
      notes.push('a git build after 2.1.11 (it knows tcp.congestion_control): 2.1.12\'s layout, 16 bytes longer');
    }
    return { version: facts.version, family, source: 'process', pid, peerPid, dbRoot: facts.dbRoot, ...(notes.length ? { note: notes.join('; ') } : {}) };
  }
  return fallback();
}

/** The family to build requests for; refuses (nothing is sent) unless it is verified or overridden. */
export async function requireVerifiedFamily(o: VersionOptions = {}): Promise<{ family: AbiFamily; version: IscsidVersion }> {
  const version = await detectIscsidVersion(o);
  if (!version) {
    throw new IscsiUnsupportedError('ISCSID_VERSION_UNKNOWN', 'could not tell which open-iscsi version iscsid is: the root process listening on its socket has no open-iscsi version in its executable', {
      hint: 'pass { abi: "<open-iscsi version>" } (or OPENISCSI_ABI) if you know it, or { packageDbFallback: true } to trust the package database',
    });
  }
  const why = version.note ? ` (${version.note})` : '';
  if (!version.family) {
    throw new IscsiUnsupportedError('ISCSID_ABI_UNSUPPORTED', `open-iscsi ${version.version} (from ${version.source}) has no known request layout${why}`, {
      hint: `nothing was sent; mirrored: 2.0.874 to 2.1.13 (and Red Hat's 6.2.1.1 to 6.2.1.13), of which ${VERIFIED_FAMILIES.join(', ')} verified; pass { abi } (or OPENISCSI_ABI) if you know which one this is`,
      details: { version: version.version, source: version.source },
    });
  }
  if (version.source !== 'override' && !VERIFIED_FAMILIES.includes(version.family)) {
    throw new IscsiUnsupportedError('ISCSID_ABI_UNSUPPORTED', `open-iscsi ${version.version} (from ${version.source}) uses the ${version.family} request layout, not yet verified against a real iscsid${why}`, {
      hint: 'nothing was sent; if you know the layout matches, pass { abi } (or OPENISCSI_ABI) to override',
      details: { version: version.version, family: version.family, source: version.source },
    });
  }
  return { family: version.family, version };
}
