// libopeniscsiusr is loaded when first needed (native/usr/usr_dl.cc), not linked: on a machine without it the
// addon loads, the sysfs session reader and iscsid's request builder work, and only the calls that need the
// library fail, with LIBOPENISCSIUSR_MISSING. "Without it" is made real: in a private mount namespace the
// library's file is covered by /dev/null, so the dynamic loader finds it and refuses it.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const pkg = path.resolve(__dirname, '../../dist/index.js');
const nativeJs = path.resolve(__dirname, '../../dist/native.js');
const addon = path.resolve(__dirname, '../../build/Release/openiscsi.node');

function libraryFile(): string {
  const line = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n').find((l) => /^\s*libopeniscsiusr\.so\.0/.test(l));
  const file = line?.split('=> ')[1]?.trim();
  if (!file) throw new Error('libopeniscsiusr.so.0 is not installed here: test/setup.sh installs it');
  return file;
}

function runWithoutLibrary(script: string) {
  const out = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', `set -e; mount --bind /dev/null "$(readlink -f ${libraryFile()})"; exec ${process.execPath} -e "$0"`, script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

describe('libopeniscsiusr loaded on first need', () => {
  it('the addon does not link it', () => {
    expect(execFileSync('ldd', [addon], { encoding: 'utf8' })).not.toMatch(/libopeniscsiusr/);
  });

  it('without it: the addon loads, sessions() and the request builder work, ifaces() and nodes() say LIBOPENISCSIUSR_MISSING', () => {
    const r = runWithoutLibrary(`
      const pkg = require(${JSON.stringify(pkg)});
      const n = require(${JSON.stringify(nativeJs)});
      const err = (e) => ({ name: e.name, code: e.code, message: e.message });
      (async () => {
        const st = pkg.nativeStatus();
        const out = { loaded: st.loaded, libopeniscsiusr: st.libopeniscsiusr, status: st.error && err(st.error) };
        out.sessions = await pkg.sessions().then((l) => l.length, err);
        out.request = n.native().requestSize('2.1.1');
        out.ifaces = await pkg.ifaces().then(() => 'resolved', err);
        out.nodes = await pkg.nodes().then(() => 'resolved', err);
        out.setup = await pkg.setupDefaultIfaces().then(() => 'resolved', err);
        out.usrSessions = await pkg.sessions({ source: 'libopeniscsiusr' }).then(() => 'resolved', err);
        console.log(JSON.stringify(out));
      })();`);
    const missing = { name: 'IscsiUnsupportedError', code: 'LIBOPENISCSIUSR_MISSING', message: expect.stringMatching(/libopeniscsiusr cannot be loaded \(.*file too short\); install it/) };
    expect(r).toEqual({ loaded: true, libopeniscsiusr: false, status: missing, sessions: 0, request: expect.any(Number), ifaces: missing, nodes: missing, setup: missing, usrSessions: missing });
    expect(r['request']).toBeGreaterThan(1000);
  });
});
