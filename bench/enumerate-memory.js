// Host side, in a private mount namespace over a fake sysfs (see bench/run.ts), on a real CPU:
// the same facts through openiscsi and through a spawned iscsiadm (interleaved), then RSS growth over N
// enumerations through the addon and libopeniscsiusr. `--no-ratios` measures memory only (bench/run.ts
// runs it a second time with V8's young generation fixed at its default maximum size).
'use strict';
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const pkg = require(path.resolve(__dirname, '..', 'dist', 'index.js'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function ratio(ours, argv, rounds = 31) {
  const a = [];
  const b = [];
  for (let i = 0; i < rounds; i++) {
    let t = now();
    await ours();
    a.push(now() - t);
    t = now();
    execFileSync(argv[0], argv.slice(1), { stdio: 'ignore' });
    b.push(now() - t);
  }
  const per = a.map((x, i) => b[i] / x);
  return { oursMs: median(a), iscsiadmMs: median(b), ratio: median(b) / median(a), roundRatios: { median: median(per), min: Math.min(...per), max: Math.max(...per) }, iscsiadm: argv.join(' ') };
}

async function main() {
  const n = Number(process.argv[2] || 100000);
  const withRatios = !process.argv.includes('--no-ratios');
  // Warm up until V8 has sized its heap for this load (its reservation unchanged over 20,000 pairs), so
  // the measurement below is of a process in its steady state, as a monitoring loop runs.
  const heapAtStart = process.memoryUsage().heapTotal;
  let warmupPairs = 0;
  for (let steady = 0, last = -1; steady < 4 && warmupPairs < 400_000; ) {
    for (let i = 0; i < 5000; i++) await Promise.all([pkg.sessions(), pkg.ifaces()]);
    warmupPairs += 5000;
    const reserved = process.memoryUsage().heapTotal;
    steady = reserved === last ? steady + 1 : 0;
    last = reserved;
  }
  const ratios = withRatios && {
    // Not -P 3: without an iscsid (there is none on this host) it retries iscsid's socket for ~16 s per
    // call. Plain -m session prints fewer facts, so this ratio is a lower bound.
    sessions: await ratio(() => pkg.sessions(), ['iscsiadm', '-m', 'session']),
    ifaces: await ratio(() => pkg.ifaces(), ['iscsiadm', '-m', 'iface']),
  };
  // RSS alone mixes a leak with V8 sizing its heap: under steady allocation it enlarges the young
  // generation (heapTotal) in steps while what is live (heapUsed) stays flat. So the JS heap's reservation
  // is reported too, and RSS outside it, where a native leak would show.
  global.gc?.();
  const before = process.memoryUsage();
  const t0 = Date.now();
  const rssSamplesMiB = [];
  for (let i = 0; i < n; i++) {
    await Promise.all([pkg.sessions(), pkg.ifaces()]);
    if ((i + 1) % Math.max(1, Math.floor(n / 10)) === 0) rssSamplesMiB.push(+(process.memoryUsage().rss / 2 ** 20).toFixed(1));
  }
  const ms = Date.now() - t0;
  global.gc?.();
  const after = process.memoryUsage();
  const mib = (x) => x / 2 ** 20;
  const newSpace = () => require('node:v8').getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space').space_size;
  console.log(
    JSON.stringify({
      ratios, execArgv: process.execArgv, newSpaceMiB: mib(newSpace()), calls: n, sessions: (await pkg.sessions()).length, perCallUs: (ms * 1000) / n, rssSamplesMiB,
      warmupPairs, heapTotalAtStartMiB: mib(heapAtStart),
      rssBeforeMiB: mib(before.rss), rssAfterMiB: mib(after.rss),
      heapTotalBeforeMiB: mib(before.heapTotal), heapTotalAfterMiB: mib(after.heapTotal),
      heapUsedBeforeMiB: mib(before.heapUsed), heapUsedAfterMiB: mib(after.heapUsed),
      outsideHeapGrowthMiB: mib(after.rss - after.heapTotal - (before.rss - before.heapTotal)),
    }),
  );
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
