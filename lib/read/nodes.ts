// Node records (/etc/iscsi/nodes), through libopeniscsiusr, with a tolerant fallback when it refuses a file.
import { checkCommonOptions } from '../validate';
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { native, type NativeBinding } from '../native';
import { fromNative, IscsiError, IscsiPermissionError } from '../errors';
import type { WaitOptions } from '../deadline';
import { afterDbUnlock, dbLockedFrom, type DbLockWaitOptions } from '../files/db-lock';
import { checkRecord, parseRecordFile, rejectedFileFrom, type RecordProblem } from '../files/record-file';

export interface NodeRecord {
  targetName: string;
  address: string;
  port: number;
  tpgt: number;
  /** "a.b.c.d:port" or "[v6]:port" */
  portal: string;
  ifaceName: string;
}

export interface NodeReadOptions extends WaitOptions, DbLockWaitOptions {
  /**
   * Called for each node file libopeniscsiusr refuses (one unknown key or enum value in one file makes it
   * fail the whole listing; the other records are then read here and returned). Default: a process warning.
   */
  onProblem?: (problem: IscsiError) => void;
  /** Where node records live; libopeniscsiusr's own path is compiled in, this is only for the fallback. */
  nodesDir?: string;
  binding?: Pick<NativeBinding, 'getNodes'>;
}

const portalOf = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

function toNode(text: string, ifaceFromPath: string | undefined): NodeRecord | undefined {
  const rec = parseRecordFile(text);
  const targetName = rec.get('node.name');
  const address = rec.get('node.conn[0].address');
  if (!targetName || !address) return undefined;
  const port = Number(rec.get('node.conn[0].port') ?? 3260);
  return {
    targetName,
    address,
    port,
    tpgt: Number(rec.get('node.tpgt') ?? -1),
    portal: portalOf(address, port),
    ifaceName: rec.get('iface.iscsi_ifacename') ?? ifaceFromPath ?? 'default',
  };
}

interface NodeFile {
  file: string;
  /** The iface directory entry in the new layout (nodes/<target>/<portal>/<iface>); undefined for old-style files. */
  iface: string | undefined;
  text: string | undefined;
}

/** Walks nodes/<target>/<portal>[/<iface>] in iscsiadm's layout (old-style files and new-style dirs). */
async function readTree(dir: string): Promise<NodeFile[]> {
  const list = (d: string) => readdir(d).then((names) => names.filter((n) => !n.startsWith('.')).sort(), () => [] as string[]);
  const read = (file: string) => readFile(file, 'utf8').catch(() => undefined);
  const out: NodeFile[] = [];
  for (const target of await list(dir)) {
    for (const portal of await list(path.join(dir, target))) {
      const p = path.join(dir, target, portal);
      const st = await stat(p).catch(() => undefined);
      if (!st) continue;
      if (!st.isDirectory()) {
        out.push({ file: p, iface: undefined, text: await read(p) });
        continue;
      }
      for (const iface of await list(p)) out.push({ file: path.join(p, iface), iface, text: await read(path.join(p, iface)) });
    }
  }
  return out;
}

function describe(p: RecordProblem): string {
  return p.reason === 'unknown key' ? `unknown key ${p.key}` : `value "${p.value}" is not one of ${p.key}'s values`;
}

/**
 * Reads the node database without libopeniscsiusr, after it refused it: every file it would refuse is skipped
 * and reported (libopeniscsiusr names only the first bad file, and none at all for a bad enum value).
 */
async function fallback(o: NodeReadOptions, err: IscsiError): Promise<NodeRecord[]> {
  const onProblem = o.onProblem ?? ((p: IscsiError) => process.emitWarning(p.message, { code: p.code }));
  const rejected = rejectedFileFrom(err.message);
  const report = (file: string | undefined, why: string, problem?: RecordProblem) =>
    onProblem(
      new IscsiError('NODE_FILE_INVALID', `${file ? `node file ${file}` : 'a node file'} is not valid for libopeniscsiusr (${why}) and was skipped`, {
        ...(err.errno !== undefined ? { errno: err.errno } : {}),
        cause: err,
        hint: 'fix or remove the file (an unknown key, e.g. one written by a newer iscsiadm, is enough)',
        // Only enum values are shown: they are never secrets.
        details: { ...(file ? { file } : {}), ...(problem ? { key: problem.key, reason: problem.reason } : {}), ...(problem?.reason === 'unknown value' ? { value: problem.value } : {}) },
      }),
    );
  const out: NodeRecord[] = [];
  let reported = false;
  for (const f of await readTree(o.nodesDir ?? '/etc/iscsi/nodes')) {
    if (f.text === undefined) continue;
    // libopeniscsiusr checks IPv6-only iface keys against the iface's name: the file's name, or "default".
    const problem = checkRecord(f.text, 'node', f.iface ?? 'default');
    if (problem || f.file === rejected) {
      report(f.file, problem ? describe(problem) : 'refused by libopeniscsiusr', problem);
      reported = true;
      continue;
    }
    const node = toNode(f.text, f.iface);
    if (node) out.push(node);
  }
  if (!reported) report(undefined, err.message);
  return out;
}

export async function nodes(o: NodeReadOptions = {}): Promise<NodeRecord[]> {
  checkCommonOptions(o);
  const binding = o.binding ?? native();
  return afterDbUnlock('listing nodes', o, 35_000, async (lockFile): Promise<NodeRecord[]> => {
    try {
      return (await binding.getNodes(lockFile)).map(({ targetName, address, port, tpgt, portal, ifaceName }) => ({ targetName, address, port, tpgt, portal, ifaceName }));
    } catch (e) {
      const err = fromNative(e, 'listing nodes');
      if (!(err instanceof IscsiError) || err instanceof IscsiPermissionError) throw err;
      const locked = dbLockedFrom(err);
      if (locked) throw locked;
      // INVAL: an unknown key (the file is named); BUG: an unknown enum value (no file named).
      if (err.code !== 'USR_INVAL' && err.code !== 'USR_BUG') throw err;
      return fallback(o, err);
    }
  });
}
