// Runs inside the mount namespace that bench/read-mechanisms.ts sets up (a session-shaped tree of real
// kernfs files over /sys): A/B cases of the read path's mechanisms, each case's arms interleaved call by
// call in this one process (order alternating every round), medians and per-round spread.
// argv[2]: JSON { variants: { name: packageDir }, rounds, calls, sessions }.
'use strict';
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const cfg = JSON.parse(process.argv[2]);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Every variant is a package directory (dist/ and build/Release/ of one commit); each loads its own addon.
const pkgs = {};
for (const [name, dir] of Object.entries(cfg.variants)) {
  pkgs[name] = {
    dir,
    pkg: require(path.join(dir, 'dist', 'index.js')),
    addon: require(path.join(dir, 'build', 'Release', 'openiscsi.node')),
    deadline: require(path.join(dir, 'dist', 'deadline.js')),
  };
}

/** Interleaves the arms ({ name, run, before? }) call by call; `before` runs untimed ahead of each call. */
async function ab(title, arms, { rounds = cfg.rounds, calls = cfg.calls, warmup = 20 } = {}) {
  for (const a of arms) for (let i = 0; i < warmup; i++) { if (a.before) await a.before(); await a.run(); }
  const times = arms.map(() => []);
  const cpus = arms.map(() => []);
  const perRound = arms.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...arms.keys()].reverse() : [...arms.keys()];
    const round = arms.map(() => []);
    for (let c = 0; c < calls; c++) {
      for (const i of order) {
        const a = arms[i];
        if (a.before) await a.before();
        const c = process.cpuUsage();
        const t = now();
        await a.run();
        round[i].push(now() - t);
        const d = process.cpuUsage(c);
        cpus[i].push((d.user + d.system) / 1000);
      }
    }
    round.forEach((xs, i) => { times[i].push(...xs); perRound[i].push(median(xs)); });
  }
  const out = { title, rounds, calls, arms: {} };
  arms.forEach((a, i) => {
    out.arms[a.name] = { medianMs: median(times[i]), cpuMs: median(cpus[i]), roundMedianMs: { min: Math.min(...perRound[i]), max: Math.max(...perRound[i]) } };
  });
  // Per round: each arm's median against the first arm's.
  for (let i = 1; i < arms.length; i++) {
    const d = perRound[i].map((x, r) => x - perRound[0][r]);
    out.arms[arms[i].name].minusFirstMs = { median: median(d), min: Math.min(...d), max: Math.max(...d) };
  }
  console.error(`${title}: ${arms.map((a) => `${a.name} ${out.arms[a.name].medianMs.toFixed(3)} ms (cpu ${out.arms[a.name].cpuMs.toFixed(3)})`).join(', ')}`);
  return out;
}

/** A deadline with a timer of its own per call: what lib/deadline.ts's shared timer is measured against. */
function perCallDeadline(errors) {
  return function withDeadline(work, what, o, defaultTimeoutMs) {
    const timeoutMs = o.timeoutMs ?? defaultTimeoutMs;
    if (o.signal?.aborted) { work.catch(() => {}); return Promise.reject(new errors.IscsiAbortError(`${what} was aborted`)); }
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (action) => { if (settled) return; settled = true; clearTimeout(timer); o.signal?.removeEventListener('abort', onAbort); action(); };
      const onAbort = () => finish(() => reject(new errors.IscsiAbortError(`${what} was aborted`)));
      const timer = setTimeout(() => finish(() => reject(new errors.IscsiTimeoutError('TIMEOUT', `${what} did not finish within ${timeoutMs} ms`))), Math.min(2 ** 31 - 1, Math.max(1, timeoutMs)));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      work.then((v) => finish(() => resolve(v)), (e) => finish(() => reject(e)));
    });
  };
}

