// The test command's closing line (test/tools/vitest-summary.js, used by test/run.sh) tells the truth: files that
// fail outside a test (beforeAll, a failing import, a throw while collecting) count as failed. Runs the project's
// own vitest on a throwaway directory, then the summariser on the JSON report vitest wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const summariser = path.join(root, 'test', 'tools', 'vitest-summary.js');

const FILES: Record<string, string> = {
  'setup.test.ts': `import { beforeAll, expect, it } from 'vitest';
beforeAll(() => { throw new Error('setup broke'); });
it('a', () => expect(1).toBe(1));
it('b', () => expect(1).toBe(1));
`,
  'import.test.ts': `import { expect, it } from 'vitest';
import './no-such-module';
it('c', () => expect(1).toBe(1));
`,
  'collect.test.ts': `import { describe } from 'vitest';
describe('d', () => { throw new Error('collection broke'); });
`,
  'teardown.test.ts': `import { afterAll, expect, it } from 'vitest';
afterAll(() => { throw new Error('teardown broke'); });
it('e', () => expect(1).toBe(1));
`,
  'mixed.test.ts': `import { expect, it } from 'vitest';
it('f', () => expect(1).toBe(1));
it('g', () => expect(1).toBe(2));
`,
  'good.test.ts': `import { expect, it } from 'vitest';
it('h', () => expect(1).toBe(1));
it('i', () => expect(2).toBe(2));
`,
};

let dir = '';

/** Runs vitest on the given files of the throwaway directory, then the summariser on its report. */
function run(files: string[], checks: string[] = []): { vitestStatus: number | null; status: number | null; stdout: string } {
  const report = path.join(dir, `report-${files.length}.json`);
  // without the parent vitest's worker variables, which would make the inner one think it is a worker
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
  const v = spawnSync(
    path.join(root, 'node_modules', '.bin', 'vitest'),
    ['run', '--config', path.join(dir, 'vitest.config.mjs'), '--reporter=json', `--outputFile.json=${report}`, ...files],
    { cwd: dir, env, encoding: 'utf8', timeout: 60_000 },
  );
  const s = spawnSync(process.execPath, [summariser, report, ...checks], { cwd: dir, encoding: 'utf8' });
  return { vitestStatus: v.status, status: s.status, stdout: s.stdout };
}

describe('the test command closing line', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-summary-'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    // no import of 'vitest/config': a plain object is a valid config
    fs.writeFileSync(path.join(dir, 'vitest.config.mjs'), `export default { test: { root: ${JSON.stringify(dir)}, include: ['*.test.ts'], pool: 'forks' } };\n`);
    for (const [name, text] of Object.entries(FILES)) fs.writeFileSync(path.join(dir, name), text);
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('counts files that failed in setup, import, collection or teardown as failed, and exits non-zero', () => {
    const r = run(Object.keys(FILES));
    expect(r.vitestStatus).not.toBe(0);
    const lines = r.stdout.trim().split('\n');
    // passed: e, f, h, i; failed: g + four files without a failed test; a and b never ran
    expect(lines.at(-1)).toBe('4 passed, 5 failed, 2 not run');
    expect(r.stdout).toContain('setup.test.ts: setup broke');
    expect(r.stdout).toMatch(/import\.test\.ts: .*no-such-module/);
    expect(r.stdout).toContain('collect.test.ts: collection broke');
    expect(r.stdout).toContain('teardown.test.ts: teardown broke');
    expect(r.status).toBe(1);
  }, 60_000);

  it('a file that only failed in beforeAll is enough for a failed run', () => {
    const r = run(['setup.test.ts', 'good.test.ts']);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('2 passed, 1 failed, 2 not run');
    expect(r.status).toBe(1);
  }, 60_000);

  it('a clean run closes with 0 failed and exit 0', () => {
    const r = run(['good.test.ts']);
    expect(r.vitestStatus).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('2 passed, 0 failed');
    expect(r.status).toBe(0);
  }, 60_000);

  it('a check run outside vitest (the AddressSanitizer pass) is named on the closing line; a failed one fails the run', () => {
    const ok = run(['good.test.ts'], ['AddressSanitizer pass=ok']);
    expect(ok.stdout.trim().split('\n').at(-1)).toBe('2 passed, 0 failed; AddressSanitizer pass: passed');
    expect(ok.status).toBe(0);
    const bad = run(['good.test.ts'], ['AddressSanitizer pass=failed']);
    expect(bad.stdout.trim().split('\n').at(-1)).toBe('2 passed, 0 failed; AddressSanitizer pass: FAILED');
    expect(bad.status).toBe(1);
  }, 60_000);

  it('several reports (the lab and the other projects run as two vitest processes) close as one run', () => {
    const a = run(['good.test.ts']);
    expect(a.status).toBe(0);
    run(['setup.test.ts', 'good.test.ts']);
    const both = spawnSync(process.execPath, [summariser, path.join(dir, 'report-1.json'), path.join(dir, 'report-2.json'), 'AddressSanitizer pass=ok'], { cwd: dir, encoding: 'utf8' });
    // good (h, i) + good again (h, i) passed; setup.test.ts failed outside its tests, a and b not run
    expect(both.stdout.trim().split('\n').at(-1)).toBe('4 passed, 1 failed, 2 not run; AddressSanitizer pass: passed');
    expect(both.status).toBe(1);
    // a good report beside one that was never written (its vitest died) is a failed run
    const missing = spawnSync(process.execPath, [summariser, path.join(dir, 'report-1.json'), path.join(dir, 'never-written.json')], { cwd: dir, encoding: 'utf8' });
    expect(missing.stdout).toContain('no test report');
    expect(missing.status).toBe(1);
  }, 60_000);

  it('a missing or empty report is a failed run', () => {
    const empty = path.join(dir, 'empty.json');
    fs.writeFileSync(empty, '');
    const s = spawnSync(process.execPath, [summariser, empty], { encoding: 'utf8' });
    expect(s.stdout).toContain('no test report');
    expect(s.status).toBe(1);
  });
});

describe('test/run.sh', () => {
  it('closes with this summariser and fails when it finds a failure vitest did not', () => {
    const sh = fs.readFileSync(path.join(root, 'test', 'run.sh'), 'utf8');
    expect(sh).toMatch(/node test\/tools\/vitest-summary\.js "\$\{reports\[@\]\}" "\$\{checks\[@\]\}" \|\| summary_rc=\$\?/);
    // both streams' reports, named before either vitest runs (a report never written is then a failure)
    expect(sh).toMatch(/reports=\("\$tmp\/lab\.json" "\$tmp\/side\.json"\)/);
    // the AddressSanitizer pass runs by default (what each stream's end does: run-command.test.ts)
    expect(sh).toMatch(/OPENISCSI_TEST_ASAN:-1/);
    expect(sh).toMatch(/if \[ "\$rc" -eq 0 \] && \[ "\$\{summary_rc:-0\}" -ne 0 \]; then rc=1; fi/);
  });
});
