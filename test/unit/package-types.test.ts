// The package's types as a user meets them: dist/ built from lib/, packed by `npm pack` (the `files` list and
// the `exports` map as published; the native build is not needed for types, so scripts are skipped), unpacked
// into a fresh project's node_modules, and used from strict TypeScript as CommonJS (.cts, node16) and as ESM
// (.mts, nodenext). A transport or error-code typo must not compile; the correct program must; and an editor
// (TypeScript's language service) must show each operation with its parameters, its result type and its docs.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '../..');
const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

function run(cmd: string, args: string[], o: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 240_000, ...o });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

let project: string;

beforeAll(() => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-types-'));
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  for (const f of ['lib', 'package.json', 'tsconfig.json', 'README.md', 'LICENSE']) fs.cpSync(path.join(repo, f), path.join(src, f), { recursive: true });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(src, 'node_modules'));
  const build = run(process.execPath, [tsc, '-p', path.join(src, 'tsconfig.json')]);
  expect(build.status, build.stdout + build.stderr).toBe(0);
  const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: src });
  expect(pack.status, pack.stderr).toBe(0);
  const info = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[\s*\{/m))) as Array<{ filename: string }>;
  project = path.join(work, 'app');
  const installed = path.join(project, 'node_modules', 'openiscsi');
  fs.mkdirSync(installed, { recursive: true });
  const untar = run('tar', ['-xzf', path.join(work, info[0]!.filename), '-C', installed, '--strip-components=1']);
  expect(untar.status, untar.stderr).toBe(0);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
}, 300_000);

/** A program a user would write: every place a transport or an error code goes. */
const GOOD = `
import { connect, checkHardware, createIface, disconnectMultipath, sessions, isTransport, IscsiError, type ConnectOptions, type IscsiErrorCode, type PathSpec, type Transport } from 'openiscsi';

const transport: Transport = 'cxgb4i';
const options: ConnectOptions = { portal: '192.0.2.10:3260', target: 'iqn.2003-01.org.example:db', transport };
const paths: PathSpec[] = [{ portal: '192.0.2.10', transport: 'iser' }, { portal: '192.0.2.11', iface: 'cxgb4i.00:07:43:aa:bb:cc' }];
const retryable: IscsiErrorCode[] = ['ISCSID_TIMEOUT', 'LOGIN_LOCKED', 'ISCSID_ERR_TRANS_TIMEOUT'];

export async function attach(): Promise<string> {
  try {
    await checkHardware('iser');
    await checkHardware({ transport: 'bnx2i', hwaddress: '00:10:18:aa:bb:cc' });
    await createIface({ transport: 'qedi', hwaddress: '00:0e:1e:aa:bb:cc', ipaddress: '192.0.2.20' });
    const r = await connect(options);
    await connect({ portal: '192.0.2.10', target: 'iqn.2003-01.org.example:db', portals: paths, multipath: 'required' });
    const used: Transport = r.transport.used;
    for (const s of await sessions()) {
      // A read gives the kernel's name, which may be one this library does not know: narrow it to use it.
      const t: string = s.iface.transport;
      if (isTransport(t)) await checkHardware(t);
    }
    await disconnectMultipath({ map: 'dm-0' });
    return used;
  } catch (e) {
    if (e instanceof IscsiError && e.code === 'TRANSPORT_UNAVAILABLE') return 'fallback needed';
    if (e instanceof IscsiError && retryable.includes(e.code)) return 'retry';
    if (e instanceof IscsiError) {
      switch (e.code) {
        case 'MULTIPATH_MAP_BUSY':
        case 'MULTIPATHD_REFUSED':
          return 'multipath';
        default:
          return e.code;
      }
    }
    throw e;
  }
}
`;

/** Each typo and the line of GOOD it replaces: every one must fail to compile, on that line. */
const TYPOS: Array<[string, string, string]> = [
  ['transport in ConnectOptions', "const transport: Transport = 'cxgb4i';", "const options2: ConnectOptions = { portal: '192.0.2.10', transport: 'cxgb4' }; void options2; const transport: Transport = 'cxgb4i';"],
  ["checkHardware's argument", "await checkHardware('iser');", "await checkHardware('isre');"],
  ['an iface binding', "await checkHardware({ transport: 'bnx2i',", "await checkHardware({ transport: 'bnx2', "],
  ["createIface's transport", "await createIface({ transport: 'qedi',", "await createIface({ transport: 'qed',"],
  ["a path's transport", "transport: 'iser' }, { portal: '192.0.2.11'", "transport: 'ISER' }, { portal: '192.0.2.11'"],
  ['a read passed on without narrowing', 'if (isTransport(t)) await checkHardware(t);', 'await checkHardware(t);'],
  ['an error code compared', "e.code === 'TRANSPORT_UNAVAILABLE'", "e.code === 'TRANSPORT_UNAVAILABEL'"],
  ['an error code in a switch', "case 'MULTIPATHD_REFUSED':", "case 'MULTIPATH_REFUSED':"],
  ['an error code in a list', "'ISCSID_TIMEOUT', 'LOGIN_LOCKED'", "'ISCSID_TIMEDOUT', 'LOGIN_LOCKED'"],
];

const tsconfig = (module: string) => ({
  compilerOptions: { strict: true, noEmit: true, module, moduleResolution: module, target: 'ES2022', lib: ['ES2022'], types: ['node'], typeRoots: [path.join(repo, 'node_modules', '@types')], skipLibCheck: false },
});

