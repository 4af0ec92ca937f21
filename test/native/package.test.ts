// The package as a user gets it: `npm pack` (which builds dist/ and the prebuilt binary), installed from the
// tarball into a fresh project offline (npm's cache holds the dependencies), then used from CommonJS and ESM,
// type-checked by strict TypeScript in both, and the install script's own paths (prebuilt, build, failure).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runtimeDependencies } from '../tools/runtime-deps';

const repo = path.resolve(__dirname, '../..');
const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const platform = `${process.platform}-${process.arch}`;

function run(cmd: string, args: string[], o: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 360_000, ...o });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

let work: string;
let tarball: string;
let packed: string[];
let project: string;
let installed: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-pack-'));
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  for (const f of ['lib', 'native', 'scripts', 'binding.gyp', 'package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'LICENSE']) {
    fs.cpSync(path.join(repo, f), path.join(src, f), { recursive: true });
  }
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(src, 'node_modules'));
  const pack = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: src });
  expect(pack.status, pack.stderr).toBe(0);
  // prepack's build writes to stdout too; npm's JSON comes last.
  const info = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[\s*\{/m))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(work, info[0]!.filename);
  packed = info[0]!.files.map((f) => f.path);

  project = path.join(work, 'app');
  fs.mkdirSync(project);
  // npm >= 11.? runs a dependency's install script only when the project allows it; the prebuilt binary loads either way.
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, allowScripts: { [`file:${tarball}`]: true } }));
  // npm ci fetched the dependencies' tarballs, not their registry metadata, which an offline install of a
  // range (bindings@^1.5.0) needs: hand it every runtime dependency as a tarball of its own.
  const depTgzs = runtimeDependencies(repo).map((d) => {
    const p = run('npm', ['pack', '--pack-destination', work, path.join(repo, 'node_modules', d)], { cwd: work });
    expect(p.status, p.stderr).toBe(0);
    return path.join(work, p.stdout.trim().split('\n').pop()!);
  });
  const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', ...depTgzs, tarball], { cwd: project });
  expect(install.status, install.stdout + install.stderr).toBe(0);
  expect(install.stderr).toContain(`openiscsi: using the prebuilt binary prebuilds/${platform}/openiscsi.node`);
  installed = path.join(project, 'node_modules', 'openiscsi');
}, 420_000);

describe('npm pack and install from the tarball', () => {
  it('ships dist/, the prebuilt binary, the sources a build needs and the install script; no tests, no TypeScript sources, no source maps', () => {
    for (const f of ['package.json', 'README.md', 'binding.gyp', 'scripts/install.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli.js', `prebuilds/${platform}/openiscsi.node`, 'native/addon.cc', 'native/usr/usr_dl.cc']) {
      expect(packed).toContain(f);
    }
    expect(packed.filter((f) => /^(lib|test|bench|build)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const mapped = packed.filter((f) => f.startsWith('dist/') && fs.readFileSync(path.join(installed, f), 'utf8').includes('sourceMappingURL'));
    expect(mapped).toEqual([]);
  });

  it('loads the prebuilt binary from CommonJS, and the `openiscsi` command runs', () => {
    const r = run(process.execPath, ['-e', "const s = require('openiscsi').nativeStatus(); console.log(JSON.stringify({ loaded: s.loaded, binary: s.binary }))"], { cwd: project });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ loaded: true, binary: { path: path.join(fs.realpathSync(installed), 'prebuilds', platform, 'openiscsi.node'), prebuilt: true } });
    const cli = run(path.join(project, 'node_modules', '.bin', 'openiscsi'), ['--help'], { cwd: project });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/usage: openiscsi/);
  });

  it('has named exports from ESM', () => {
    const r = run(process.execPath, ['--input-type=module', '-e', "import { nativeStatus, sessions, IscsiError } from 'openiscsi'; console.log(typeof nativeStatus, typeof sessions, typeof IscsiError)"], { cwd: project });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('function function function');
  });

  const consumer = `
    import { connect, sessions, IscsiError, type ConnectOptions, type Session } from 'openiscsi';
    const options: ConnectOptions = { portal: '192.0.2.10:3260', target: 'iqn.2003-01.org.example:db', transport: 'cxgb4i' };
    export async function attach(): Promise<string> {
      try {
        const r = await connect(options);
        const all: Session[] = await sessions();
        return \`\${r.device.path} \${all.length}\`;
      } catch (e) {
        if (e instanceof IscsiError) return e.code;
        throw e;
      }
    }
  `;
  const tsconfig = (module: string) => ({
    compilerOptions: { strict: true, noEmit: true, module, moduleResolution: module, target: 'ES2022', types: ['node'], typeRoots: [path.join(repo, 'node_modules', '@types')], skipLibCheck: false },
  });

  it.each([
    ['CommonJS', 'node16', 'cts'],
    ['ESM', 'nodenext', 'mts'],
  ])('type-checks under strict TypeScript as %s; a typo fails', (_kind, module, ext) => {
    // One run over a correct program and a copy with a typo: only the copy may fail, and must.
    const dir = path.join(project, `ts-${module}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig(module), files: [`good.${ext}`, `typo.${ext}`] }));
    fs.writeFileSync(path.join(dir, `good.${ext}`), consumer);
    fs.writeFileSync(path.join(dir, `typo.${ext}`), consumer.replace("portal: '192.0.2.10:3260'", "portl: '192.0.2.10:3260'"));
    const r = run(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: dir });
    const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l));
    expect(r.status).not.toBe(0);
    expect(errors.length, r.stdout).toBeGreaterThan(0);
    expect(errors.every((l) => l.startsWith(`typo.${ext}(`)), r.stdout).toBe(true);
    expect(r.stdout).toMatch(/portl/);
  });

  it('without a prebuilt binary the install says it builds from source, and fails loudly when it cannot', () => {
    const pkg = path.join(work, 'no-prebuild');
    fs.cpSync(installed, pkg, { recursive: true, dereference: true });
    fs.rmSync(path.join(pkg, 'prebuilds'), { recursive: true, force: true });
    // A PATH with node and sh only: no compiler.
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
    const r = run(process.execPath, [path.join(pkg, 'scripts', 'install.js')], { env: { PATH: bin } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`openiscsi: no prebuilt binary: none is shipped for ${platform}. Building from source`);
    expect(r.stderr).toMatch(/openiscsi: install failed: cannot build: g\+\+, make, python3 missing\. On Debian\/Ubuntu: apt-get install/);
  });
});
