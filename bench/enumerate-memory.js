// Host side, in a private mount namespace over a fake sysfs (see bench/run.ts): RSS growth over N
// enumerations through the addon and libopeniscsiusr, on a real CPU.
'use strict';
const path = require('node:path');
const pkg = require(path.resolve(__dirname, '..', 'dist', 'index.js'));

async function main() {
  const n = Number(process.argv[2] || 100000);
  for (let i = 0; i < 2000; i++) await Promise.all([pkg.sessions(), pkg.ifaces()]);
  global.gc?.();
  const before = process.memoryUsage().rss;
  const t0 = Date.now();
  for (let i = 0; i < n; i++) await Promise.all([pkg.sessions(), pkg.ifaces()]);
  const ms = Date.now() - t0;
  global.gc?.();
  const after = process.memoryUsage().rss;
  console.log(JSON.stringify({ calls: n, sessions: (await pkg.sessions()).length, perCallUs: (ms * 1000) / n, rssBeforeMiB: before / 2 ** 20, rssAfterMiB: after / 2 ** 20 }));
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
