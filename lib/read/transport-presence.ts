// Whether the kernel has an iSCSI transport, or can have it: registered (/sys/class/iscsi_transport/<name>),
// or its module present for this kernel, which iscsid loads itself (libkmod) when a login needs it. "Cannot"
// is said only on evidence: a kernel without module support (a real sysfs, no /proc/modules), or the
// kernel's own module list (/lib/modules/<release>/modules.dep and modules.builtin) without it. A container
// without /lib/modules, or a fixture tree, gives `loadable: undefined`, never a refusal.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IscsiUnsupportedError } from '../errors';
import { transport as kernelTransport, type SysfsOptions } from './sysfs';

export interface TransportPresenceOptions extends SysfsOptions {
  procRoot?: string | undefined;
  /** Where the kernels' module trees are (default /lib/modules); the running kernel's is `<modulesRoot>/<release>`. */
  modulesRoot?: string | undefined;
  /** The running kernel's release (default os.release()). */
  kernelRelease?: string | undefined;
}

export interface TransportPresence {
  transport: string;
  /** The kernel module that registers it (iscsid's rule: iscsi_tcp, ib_iser, else the transport's own name). */
  module: string;
  registered: boolean;
  /** true: registered, or its module is there to load; false: this kernel cannot get it; undefined: unknown. */
  loadable: boolean | undefined;
  /** Why `loadable` is what it is, in a sentence. */
  why: string;
}

/** The module iscsid loads for a transport it does not find registered. */
export function kernelModuleOf(transport: string): string {
  return transport === 'tcp' ? 'iscsi_tcp' : transport === 'iser' ? 'ib_iser' : transport;
}

const exists = (p: string) => fs.access(p).then(() => true, () => false);
const norm = (s: string) => s.replace(/-/g, '_');

/** Lines of a modules.dep / modules.builtin naming `module` (kernel/drivers/.../<module>.ko[.xz|.zst|.gz]). */
function lists(text: string, module: string): boolean {
  const want = norm(module);
  return text.split('\n').some((line) => {
    const file = line.split(':')[0]!.trim();
    const base = file.slice(file.lastIndexOf('/') + 1).replace(/\.ko(\.\w+)?$/, '');
    return base !== file && norm(base) === want;
  });
}

export async function transportPresence(transport: string, o: TransportPresenceOptions = {}): Promise<TransportPresence> {
  const module = kernelModuleOf(transport);
  const base = { transport, module };
  if (await kernelTransport(transport, o)) return { ...base, registered: true, loadable: true, why: `the kernel registered ${transport}` };
  const sys = o.sysfsRoot ?? '/sys';
  const proc = o.procRoot ?? '/proc';
  if ((await exists(path.join(sys, 'module'))) && !(await exists(path.join(proc, 'modules')))) {
    return { ...base, registered: false, loadable: false, why: 'this kernel cannot load modules (it has no /proc/modules) and has no iSCSI built in' };
  }
  const release = o.kernelRelease ?? os.release();
  const dir = path.join(o.modulesRoot ?? '/lib/modules', release);
  const dep = await fs.readFile(path.join(dir, 'modules.dep'), 'utf8').catch(() => undefined);
  if (dep === undefined) return { ...base, registered: false, loadable: undefined, why: `${dir}/modules.dep cannot be read, so whether ${module} can be loaded is unknown` };
  const builtin = await fs.readFile(path.join(dir, 'modules.builtin'), 'utf8').catch(() => '');
  if (lists(dep, module) || lists(builtin, module)) return { ...base, registered: false, loadable: true, why: `${module} is in ${dir}: iscsid loads it when it logs in, or load it yourself (modprobe ${module})` };
  return { ...base, registered: false, loadable: false, why: `kernel ${release} has no ${module} module (not in ${dir}/modules.dep)` };
}

/** The typed error for a request the kernel has no transport for: which module, and why it is not there. */
export function transportNotLoaded(p: TransportPresence, cause?: unknown): IscsiUnsupportedError {
  return new IscsiUnsupportedError('ISCSI_TRANSPORT_NOT_LOADED', `the kernel has no iSCSI ${p.transport} transport: ${p.why}`, {
    hint: `load the ${p.module} module (modprobe ${p.module}) on a kernel that has it`,
    details: { transport: p.transport, module: p.module, registered: p.registered, loadable: p.loadable },
    ...(cause === undefined ? {} : { cause }),
  });
}