async function main() {
  const results = { sessions: cfg.sessions, cases: [] };
  const cur = pkgs[cfg.current];
  // Whether each variant's result equals the current code's (a variant that reads other files, such as
  // vendor/model/rev instead of inquiry, reads other values on this tree: the host's, not a disk's).
  const sameAsCurrent = async (names) => {
    const want = JSON.stringify(await cur.pkg.sessions());
    const same = {};
    for (const n of names) same[n] = JSON.stringify(await pkgs[n].pkg.sessions()) === want;
    return same;
  };
  const listed = await cur.pkg.sessions();
  if (listed.length !== cfg.sessions) throw new Error(`expected ${cfg.sessions} sessions on the tree, read ${listed.length}`);
  results.devices = listed.reduce((n, s) => n + s.devices.length, 0);

  // 1. Every variant's whole sessions() call, warm, against the current code's.
  const names = Object.keys(pkgs);
  results.sameResultAsCurrent = await sameAsCurrent(names);
  // Pairwise, each variant against the current code (two arms at a time: alternating among all of them
  // would measure their caches evicting each other's, which one process with one addon never sees).
  for (const n of names.filter((x) => x !== cfg.current)) {
    results.cases.push(await ab(`sessions(): ${n} against the current code`, [
      { name: cfg.current, run: () => cur.pkg.sessions() },
      { name: n, run: () => pkgs[n].pkg.sessions() },
    ]));
  }

  // 2. Kept descriptors: warm against every call cold (the descriptors released before it, untimed).
  results.cases.push(await ab('kept descriptors', [
    { name: 'kept', run: () => cur.pkg.sessions() },
    { name: 'released before each call', before: () => cur.addon.releaseSysfsFds(), run: () => cur.pkg.sessions() },
  ]));

  // 3. The idle-release timer: sessions() with it, and through a binding without releaseSysfsFds (no timer).
  const noRelease = { getSessions: (o) => cur.addon.getSessions(o), getSession: (s, o) => cur.addon.getSession(s, o) };
  results.cases.push(await ab('idle-release timer', [
    { name: 'with', run: () => cur.pkg.sessions() },
    { name: 'without', run: () => cur.pkg.sessions({ binding: noRelease }) },
  ]));

  // 4. The deadline: lib/deadline.ts as it is against another, swapped in for the B arm: the base commit's
  // (one shared timer for every pending deadline, before issue 21) when a base was built, else the copy
  // of a timer per call above.
  const errors = require(path.join(cur.dir, 'dist', 'errors.js'));
  const shared = cur.deadline.withDeadline;
  const other = pkgs.base ? pkgs.base.deadline.withDeadline : perCallDeadline(errors);
  results.cases.push(await ab('deadline timer', [
    { name: 'lib/deadline.ts', before: () => { cur.deadline.withDeadline = shared; }, run: () => cur.pkg.sessions() },
    { name: pkgs.base ? "base's shared timer" : 'a timer per call (copy)', before: () => { cur.deadline.withDeadline = other; }, run: () => cur.pkg.sessions() },
  ]));
  cur.deadline.withDeadline = shared;

  // 5. Loading the package in a fresh process: as it is, and with every on-demand module loaded up front
  // (what an eager import of them costs); and a one-shot `sessions()` process both ways.
  const lazy = ['iscsid/login', 'discovery/discover', 'attach/hardware', 'attach/iface-admin', 'attach/resolve', 'attach/connect'].map((m) => path.join(cur.dir, 'dist', `${m}.js`));
  const idx = JSON.stringify(path.join(cur.dir, 'dist', 'index.js'));
  const node = (src) => () => execFileSync(process.execPath, ['-e', src], { stdio: ['ignore', 'ignore', 'inherit'] });
  const timeLoad = (eager) => `const t=process.hrtime.bigint();require(${idx});${eager ? lazy.map((m) => `require(${JSON.stringify(m)});`).join('') : ''}process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const loads = { lazy: [], eager: [] };
  for (let r = 0; r < cfg.processes; r++) {
    for (const k of r % 2 ? ['eager', 'lazy'] : ['lazy', 'eager']) {
      loads[k].push(Number(execFileSync(process.execPath, ['-e', timeLoad(k === 'eager')], { encoding: 'utf8' })));
    }
  }
  const oneShot = (eager) => `const m=require(${idx});${eager ? lazy.map((m) => `require(${JSON.stringify(m)});`).join('') : ''}m.sessions().then(()=>{})`;
  const proc = await ab('one-shot process: node -e "require(pkg).sessions()"', [
    { name: 'on demand (as is)', run: node(oneShot(false)) },
    { name: 'eager', run: node(oneShot(true)) },
    { name: 'node -e "" (node alone)', run: node('') },
  ], { rounds: cfg.processes, calls: 1, warmup: 2 });
  results.cases.push({ title: 'loading the package in a fresh process (require only)', arms: { 'on demand (as is)': { medianMs: median(loads.lazy), minMs: Math.min(...loads.lazy), maxMs: Math.max(...loads.lazy) }, eager: { medianMs: median(loads.eager), minMs: Math.min(...loads.eager), maxMs: Math.max(...loads.eager) } } });
  results.cases.push(proc);
  console.log(JSON.stringify(results));
}

main().catch((e) => {
  console.error(e?.stack ?? e);
  process.exit(1);
});
