// test/run.sh as a program: its exit code and closing line for each way a stream can end, run against stand-ins
// for setup, tsc, vitest and the AddressSanitizer pass in a throwaway copy (the real ones take minutes). The
// stand-in vitest writes a report per project (or none, as a crashed vitest does) as FAKE_<PROJECT> says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
let dir = '';

const FAKE_VITEST = `#!/usr/bin/env bash
out=; project=
for a in "$@"; do case $a in --outputFile.json=*) out=\${a#*=} ;; lab) project=LAB ;; unit) project=SIDE ;; esac; done
[ -n "$project" ] || project=SIDE
mode=$(eval echo "\\\${FAKE_$project:-pass}")
echo "fake vitest $project: $mode"
case $mode in
  pass) echo '{"success":true,"testResults":[{"name":"a.test.ts","status":"passed","assertionResults":[{"status":"passed"}]}]}' > "$out" ;;
  fail) echo '{"success":false,"testResults":[{"name":"a.test.ts","status":"failed","assertionResults":[{"status":"failed"}]}]}' > "$out"; exit 1 ;;
  crash) exit 1 ;;
  # its report written, then the stream around it is killed before the AddressSanitizer pass could run
  orphan) echo '{"success":true,"testResults":[{"name":"a.test.ts","status":"passed","assertionResults":[{"status":"passed"}]}]}' > "$out"; kill -9 $PPID ;;
esac
`;
const FAKE_ASAN = `#!/usr/bin/env bash
echo "fake asan: \${FAKE_ASAN:-ok}"
[ "\${FAKE_ASAN:-ok}" = ok ]
`;

function run(env: Record<string, string>, args: string[] = []) {
  const r = spawnSync('bash', [path.join(dir, 'test', 'run.sh'), ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 });
  return { status: r.status, last: r.stdout.trim().split('\n').filter((l) => !/^test suite: /.test(l)).at(-1) ?? '', stdout: r.stdout };
}

describe('test/run.sh (its streams against stand-ins)', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-runsh-'));
    const put = (rel: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text, { mode: 0o755 });
    };
    put('test/run.sh', fs.readFileSync(path.join(root, 'test', 'run.sh'), 'utf8'));
    put('test/tools/vitest-summary.js', fs.readFileSync(path.join(root, 'test', 'tools', 'vitest-summary.js'), 'utf8'));
    put('test/setup.sh', 'true\n');
    put('test/lab/guest/prepare.sh', 'true\n');
    put('node_modules/.bin/tsc', '#!/bin/sh\ntrue\n');
    put('node_modules/.bin/vitest', FAKE_VITEST);
    put('test/native/asan.sh', FAKE_ASAN);
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('both streams and the AddressSanitizer pass green: exit 0, both reports counted', () => {
    const r = run({});
    expect(r.last).toBe('2 passed, 0 failed; AddressSanitizer pass: passed');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('fake vitest SIDE: pass'); // the side stream's log is printed
  });

  it.each([
    ['the lab stream fails', { FAKE_LAB: 'fail' }, '1 passed, 1 failed; AddressSanitizer pass: passed'],
    ['the side stream fails', { FAKE_SIDE: 'fail' }, '1 passed, 1 failed; AddressSanitizer pass: passed'],
    ['the AddressSanitizer pass fails', { FAKE_ASAN: 'fail' }, '2 passed, 0 failed; AddressSanitizer pass: FAILED'],
  ])('%s: a failed run, and the closing line says so', (_what, env, last) => {
    const r = run(env);
    expect(r.last).toBe(last);
    expect(r.status).not.toBe(0);
  });

  it.each([['lab', { FAKE_LAB: 'crash' }], ['side', { FAKE_SIDE: 'crash' }]])('a %s vitest that dies without a report: a failed run', (_what, env) => {
    const r = run(env);
    expect(r.stdout).toContain('no test report');
    expect(r.status).not.toBe(0);
  });

  it('a side stream killed before its AddressSanitizer pass: the pass counts as failed, never as left out', () => {
    const r = run({ FAKE_SIDE: 'orphan' });
    expect(r.last).toBe('2 passed, 0 failed; AddressSanitizer pass: FAILED');
    expect(r.status).not.toBe(0);
  });

  it('with arguments: one vitest with them; the AddressSanitizer pass only when the native project is in the run', () => {
    const unit = run({}, ['--project', 'unit']);
    expect(unit.last).toBe('1 passed, 0 failed');
    expect(unit.stdout).not.toContain('fake asan');
    expect(unit.status).toBe(0);
    const native = run({ FAKE_ASAN: 'fail' }, ['--project', 'native']);
    expect(native.last).toBe('1 passed, 0 failed; AddressSanitizer pass: FAILED');
    expect(native.status).not.toBe(0);
  });

  it('OPENISCSI_TEST_ASAN=0 leaves the pass out, and it is not counted missing', () => {
    const r = run({ OPENISCSI_TEST_ASAN: '0', FAKE_ASAN: 'fail' });
    expect(r.last).toBe('2 passed, 0 failed');
    expect(r.status).toBe(0);
  });

  it('leaves no report directory behind', () => {
    const before = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('openiscsi-run.')).length;
    run({ FAKE_SIDE: 'fail' });
    expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('openiscsi-run.')).length).toBe(before);
  });
});
