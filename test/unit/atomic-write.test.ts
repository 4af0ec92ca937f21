// The one writer of persistent files: exact mode, nothing left behind on failure, no planted directory.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkOwnedDir, writeFileAtomic } from '../../lib/files/atomic-write';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-atomic-'));
  fs.chmodSync(dir, 0o700);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes the content with exactly the mode asked for, whatever the umask', async () => {
    const old = process.umask(0o000);
    try {
      await writeFileAtomic(path.join(dir, 'f'), 'a = b\n', 0o600);
    } finally {
      process.umask(old);
    }
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('a = b\n');
    expect(fs.statSync(path.join(dir, 'f')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['f']);
  });

  it('replaces an existing file whole and leaves no temporary file when the rename fails', async () => {
    fs.writeFileSync(path.join(dir, 'f'), 'old');
    await writeFileAtomic(path.join(dir, 'f'), 'new');
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('new');
    fs.mkdirSync(path.join(dir, 'd'));
    fs.writeFileSync(path.join(dir, 'd', 'x'), '');
    await expect(writeFileAtomic(path.join(dir, 'd'), 'x')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect(fs.readdirSync(dir).sort()).toEqual(['d', 'f']);
  });

  it('refuses a directory that is a symlink, not ours, or writable by others, and writes nothing', async () => {
    const real = path.join(dir, 'real');
    fs.mkdirSync(real, { mode: 0o700 });
    fs.symlinkSync(real, path.join(dir, 'link'));
    await expect(writeFileAtomic(path.join(dir, 'link', 'f'), 'x')).rejects.toMatchObject({ name: 'IscsiPermissionError', code: 'UNSAFE_DIRECTORY' });
    fs.chmodSync(real, 0o777);
    await expect(writeFileAtomic(path.join(real, 'f'), 'x')).rejects.toMatchObject({ code: 'UNSAFE_DIRECTORY' });
    fs.chmodSync(real, 0o700);
    fs.chownSync(real, 65534, 65534);
    await expect(checkOwnedDir(real)).rejects.toMatchObject({ code: 'UNSAFE_DIRECTORY', message: expect.stringContaining('owned by uid 65534') });
    expect(fs.readdirSync(real)).toEqual([]);
  });
});
