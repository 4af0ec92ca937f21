// disconnect(): detaches what connect() attached: flushes and removes SCSI devices, then logs the session out.
import { checkDisconnectOptions } from './inputs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { IscsiError, throwIfAborted } from '../errors';
import { logout } from '../iscsid/session-calls';
import { session as getSession, type ScsiDevice } from '../read/sessions';
import { attached } from './connect';

export interface DisconnectOptions {
  sid: number;
  /** The LUN this caller used; default: all LUNs this process attached on the session. */
  lun?: number | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  sysfsRoot?: string | undefined;
}

/** Flushes a block device's dirty pages, then asks the SCSI layer to delete the device. */
async function flushAndRemove(d: ScsiDevice, sysfsRoot: string): Promise<void> {
  if (d.blockDevice) {
    const h = await fs.open(`/dev/${d.blockDevice}`, 'r').catch(() => undefined);
    if (h) {
      await h.sync().catch(() => {});
      await h.close();
    }
  }
  await fs.writeFile(path.join(sysfsRoot, 'class', 'scsi_device', d.hctl, 'device', 'delete'), '1').catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

/**
 * Detaches what connect() attached: flushes and removes this caller's SCSI device(s), and logs the session
 * out when no other LUN attached through connect() in this process is still in use. Idempotent.
 */
export async function disconnect(o: DisconnectOptions): Promise<{ removed: string[]; loggedOut: boolean }> {
  checkDisconnectOptions(o);
  throwIfAborted(o.signal);
  const sysfsRoot = o.sysfsRoot ?? '/sys';
  const current = await getSession(o.sid).catch((e: unknown) => {
    if (e instanceof IscsiError && e.code === 'SESSION_NOT_FOUND') return undefined;
    throw e;
  });
  if (!current) {
    attached.delete(o.sid);
    return { removed: [], loggedOut: false };
  }
  const mine = attached.get(o.sid) ?? new Set(current.devices.map((d) => d.lun));
  const releasing = o.lun === undefined ? [...mine] : [o.lun];
  const removed: string[] = [];
  for (const lun of releasing) {
    const d = current.devices.find((x) => x.lun === lun);
    if (d) {
      await flushAndRemove(d, sysfsRoot);
      removed.push(d.hctl);
    }
    mine.delete(lun);
  }
  if (mine.size > 0) {
    attached.set(o.sid, mine);
    return { removed, loggedOut: false };
  }
  attached.delete(o.sid);
  // Flush and remove the session's other devices too, so the logout never races with writes.
  for (const d of current.devices) if (!releasing.includes(d.lun)) await flushAndRemove(d, sysfsRoot);
  try {
    await logout({ sid: o.sid }, { timeoutMs: o.timeoutMs, signal: o.signal });
  } catch (e) {
    if (e instanceof IscsiError && e.code === 'SESSION_NOT_FOUND') return { removed, loggedOut: false };
    throw e;
  }
  return { removed, loggedOut: true };
}