describe.each([
  ['CommonJS', 'node16', 'cts'],
  ['ESM', 'nodenext', 'mts'],
])('the packed types under strict TypeScript, %s', (_kind, module, ext) => {
  it('compile the correct program, and refuse each transport and error-code typo on its own line', () => {
    const dir = path.join(project, `ts-${module}`);
    fs.mkdirSync(dir, { recursive: true });
    const files = [`good.${ext}`, ...TYPOS.map((_, i) => `typo${i}.${ext}`)];
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig(module), files }));
    fs.writeFileSync(path.join(dir, `good.${ext}`), GOOD);
    TYPOS.forEach(([, from, to], i) => {
      expect(GOOD.includes(from), from).toBe(true);
      fs.writeFileSync(path.join(dir, `typo${i}.${ext}`), GOOD.replace(from, to));
    });
    const r = run(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: dir });
    const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l));
    expect(errors.filter((l) => l.startsWith(`good.${ext}(`)), r.stdout).toEqual([]);
    TYPOS.forEach(([what, from], i) => {
      const line = GOOD.split('\n').findIndex((l) => l.includes(from.split('\n')[0]!)) + 1;
      const mine = errors.filter((l) => l.startsWith(`typo${i}.${ext}(`));
      expect(mine.length, `${what}: ${r.stdout}`).toBeGreaterThan(0);
      expect(mine.every((l) => l.startsWith(`typo${i}.${ext}(${line},`)), `${what}: ${mine.join('\n')}`).toBe(true);
    });
    expect(r.status).not.toBe(0);
  }, 120_000);
});

describe('what an editor shows (the language service over the installed package)', () => {
  const OPERATIONS = ['login', 'logout', 'sessionState', 'sessionStats', 'initiatorName', 'discover', 'discoverSendTargets', 'checkHardware', 'createIface', 'deleteIface', 'resolveIface', 'routeTo', 'connect', 'disconnect', 'disconnectMultipath'];
  let quickInfo: (needle: string) => { display: string; docs: string };

  beforeAll(() => {
    const file = path.join(project, 'hover.mts');
    const text = `import { ${OPERATIONS.join(', ')}, IscsiError } from 'openiscsi';\n${OPERATIONS.map((o) => `void ${o};`).join('\n')}\ndeclare const e: IscsiError;\nvoid e.code;\n`;
    fs.writeFileSync(file, text);
    const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: ['node'], typeRoots: [path.join(repo, 'node_modules', '@types')] };
    const host: ts.LanguageServiceHost = {
      getScriptFileNames: () => [file],
      getScriptVersion: () => '1',
      getScriptSnapshot: (f) => (fs.existsSync(f) ? ts.ScriptSnapshot.fromString(fs.readFileSync(f, 'utf8')) : undefined),
      getCurrentDirectory: () => project,
      getCompilationSettings: () => options,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: (f) => fs.existsSync(f),
      readFile: (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined),
      directoryExists: (d) => fs.existsSync(d),
      getDirectories: (d) => fs.readdirSync(d, { withFileTypes: true }).filter((x) => x.isDirectory()).map((x) => x.name),
      realpath: (f) => fs.realpathSync(f),
    };
    const service = ts.createLanguageService(host);
    expect(service.getProgram()!.getSemanticDiagnostics(service.getProgram()!.getSourceFile(file)!).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
    quickInfo = (needle) => {
      const at = text.indexOf(needle);
      expect(at, needle).toBeGreaterThanOrEqual(0);
      const qi = service.getQuickInfoAtPosition(file, at + needle.length - 1);
      // An imported name shows as "(alias) function f(…): R" and then "import f".
      const display = ts.displayPartsToString(qi?.displayParts).replace(/\nimport \w+$/, '').replace(/^\(alias\) /, '');
      return { display, docs: ts.displayPartsToString(qi?.documentation) };
    };
  }, 120_000);

  it('connect and login hover with their parameters, their result and their docs', () => {
    expect(quickInfo('void connect').display).toBe('function connect(options: ConnectOptions): Promise<ConnectResult>');
    expect(quickInfo('void login').display).toBe('function login(options: LoginOptions): Promise<Session>');
    expect(quickInfo('void connect').docs).toMatch(/^Attaches a volume/);
    expect(quickInfo('void login').docs).toMatch(/^Logs in to a target through iscsid/);
  });

  it.each(OPERATIONS)('%s hovers as a function with named, typed parameters and docs of its own', (op) => {
    const { display, docs } = quickInfo(`void ${op}`);
    expect(display).toMatch(new RegExp(`^function ${op}\\(`));
    expect(display).not.toMatch(/\.\.\.|Parameters<|ReturnType<|Awaited<|typeof /);
    expect(display).toMatch(/\): Promise<[^]+>$/);
    expect(docs.length).toBeGreaterThan(60);
    expect(docs).not.toMatch(/See lib\/|lib\/[\w/-]+\.ts/);
  });

  it("an error's code hovers as IscsiErrorCode, documented", () => {
    const { display, docs } = quickInfo('e.code');
    expect(display).toBe('(property) IscsiError.code: IscsiErrorCode');
    expect(docs).toMatch(/IscsiErrorCode/);
  });
});
