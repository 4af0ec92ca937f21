// Who is iscsid? The process listening on its socket, identified by SO_PEERCRED (root, a pid visible here),
// never by a name any user can give a process, and confirmed by holding that listening socket: its inode
// (/proc/net/unix) among the process's /proc/<pid>/fd. Under systemd socket activation the listener is the
// manager (pid 1), which hands the socket to iscsid: then iscsid is the other root process holding it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { NativeBinding, NativeIscsidPeer } from '../native';

const ISCSID_SOCKET = 'ISCSIADM_ABSTRACT_NAMESPACE';
const IDENTIFY_TIMEOUT_MS = 5000;
/** How long a socket-activated iscsid may take to appear after our connection started it. */
const ACTIVATION_WAIT_MS = 3000;

export interface PeerOptions {
  procRoot?: string | undefined;
  socketName?: string | undefined;
  signal?: AbortSignal | undefined;
  binding?: Pick<NativeBinding, 'identifyIscsid'> | undefined;
}

/**
 * The listener's credentials (root, visible pid), or the typed error saying why there is none to trust.
 * ipc.ts is loaded on first use, as the operations that need it are (lib/on-demand.ts).
 */
export async function identifyPeer(o: PeerOptions): Promise<NativeIscsidPeer> {
  const { identifyIscsid } = await import('./ipc');
  return identifyIscsid({ timeoutMs: IDENTIFY_TIMEOUT_MS, signal: o.signal, socketName: o.socketName, binding: o.binding });
}

/** Inodes of the listening unix sockets bound to the abstract name, in this network namespace. */
async function listeningInodes(procRoot: string, socketName: string): Promise<Set<string>> {
  const text = await fs.readFile(path.join(procRoot, 'net', 'unix'), 'utf8').catch(() => '');
  const inodes = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path; __SO_ACCEPTCON (0x10000) in Flags marks a listener.
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && f[7] === `@${socketName}` && (parseInt(f[3] ?? '0', 16) & 0x10000) !== 0) inodes.add(f[6]!);
  }
  return inodes;
}

async function holds(procRoot: string, pid: string, links: Set<string>): Promise<boolean> {
  const fdDir = path.join(procRoot, pid, 'fd');
  for (const fd of await fs.readdir(fdDir).catch(() => [] as string[])) {
    if (links.has(await fs.readlink(path.join(fdDir, fd)).catch(() => ''))) return true;
  }
  return false;
}

const lastHolder = new Map<string, string>();

/**
 * The root processes that hold iscsid's listening socket, the SO_PEERCRED pid first when it is one of them.
 * SO_PEERCRED names whoever called listen(): that process may have exited since (iscsid listens, then
 * forks), and its pid may have been reused by any process. So a pid counts only while it is root's and holds
 * that very socket (its inode, from /proc/net/unix, among its /proc/<pid>/fd links). The last answer is
 * checked first; a full scan reads every process's fd directory. `waitForOthers`: wait (bounded) for a
 * holder other than the peer, as a socket-activating manager (pid 1) starts iscsid on our first connection.
 * When the socket table cannot be read at all (no /proc/net/unix), only the peer's pid is offered.
 */
export async function listenerProcesses(peerPid: number, o: PeerOptions & { waitForOthers?: boolean }): Promise<number[]> {
  const procRoot = o.procRoot ?? '/proc';
  const inodes = await listeningInodes(procRoot, o.socketName ?? ISCSID_SOCKET);
  if (inodes.size === 0) return o.waitForOthers ? [] : [peerPid];
  const links = new Set([...inodes].map((i) => `socket:[${i}]`));
  const isRootHolder = async (pid: string) => (await fs.stat(path.join(procRoot, pid)).then((st) => st.uid === 0, () => false)) && (await holds(procRoot, pid, links));
  const peer = String(peerPid);
  if (!o.waitForOthers && (await isRootHolder(peer))) return [peerPid];
  const key = `${procRoot}|${[...inodes].join(',')}`;
  const last = lastHolder.get(key);
  if (last !== undefined && last !== peer && (await isRootHolder(last))) return [Number(last)];
  const until = Date.now() + (o.waitForOthers ? ACTIVATION_WAIT_MS : 0);
  for (;;) {
    const found: number[] = [];
    for (const e of await fs.readdir(procRoot).catch(() => [] as string[])) {
      if (/^\d+$/.test(e) && e !== peer && (await isRootHolder(e))) found.push(Number(e));
    }
    if (found.length > 0) {
      lastHolder.set(key, String(found[0]));
      return found;
    }
    if (Date.now() >= until || o.signal?.aborted) return [];
    await new Promise((r) => setTimeout(r, 50));
  }
}
