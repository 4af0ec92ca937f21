// Ifaces as libopeniscsiusr sees them: /etc/iscsi/ifaces plus the built-ins `default` and `iser`.
import { checkCommonOptions } from '../validate';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { native, type NativeBinding, type NativeIface } from '../native';
import { fromNative, IscsiError, IscsiPermissionError } from '../errors';
import type { WaitOptions } from '../deadline';
import { afterDbUnlock, dbLockedFrom, type DbLockWaitOptions } from '../files/db-lock';
import { checkRecord } from '../files/record-file';

export type Iface = NativeIface;

export interface IfaceReadOptions extends WaitOptions, DbLockWaitOptions {
  /**
   * Called for each iface file libopeniscsiusr rejects (one unknown key makes it fail the whole listing;
   * the other ifaces are still returned). Default: a process warning with the same code.
   */
  onProblem?: (problem: IscsiError) => void;
  /** Where iface files live; libopeniscsiusr's own path is compiled in, this is only for the fallback. */
  ifacesDir?: string;
  binding?: Pick<NativeBinding, 'getIfaces' | 'getIface'>;
}

const defaultOnProblem = (p: IscsiError) => process.emitWarning(p.message, { code: p.code });

/** Reads each iface file on its own, so one bad file does not hide the rest; reports the bad ones. */
async function perFile(o: IfaceReadOptions, binding: Pick<NativeBinding, 'getIface'>, first: IscsiError): Promise<Iface[]> {
  const dir = o.ifacesDir ?? '/etc/iscsi/ifaces';
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.') && n !== 'iface.example').sort();
  const onProblem = o.onProblem ?? defaultOnProblem;
  const good: Iface[] = [];
  for (const name of names) {
    try {
      const i = await binding.getIface(name);
      // The listing leaves out files without a transport, as libopeniscsiusr's own listing does.
      if (i.transport !== '') good.push(i);
    } catch (e) {
      const err = fromNative(e);
      const file = path.join(dir, name);
      const text = await readFile(file, 'utf8').catch(() => undefined);
      const problem = text === undefined ? undefined : checkRecord(text, 'iface', name);
      const why = problem ? (problem.reason === 'unknown key' ? `unknown key ${problem.key}` : `bad value for ${problem.key}`) : err instanceof Error ? err.message : String(err);
      onProblem(
        new IscsiError('IFACE_FILE_INVALID', `iface file ${file} is not valid for libopeniscsiusr (${why}) and was skipped`, {
          ...(err instanceof IscsiError && err.errno !== undefined ? { errno: err.errno } : {}),
          cause: err,
          hint: 'fix or remove the file (an unknown key, e.g. one written by a newer iscsiadm, is enough)',
          details: { file, ...(problem ? { key: problem.key, reason: problem.reason } : {}) },
        }),
      );
    }
  }
  if (good.length === 0 && names.length === 0) throw first;
  for (const builtin of ['default', 'iser']) good.push(await binding.getIface(builtin));
  return good;
}

export async function ifaces(o: IfaceReadOptions = {}): Promise<Iface[]> {
  checkCommonOptions(o);
  const binding = o.binding ?? native();
  return afterDbUnlock('listing ifaces', o, 35_000, async (lockFile) => {
    try {
      return await binding.getIfaces(lockFile);
    } catch (e) {
      const err = fromNative(e, 'listing ifaces');
      if (!(err instanceof IscsiError) || err instanceof IscsiPermissionError) throw err;
      const locked = dbLockedFrom(err);
      if (locked) throw locked;
      // INVAL: an unknown key or value in one file (named in the message); IDBM: a file it could not read.
      if (err.code === 'USR_INVAL' || err.code === 'USR_IDBM') return perFile(o, binding, err);
      throw err;
    }
  });
}

/** What `iscsiadm -m iface` does first: writes iface files for the offload hardware present. */
export async function setupDefaultIfaces(o: WaitOptions & DbLockWaitOptions & { binding?: Pick<NativeBinding, 'setupDefaultIfaces'> } = {}): Promise<Iface[]> {
  checkCommonOptions(o);
  const binding = o.binding ?? native();
  return afterDbUnlock('setting up default ifaces', o, 35_000, (lockFile) =>
    binding.setupDefaultIfaces(lockFile).catch((e: unknown) => {
      const err = fromNative(e, 'setting up default ifaces');
      return Promise.reject((err instanceof IscsiError && dbLockedFrom(err)) || err);
    }),
  );
}
