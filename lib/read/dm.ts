// device-mapper maps as sysfs shows them: which map holds a block device (/sys/class/block/<dev>/holders),
// a map's name, uuid ("mpath-<wwid>" for dm-multipath) and the devices under it (slaves). Takes a sysfs root
// so unit tests run on fixture trees.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readAttr, type SysfsOptions } from './sysfs';

export interface DmMap {
  /** The kernel's name, e.g. `dm-0`. */
  dm: string;
  /** `/dev/dm-0`. */
  path: string;
  /** device-mapper's name, e.g. `3600000…` or an alias. */
  name: string;
  uuid: string;
  /** For a dm-multipath map (`mpath-` uuid): the WWID multipath gave it. */
  wwid?: string;
  /** The block devices under the map (its paths, for multipath). */
  slaves: string[];
  /** Devices stacked on the map (LVM, md, partitions' maps). */
  holders: string[];
}

const blockDir = (dev: string, o: SysfsOptions) => path.join(o.sysfsRoot ?? '/sys', 'class', 'block', dev);

async function list(dir: string): Promise<string[]> {
  return fs.readdir(dir).then((l) => l.sort(), () => []);
}

/** The devices holding `dev` (e.g. `['dm-0']`); none when it is unheld or gone. */
export function holdersOf(dev: string, o: SysfsOptions = {}): Promise<string[]> {
  return list(path.join(blockDir(dev, o), 'holders'));
}

/** A dm map by its kernel name, or undefined when there is none. */
export async function dmMap(dm: string, o: SysfsOptions = {}): Promise<DmMap | undefined> {
  if (!/^dm-\d+$/.test(dm)) return undefined;
  const dir = blockDir(dm, o);
  const name = await readAttr(path.join(dir, 'dm', 'name'));
  if (name === undefined) return undefined;
  const uuid = (await readAttr(path.join(dir, 'dm', 'uuid'))) ?? '';
  const m: DmMap = { dm, path: `/dev/${dm}`, name, uuid, slaves: await list(path.join(dir, 'slaves')), holders: await list(path.join(dir, 'holders')) };
  if (uuid.startsWith('mpath-')) m.wwid = uuid.slice('mpath-'.length);
  return m;
}

/** Every dm-multipath map. */
export async function multipathMaps(o: SysfsOptions = {}): Promise<DmMap[]> {
  const names = (await list(path.join(o.sysfsRoot ?? '/sys', 'class', 'block'))).filter((n) => /^dm-\d+$/.test(n));
  const maps = await Promise.all(names.map((n) => dmMap(n, o)));
  return maps.filter((m): m is DmMap => m !== undefined && m.wwid !== undefined);
}

/** The dm-multipath map holding `dev`, if any. */
export async function multipathMapOf(dev: string, o: SysfsOptions = {}): Promise<DmMap | undefined> {
  for (const h of await holdersOf(dev, o)) {
    const m = await dmMap(h, o);
    if (m?.wwid !== undefined) return m;
  }
  return undefined;
}
