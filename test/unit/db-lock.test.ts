// open-iscsi's own database lock (/run/lock/iscsi/lock, lock.write by link()): its directory and `lock`
// are checked before use, so a directory or symbolic link planted by another user is refused, not used.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withIscsiDbLock } from '../../lib/files/db-lock';
import { IscsiPermissionError } from '../../lib/errors';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-dblock-'));

describe("open-iscsi's database lock: planted directories and files", () => {
  it.each([
    ['owned by another user', (d: string) => { fs.mkdirSync(d); fs.chownSync(d, 65534, 65534); }, /owned by uid 65534/],
    ['writable by others', (d: string) => { fs.mkdirSync(d); fs.chmodSync(d, 0o777); }, /mode 0777/],
    ['a symbolic link', (d: string) => { fs.mkdirSync(`${d}-target`); fs.symlinkSync(`${d}-target`, d); }, /symbolic link/],
  ])('a lock directory %s is LOCK_DIR_UNSAFE, and nothing is created in it', async (_what, plant, found) => {
    const dir = path.join(tmp(), 'iscsi');
    plant(dir);
    let ran = false;
    const e = await withIscsiDbLock(async () => (ran = true), { lockDir: dir, timeoutMs: 200 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IscsiPermissionError);
    expect(e).toMatchObject({ code: 'LOCK_DIR_UNSAFE' });
    expect((e as Error).message).toMatch(found);
    expect(ran).toBe(false);
    expect(fs.readdirSync(fs.realpathSync(dir))).toEqual([]);
  });

  it('a `lock` planted as a symbolic link is LOCK_FILE_UNSAFE; its target is neither created nor locked', async () => {
    const dir = path.join(tmp(), 'iscsi');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.symlinkSync(`${dir}-elsewhere`, path.join(dir, 'lock'));
    let ran = false;
    const e = await withIscsiDbLock(async () => (ran = true), { lockDir: dir, timeoutMs: 200 }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'LOCK_FILE_UNSAFE', name: 'IscsiPermissionError' });
    expect(ran).toBe(false);
    expect(fs.existsSync(`${dir}-elsewhere`)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(['lock']);
  });

  it("iscsiadm's own directory (0640 from its mkdir 0660 under umask 022) and a fresh one are accepted", async () => {
    const dir = path.join(tmp(), 'iscsi');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o640 | 0o100);
    expect(await withIscsiDbLock(async () => 'ran', { lockDir: dir, timeoutMs: 200 })).toBe('ran');
    expect(await withIscsiDbLock(async () => 'ran', { lockDir: path.join(tmp(), 'fresh'), timeoutMs: 200 })).toBe('ran');
  });
});
