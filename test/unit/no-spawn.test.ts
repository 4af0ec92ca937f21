// The library never starts a process: not in TypeScript, not in the addon.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

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
    const nm = spawnSync('nm', ['-D', '--undefined-only', addon], { encoding: 'utf8' });
    expect(nm.status, nm.stderr).toBe(0);
    const imported = new Set(nm.stdout.split('\n').map((l) => l.trim().split(/\s+/).pop()!.replace(/@.*$/, '')));
    expect(imported.has('poll')).toBe(true); // the list is real: the socket client imports poll
    const spawning = ['fork', 'vfork', 'execve', 'execvp', 'execv', 'execl', 'execlp', 'system', 'popen', 'posix_spawn', 'posix_spawnp', 'clone', 'syscall'];
    expect(spawning.filter((s) => imported.has(s))).toEqual([]);
  });
});
