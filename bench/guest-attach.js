// Runs inside the lab guest. Attach and detach of one LUN, openiscsi against the sequence an
// os-brick-style connector runs with iscsiadm (discovery, node show/update, login, session listing,
// scan, device wait; detach: flush, delete, logout, node delete), A and B interleaved.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const inspector = require('node:inspector');
const path = require('node:path');

const pkg = require(path.resolve(__dirname, '..', 'dist', 'index.js'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const now = () => Number(process.hrtime.bigint()) / 1e6;

// Like os-brick, retry an iscsiadm call that fails with exit 6 (database failure: a concurrent iscsiadm
// held the node database); each retry is counted on stderr.
const RETRY = `run() { for i in 1 2 3 4 5 6 7 8; do "$@" && return 0; rc=$?; [ $rc -eq 6 ] || return $rc; echo RETRY >&2; sleep 0.$i; done; return $rc; }`;

/** The iscsiadm attach, as a shell script (one process per iscsiadm call, like the connectors). */
function attachScript(portal, target) {
  return `set -e
${RETRY}
# discovery rewrites every record of the portal: connectors serialise it, so does this script
run flock /run/lock/bench-discovery iscsiadm -m discovery -t sendtargets -p ${portal} >/dev/null
run iscsiadm -m node -T ${target} -p ${portal} >/dev/null
run iscsiadm -m node -T ${target} -p ${portal} --op update -n node.session.scan -v manual
run iscsiadm -m node -T ${target} -p ${portal} --op update -n node.startup -v manual
run iscsiadm -m node -T ${target} -p ${portal} --login >/dev/null
sid=$(iscsiadm -m session | awk -v t=${target} '$4 == t { gsub(/[\\[\\]]/, "", $2); print $2 }')
host=$(readlink -f /sys/class/iscsi_session/session$sid/device | sed 's|.*/host\\([0-9]*\\)/session.*|\\1|')
echo "0 0 1" > /sys/class/scsi_host/host$host/scan
for i in $(seq 400); do
  dev=$(ls /sys/class/iscsi_session/session$sid/device/target*/*:1/block 2>/dev/null | head -1)
  [ -n "$dev" ] && [ -b /dev/$dev ] && break
  sleep 0.01
done
[ -b /dev/$dev ] && echo $dev`;
}

function detachScript(portal, target, dev) {
  return `set -e
${RETRY}
blockdev --flushbufs /dev/${dev}
echo 1 > /sys/block/${dev}/device/delete
run iscsiadm -m node -T ${target} -p ${portal} --logout >/dev/null
run iscsiadm -m node -T ${target} -p ${portal} --op delete`;
}

let retries = 0;

function sh(script) {
  return new Promise((resolve, reject) => {
    const c = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => {
      retries += (err.match(/^RETRY$/gm) || []).length;
      if (code === 0) resolve(out.trim());
      else reject(new Error(`script failed (${code}): ${err}`));
    });
  });
}

/** `rounds` interleaved attach+detach pairs on one target. */
async function attach(rounds, portal, target) {
  const a = { attach: [], detach: [], iscsid: [], kernelWait: [], ours: [], phases: [] };
  const b = { attach: [], detach: [] };
  for (let i = 0; i < rounds; i++) {
    let t = now();
    const r = await pkg.connect({ target, portal, lun: 1 });
    a.attach.push(now() - t);
    a.iscsid.push(r.timings.iscsidMs);
    a.kernelWait.push(r.timings.deviceWaitMs);
    a.ours.push(now() - t - r.timings.iscsidMs - r.timings.deviceWaitMs);
    a.phases.push(r.timings);
    t = now();
    await pkg.disconnect({ sid: r.session.sid });
    a.detach.push(now() - t);

    t = now();
    const dev = await sh(attachScript(portal, target));
    b.attach.push(now() - t);
    t = now();
    await sh(detachScript(portal, target, dev));
    b.detach.push(now() - t);
  }
  return {
    rounds,
    openiscsi: {
      attachMs: stats(a.attach),
      detachMs: stats(a.detach),
      iscsidLoginMs: stats(a.iscsid),
      deviceWaitMs: stats(a.kernelWait),
      oursMs: stats(a.ours),
      // connect()'s own per-phase timings (medians), to see where our share goes
      phaseMedianMs: Object.fromEntries(Object.keys(a.phases[0] ?? {}).map((k) => [k, median(a.phases.map((p) => p[k]))])),
    },
    iscsiadm: { attachMs: stats(b.attach), detachMs: stats(b.detach) },
    attachRatio: median(b.attach) / median(a.attach),
    detachRatio: median(b.detach) / median(a.detach),
    overheadShare: median(a.ours) / median(a.attach),
  };
}

const post = (session, method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));

