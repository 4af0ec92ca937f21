// A real caller without root (setpriv to nobody, no groups) calling the built package on this host, where
// iscsid is absent: createIface, deleteIface and login end in IscsiPermissionError PERMISSION_DENIED with what to
// do, the CLI exits 3 for them, and nothing owned by that user appears in /etc/iscsi or /run/lock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runtimeDependencies } from '../tools/runtime-deps';

const repo = path.resolve(__dirname, '../..');
const NOBODY = 65534;
let pkg = '';

/** A copy of the built package any user can read (a checkout under /root is not readable by nobody). */
function readableCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-perm-pkg-'));
  fs.chmodSync(dir, 0o755);
  // the package's runtime dependencies too: the loader needs bindings (and bindings its own dependency)
  const deps = runtimeDependencies(repo);
  for (const rel of ['package.json', 'dist', 'build/Release/openiscsi.node', ...deps.map((d) => `node_modules/${d}`)]) fs.cpSync(path.join(repo, rel), path.join(dir, rel), { recursive: true });
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  return dir;
}

function asNobody(args: string[]) {
  const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, ...args], { encoding: 'utf8', timeout: 30_000, cwd: '/' });
  if (r.error) throw r.error;
  return r;
}

/** Calls one function of the package as nobody; returns what it threw (name, code, message) or its result. */
function call(fn: string, ...args: unknown[]): { ok: boolean; name?: string; code?: string; message?: string; details?: Record<string, unknown> } {
  const script = `require(${JSON.stringify(path.join(pkg, 'dist/index.js'))}).${fn}(...${JSON.stringify(args)}).then(
    (r) => console.log(JSON.stringify({ ok: true, r })),
    (e) => console.log(JSON.stringify({ ok: false, name: e.name, code: e.code, message: e.message, details: e.details })))`;
  const r = asNobody(['-e', script]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** Files owned by nobody under the directories a privileged operation would write. */
function ownedByNobody(): string[] {
  const dirs = ['/etc/iscsi', '/run/lock'].filter((d) => fs.existsSync(d));
  const r = spawnSync('find', [...dirs, '-xdev', '-uid', String(NOBODY)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

describe('a caller without root', () => {
  beforeAll(() => {
    for (const tool of ['setpriv', 'find']) expect(spawnSync('sh', ['-c', `command -v ${tool}`]).status, `${tool} is needed`).toBe(0);
    expect(process.getuid?.(), 'the host tests run as root').toBe(0);
    pkg = readableCopy();
    expect(asNobody(['-e', 'process.stdout.write(String(process.geteuid()))']).stdout).toBe(String(NOBODY));
  });
  afterAll(() => {
    if (pkg) fs.rmSync(pkg, { recursive: true, force: true });
  });

  it('createIface and deleteIface: PERMISSION_DENIED, run as root, nothing written', () => {
    const before = ownedByNobody();
    const name = `perm${process.pid}`;
    const c = call('createIface', { transport: 'tcp', hwaddress: '00:11:22:33:44:55', name, checkHardware: false });
    expect(c).toMatchObject({ ok: false, name: 'IscsiPermissionError', code: 'PERMISSION_DENIED' });
    expect(c.message).toMatch(/run as root/);
    expect(c.message).not.toMatch(/\[ERROR\]/);
    const d = call('deleteIface', name);
    expect(d).toMatchObject({ ok: false, name: 'IscsiPermissionError', code: 'PERMISSION_DENIED' });
    expect(fs.existsSync(`/etc/iscsi/ifaces/${name}`)).toBe(false);
    expect(ownedByNobody()).toEqual(before);
  });

  it('login (persist) and connect: PERMISSION_DENIED before a lock or a node record is made', () => {
    const before = ownedByNobody();
    const target = `iqn.2026-11.org.openiscsi:perm${process.pid}`;
    for (const fn of ['login', 'connect']) {
      const r = call(fn, { target, portal: '127.0.0.1:3260', persist: true });
      expect(r, fn).toMatchObject({ ok: false, name: 'IscsiPermissionError', code: 'PERMISSION_DENIED', details: { euid: NOBODY } });
    }
    expect(fs.existsSync(`/etc/iscsi/nodes/${target}`)).toBe(false);
    expect(ownedByNobody()).toEqual(before);
  });

  it('the CLI exits 3 for them, with the code in --json', () => {
    const cli = path.join(pkg, 'dist/cli.js');
    const create = asNobody([cli, 'create-iface', '--transport', 'tcp', '--hwaddress', '00:11:22:33:44:56', '--name', `perm${process.pid}b`, '--no-check', '--json']);
    expect(create.status, create.stdout + create.stderr).toBe(3);
    expect(JSON.parse(create.stdout)).toMatchObject({ error: { name: 'IscsiPermissionError', code: 'PERMISSION_DENIED' } });
    const login = asNobody([cli, 'login', '--target', 'iqn.2026-11.org.openiscsi:perm', '--portal', '127.0.0.1:3260']);
    expect(login.status, login.stdout + login.stderr).toBe(3);
    expect(login.stderr).toMatch(/PERMISSION_DENIED/);
  });
});
