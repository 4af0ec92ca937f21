// Node records (/etc/iscsi/nodes), through libopeniscsiusr, with a tolerant fallback when it refuses a file.
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { native, type NativeBinding } from './native';
import { fromNative, IscsiError } from './errors';
import { withDeadline, type WaitOptions } from './deadline';
import { parseRecordFile, rejectedFileFrom } from './record-file';

export interface NodeRecord {
  targetName: string;
  address: string;
  port: number;
  tpgt: number;
  /** "a.b.c.d:port" or "[v6]:port" */
  portal: string;
  ifaceName: string;
}

export interface NodeReadOptions extends WaitOptions {
  onProblem?: (problem: IscsiError) => void;
  nodesDir?: string;
  binding?: Pick<NativeBinding, 'getNodes'>;
}

const portalOf = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

async function readNodeFile(file: string): Promise<NodeRecord | undefined> {
  const rec = parseRecordFile(await readFile(file, 'utf8'));
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
    ifaceName: rec.get('iface.iscsi_ifacename') ?? 'default',
  };
}

/** Walks nodes/<target>/<portal>[/<iface>] in iscsiadm's layout (old-style files and new-style dirs). */
async function readTree(dir: string): Promise<Array<{ file: string; node: NodeRecord | undefined }>> {
  const out: Array<{ file: string; node: NodeRecord | undefined }> = [];
  for (const target of (await readdir(dir).catch(() => [] as string[])).sort()) {
    for (const portal of (await readdir(path.join(dir, target)).catch(() => [] as string[])).sort()) {
      const p = path.join(dir, target, portal);
      const files = (await stat(p)).isDirectory() ? (await readdir(p)).sort().map((f) => path.join(p, f)) : [p];
      for (const file of files) out.push({ file, node: await readNodeFile(file).catch(() => undefined) });
    }
  }
  return out;
}

export async function nodes(o: NodeReadOptions = {}): Promise<NodeRecord[]> {
  const binding = o.binding ?? native();
  const run = async (): Promise<NodeRecord[]> => {
    try {
      return (await binding.getNodes()).map(({ targetName, address, port, tpgt, portal, ifaceName }) => ({ targetName, address, port, tpgt, portal, ifaceName }));
    } catch (e) {
      const err = fromNative(e, 'listing nodes');
      if (!(err instanceof IscsiError) || (err.code !== 'USR_INVAL' && err.code !== 'USR_IDBM')) throw err;
      const rejected = rejectedFileFrom(err.message);
      (o.onProblem ?? ((p: IscsiError) => process.emitWarning(p.message, { code: p.code })))(
        new IscsiError('NODE_FILE_INVALID', `libopeniscsiusr refused ${rejected ? `node file ${rejected}` : 'a node file'}; node records were read without it`, {
          ...(err.errno !== undefined ? { errno: err.errno } : {}),
          cause: err,
          hint: 'an unknown key (e.g. from a newer iscsiadm) is enough; fix or remove the file',
          details: rejected ? { file: rejected } : {},
        }),
      );
      const all = await readTree(o.nodesDir ?? '/etc/iscsi/nodes');
      return all.filter((x) => x.file !== rejected && x.node !== undefined).map((x) => x.node as NodeRecord);
    }
  };
  return withDeadline(run(), 'listing nodes', o, 35_000);
}