/** Runs fn under V8's CPU profiler; returns its result and the functions with the most self time. */
async function profiled(fn) {
  const session = new inspector.Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 500 });
  await post(session, 'Profiler.start');
  const result = await fn();
  const { profile } = await post(session, 'Profiler.stop');
  session.disconnect();
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  for (const [id, ms] of dt) {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url || '')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + ms);
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([fn, ms]) => ({ fn, ms: Math.round(ms * 10) / 10 }));
  return { result, top };
}

/** All targets at once: total time, and the event loop's delay while openiscsi's attaches run. */
async function storm(portal, targets, profile = false) {
  retries = 0;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const elu0 = performance.eventLoopUtilization();
  let t = now();
  const attachAll = () => Promise.all(targets.map((target) => pkg.connect({ target, portal, lun: 1 })));
  const { result: results, top } = profile ? await profiled(attachAll) : { result: await attachAll(), top: undefined };
  const oursAttach = now() - t;
  h.disable();
  // the share of the storm our JS thread was busy (not waiting in epoll)
  const elu = performance.eventLoopUtilization(elu0).utilization;
  t = now();
  await Promise.all(results.map((r) => pkg.disconnect({ sid: r.session.sid })));
  const oursDetach = now() - t;
  // The same histogram while the iscsiadm storm runs: this process then only waits for children, so its
  // delays are the machine's (32 logins and scans on 2 emulated CPUs), the baseline to compare ours with.
  const base = monitorEventLoopDelay({ resolution: 1 });
  base.enable();
  t = now();
  const attached = await Promise.allSettled(targets.map((target) => sh(attachScript(portal, target))));
  const theirsAttach = now() - t;
  base.disable();
  const attachRetries = retries;
  const failures = attached.filter((r) => r.status === 'rejected').map((r) => String(r.reason).split('\n').slice(-3).join(' '));
  t = now();
  await Promise.allSettled(targets.map((target, i) => (attached[i].status === 'fulfilled' ? sh(detachScript(portal, target, attached[i].value)) : Promise.resolve())));
  const theirsDetach = now() - t;
  // leave nothing behind for the next section, whatever failed
  await sh('iscsiadm -m node -u >/dev/null 2>&1; iscsiadm -m node -o delete >/dev/null 2>&1; true');
  return {
    volumes: targets.length,
    openiscsi: { attachMs: oursAttach, detachMs: oursDetach },
    iscsiadm: { attachMs: theirsAttach, detachMs: theirsDetach },
    attachRatio: theirsAttach / oursAttach,
    iscsiadmRetries: { attach: attachRetries, total: retries },
    iscsiadmFailures: { count: failures.length, examples: failures.slice(0, 3) },
    eventLoopDelayMs: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 },
    eventLoopDelayWhileIscsiadmMs: { p50: base.percentile(50) / 1e6, p99: base.percentile(99) / 1e6, max: base.max / 1e6 },
    eventLoopUtilization: elu,
    ...(top ? { profileTopSelfMs: top } : {}),
  };
}

/** The agent runs without --expose-gc; a full GC before each RSS reading keeps garbage out of the figure. */
function fullGc() {
  require('node:v8').setFlagsFromString('--expose-gc');
  require('node:vm').runInNewContext('gc')();
}

/** RSS before and after `cycles` attach/detach cycles (after a warm-up of 10), sampled every tenth. */
async function memory(cycles, portal, target) {
  const cycle = async () => {
    const r = await pkg.connect({ target, portal, lun: 1 });
    await pkg.disconnect({ sid: r.session.sid });
  };
  for (let i = 0; i < 10; i++) await cycle();
  fullGc();
  const before = process.memoryUsage().rss;
  const samplesMiB = [];
  for (let i = 0; i < cycles; i++) {
    await cycle();
    if ((i + 1) % Math.max(1, Math.floor(cycles / 10)) === 0) {
      fullGc();
      samplesMiB.push(+(process.memoryUsage().rss / 2 ** 20).toFixed(1));
    }
  }
  fullGc();
  return { cycles, rssBeforeMiB: before / 2 ** 20, rssAfterMiB: process.memoryUsage().rss / 2 ** 20, samplesMiB };
}

module.exports = { attach, storm, memory, execFileSync, sh, stats, median, now };
