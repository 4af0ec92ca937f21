// The library never starts a process: not in TypeScript, not in the addon.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

function files(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && ext.test(d.name))
    .map((d) => path.join(d.parentPath, d.name));
}

describe('no child processes in the library', () => {
  it('lib/ never imports child_process or a spawning package', () => {
    const offenders = files(path.join(root, 'lib'), /\.ts$/).filter((f) =>
      /(['"](node:)?child_process['"]|\bexeca\b|cross-spawn|process\.binding\(['"]spawn)/.test(fs.readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('native/ never calls fork, exec*, system, popen or posix_spawn', () => {
    const offenders = files(path.join(root, 'native'), /\.(cc|h)$/).filter((f) =>
      /\b(fork|vfork|execv[pe]?|execl[pe]?|system|popen|posix_spawnp?)\s*\(/.test(fs.readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('the built addon imports none of those symbols', () => {
    const addon = path.join(root, 'build', 'Release', 'openiscsi.node');
    const text = fs.readFileSync(addon).toString('latin1');
    for (const sym of ['fork', 'vfork', 'execve', 'execvp', 'execl', 'system', 'popen', 'posix_spawn']) {
      // dynamic symbol names sit NUL-separated in .dynstr
      expect(text.includes(`\0${sym}\0`), sym).toBe(false);
    }
  });
});
