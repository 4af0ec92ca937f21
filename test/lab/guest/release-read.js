// Test code only: the read path run by node on another release's libraries (test/lab/releases.ts readInRoot
// runs it chrooted into that release's root, node and the checkout seen under /host). Prints one JSON line:
// ifaces() and nodes() (or the error), the glibc this process runs on (its libc's version string), and the
// libopeniscsiusr and libc files it has mapped (the root's own, not the host's, which would be under /host).
//   node release-read.js <package entry>
'use strict';
const fs = require('node:fs');
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const mapped = () =>
  [...new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5]).filter((p) => p && /\/(libopeniscsiusr\.so|libc\.so|libc-[\d.]+\.so)/.test(p)))].sort();
// (process.report would tell the glibc version too, at seconds' cost under emulation)
const libc = mapped().find((p) => /\/libc(\.so\.6|-[\d.]+\.so)$/.test(p));
const glibc = libc && /release version (\d+\.\d+)/.exec(fs.readFileSync(libc, 'latin1'))?.[1];
(async () => {
  const lib = require(process.argv[2]);
  const ifaces = await lib.ifaces();
  const nodes = await lib.nodes();
  out({ glibc, ifaces, nodes, mapped: mapped() });
})().catch((e) => out({ glibc, error: { code: e.code, message: e.message }, mapped: mapped() }));
