// The one writer of persistent files (iface files, node records): a new file in the same directory
// (O_EXCL|O_NOFOLLOW, so nothing planted is followed), its mode set exactly, written and fsync'd, renamed
// over the destination, then the directory fsync'd so the rename survives a crash. On any failure the
// temporary file is removed and the destination is what it was. The directory must already exist, be a real
// directory (not a symlink) owned by the effective user, and not writable by others.
import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { IscsiPermissionError } from '../errors';

/** Refuses a directory that another user could have planted or could change under us. */
export async function checkOwnedDir(dir: string): Promise<void> {
  const st = await fs.lstat(dir);
  const euid = process.geteuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== euid || (st.mode & 0o002) !== 0) {
    const what = st.isSymbolicLink() ? 'a symbolic link' : !st.isDirectory() ? 'not a directory' : st.uid !== euid ? `owned by uid ${st.uid}` : 'writable by other users';
    throw new IscsiPermissionError('UNSAFE_DIRECTORY', `${dir} is ${what}; refusing to write into it`, {
      hint: `make ${dir} a directory owned by root and not writable by others (chown root: ${dir}; chmod o-w ${dir})`,
    });
  }
}

export async function writeFileAtomic(file: string, content: string, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  await checkOwnedDir(dir);
  const tmp = path.join(dir, `.${path.basename(file)}.openiscsi-${process.pid}-${randomBytes(6).toString('hex')}`);
  const h = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
  try {
    try {
      await h.writeFile(content);
      await h.chmod(mode); // exactly `mode`, whatever the umask
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.unlink(tmp).catch(() => {});
    throw e;
  }
  const d = await fs.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
