// Loading must never throw at import: a missing addon becomes one actionable error on first use.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadFrom } from '../../lib/native';

describe('addon loader', () => {
  it('reports a missing build as NATIVE_UNAVAILABLE with what to do', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-nobuild-'));
    const { binding, error } = loadFrom(dir);
    expect(binding).toBeUndefined();
    expect(error?.code).toBe('NATIVE_UNAVAILABLE');
    expect(error?.message).toMatch(/npm rebuild openiscsi/);
  });

  it('importing the compiled package without an addon works; calls reject with the actionable error', () => {
    const dist = path.resolve(__dirname, '../../dist');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-pkg-'));
    fs.cpSync(dist, path.join(dir, 'dist'), { recursive: true });
    fs.symlinkSync(path.resolve(__dirname, '../../node_modules'), path.join(dir, 'node_modules'));
    const script = `
      const pkg = require(${JSON.stringify(path.join(dir, 'dist', 'index.js'))});
      pkg.sessions().then(() => console.log('resolved'), (e) => console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })));`;
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    const result = JSON.parse(out.stdout.trim()) as { name: string; code: string; message: string };
    expect(result).toMatchObject({ name: 'IscsiUnsupportedError', code: 'NATIVE_UNAVAILABLE' });
    expect(result.message).toMatch(/npm rebuild openiscsi/);
  });
});
