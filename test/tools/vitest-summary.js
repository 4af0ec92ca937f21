#!/usr/bin/env node
// The closing line of the test command (test/run.sh), from vitest's JSON report:
//   `N passed, N failed[, N not run][, N skipped]`
// "failed" counts failed tests plus every file that failed without a failed test (an error in beforeAll/afterAll,
// an import that throws, a collection error): vitest's own numFailedTests leaves those out, so a suite whose lab
// files all failed in setup used to close with "0 failed". Tests that never ran because their file failed in
// setup are "not run", not "skipped". Exits 1 when anything failed or a report is missing or says
// success: false, else 0. Usage: node test/tools/vitest-summary.js REPORT.json [REPORT.json ...] [CHECK=ok|CHECK=failed ...]
// Several reports (test/run.sh runs the lab and the other projects as two vitest processes) are counted as one run.
// Each CHECK (a pass run outside vitest's report, e.g. the AddressSanitizer pass) is named on the closing line,
// and one that failed counts as a failure.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function summarise(report, cwd = process.cwd(), checks = []) {
  const files = Array.isArray(report.testResults) ? report.testResults : [];
  let passed = 0;
  let failedTests = 0;
  let skipped = 0;
  let notRun = 0;
  const setupFailures = [];
  for (const f of files) {
    const tests = Array.isArray(f.assertionResults) ? f.assertionResults : [];
    const failedHere = tests.filter((t) => t.status === 'failed').length;
    const unrun = tests.filter((t) => t.status !== 'passed' && t.status !== 'failed').length;
    passed += tests.filter((t) => t.status === 'passed').length;
    failedTests += failedHere;
    if (f.status === 'failed' && failedHere === 0) {
      setupFailures.push({ file: path.relative(cwd, f.name) || f.name, message: String(f.message || 'failed outside its tests').split('\n')[0] });
      notRun += unrun;
    } else {
      skipped += unrun;
    }
  }
  const failed = failedTests + setupFailures.length;
  const lines = [];
  if (setupFailures.length) {
    lines.push(`${setupFailures.length} file(s) failed outside their tests (setup, import or collection):`);
    for (const s of setupFailures) lines.push(`  ${s.file}: ${s.message}`);
  }
  const checkText = checks.map((c) => `; ${c.name}: ${c.ok ? 'passed' : 'FAILED'}`).join('');
  lines.push(`${passed} passed, ${failed} failed` + (notRun ? `, ${notRun} not run` : '') + (skipped ? `, ${skipped} skipped` : '') + checkText);
  const ok = failed === 0 && report.success !== false && checks.every((c) => c.ok);
  return { passed, failed, notRun, skipped, setupFailures, ok, text: lines.join('\n') };
}

module.exports = { summarise };

if (require.main === module) {
  const args = process.argv.slice(2);
  const files = args.filter((a) => a.endsWith('.json'));
  if (files.length === 0) {
    console.log('\nvitest-summary: no report given; counting the run as failed');
    process.exit(1);
  }
  const reports = [];
  for (const file of files) {
    try {
      reports.push(JSON.parse(fs.readFileSync(file, 'utf8')));
    } catch (e) {
      console.log(`\nno test report (${file}: ${e.code ?? e.message}): vitest did not finish; counting the run as failed`);
      process.exit(1);
    }
  }
  const checks = args.filter((a) => !a.endsWith('.json')).map((a) => {
    const m = /^(.+)=(ok|failed)$/.exec(a);
    if (!m) {
      console.log(`\nvitest-summary: a check is NAME=ok or NAME=failed, not ${JSON.stringify(a)}; counting the run as failed`);
      process.exit(1);
    }
    return { name: m[1], ok: m[2] === 'ok' };
  });
  const merged = { testResults: reports.flatMap((r) => (Array.isArray(r.testResults) ? r.testResults : [])), success: reports.every((r) => r.success !== false) };
  const s = summarise(merged, process.cwd(), checks);
  console.log(`\n${s.text}`);
  process.exit(s.ok ? 0 : 1);
}
