// `npm run prebuildify` must produce a binary that the loader finds without a build/ directory.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadFrom } from '../../lib/native';

const root = path.resolve(__dirname, '../..');

describe('prebuildify', () => {
  it('npm run prebuildify writes prebuilds/<platform>-<arch>/openiscsi.node, and it loads', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-prebuildify-'));
    for (const f of ['native', 'binding.gyp', 'package.json']) fs.cpSync(path.join(root, f), path.join(dir, f), { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    const out = spawnSync('npm', ['run', 'prebuildify', '--silent'], { cwd: dir, encoding: 'utf8', timeout: 110_000 });
    expect(out.status, out.stderr).toBe(0);
    const file = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'openiscsi.node');
    expect(fs.existsSync(file)).toBe(true);
    fs.rmSync(path.join(dir, 'build'), { recursive: true, force: true });
    const { binding, error } = loadFrom(dir);
    expect(error).toBeUndefined();
    expect(binding?.hasLibopeniscsiusr).toBe(true);
  });
});
