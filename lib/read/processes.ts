// Finding a process by its name in /proc (no spawning, no signals): the one /proc scanner. A process's
// `comm` can be set by any user, so this only answers "is something called X running"; it never decides
// whom to trust (iscsid is identified by SO_PEERCRED on its socket instead).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** The pid of the first process whose /proc/<pid>/comm is `comm`, or undefined. */
export async function findProcess(comm: string, procRoot = '/proc'): Promise<number | undefined> {
  for (const e of await fs.readdir(procRoot).catch(() => [] as string[])) {
    if (!/^\d+$/.test(e)) continue;
    if ((await fs.readFile(path.join(procRoot, e, 'comm'), 'utf8').catch(() => '')).trim() === comm) return Number(e);
  }
  return undefined;
}

/** Whether a process whose /proc/<pid>/comm is `comm` runs. */
export async function processRunning(comm: string, procRoot = '/proc'): Promise<boolean> {
  return (await findProcess(comm, procRoot)) !== undefined;
}
