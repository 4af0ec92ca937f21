// Runs inside the lab guest: the same facts through openiscsi and through a spawned iscsiadm, A and B
// interleaved so both see the same machine state. Bench code may spawn; the library never does.
'use strict';
const { execFileSync } = require('node:child_process');
const { access } = require('node:fs/promises');
const path = require('node:path');

const pkg = require(path.resolve(__dirname, '..', 'dist', 'index.js'));

const cases = {
  sessions: { ours: () => pkg.sessions(), theirs: ['iscsiadm', '-m', 'session', '-P', '3'] },
  ifaces: { ours: () => pkg.ifaces(), theirs: ['iscsiadm', '-m', 'iface'] },
  nodes: { ours: () => pkg.nodes(), theirs: ['iscsiadm', '-m', 'node'] },
  // Not openiscsi: one trip to libuv's thread pool and back that does nothing, timed right after the same
  // spawn as ifaces(). Its ratio is the most that any call which keeps the event loop free can reach here.
  floor: { ours: () => access('/'), theirs: ['iscsiadm', '-m', 'iface'] },
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const spread = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

async function time(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** For each case: `rounds` interleaved pairs; medians, min/max, the ratio of medians and the per-round ratios' spread. */
async function run(rounds = 15, names = Object.keys(cases)) {
  const out = {};
  for (const name of names) {
    const c = cases[name];
    await c.ours(); // warm the addon and the page cache once for both
    execFileSync(c.theirs[0], c.theirs.slice(1), { stdio: 'ignore' });
    const a = [];
    const b = [];
    for (let i = 0; i < rounds; i++) {
      a.push(await time(c.ours));
      b.push(await time(async () => execFileSync(c.theirs[0], c.theirs.slice(1), { stdio: 'ignore' })));
    }
    // The same call back to back, after the rounds: what it costs when it does not follow a process start
    // (under emulation a spawn slows the next call of any kind; see the floor row).
    const steady = [];
    for (let i = 0; i < 5; i++) await c.ours();
    for (let i = 0; i < 3 * rounds; i++) steady.push(await time(c.ours));
    out[name] = {
      oursMs: { median: median(a), min: Math.min(...a), max: Math.max(...a) },
      steadyMs: spread(steady),
      steadyRatio: median(b) / median(steady),
      iscsiadmMs: { median: median(b), min: Math.min(...b), max: Math.max(...b) },
      ratio: median(b) / median(a),
      // The spread: each round's own ratio (its iscsiadm time over its openiscsi time).
      roundRatios: spread(a.map((x, i) => b[i] / x)),
      iscsiadm: c.theirs.join(' '),
      rounds,
    };
  }
  return out;
}

module.exports = { run };
