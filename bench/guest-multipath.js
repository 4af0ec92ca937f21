// Runs inside the lab guest. A two-path attach and detach: openiscsi's connect({ portals, multipath }) and
// disconnectMultipath() against the sequence an os-brick-style connector runs (iscsiadm discovery and
// logins on both portals in parallel, a scan, waiting for both devices, `multipath -a`, `multipathd add
// path`, waiting for the map; detach: `multipath -f`, flush and delete each path, logouts, node deletes),
// A and B interleaved.
'use strict';
const path = require('node:path');
// the same shell runner and statistics as the single-path bench
const { sh, stats, median, now } = require('./guest-attach');

const pkg = require(path.resolve(__dirname, '..', 'dist', 'index.js'));

// The lab's multipathd runs in a mount namespace of its own, with a writable /etc (multipath.conf, wwids;
// test/lab/multipath-setup.ts): the `multipath` tool runs there too, as it would on a host's one /etc
// (-r -w: the guest's root is a chroot, not its mount namespace's root).
const MP = 'nsenter -t $(pidof multipathd) -m -r -w multipath';

const loginOne = (portal, target) => `(
  iscsiadm -m discovery -t sendtargets -p ${portal} >/dev/null
  iscsiadm -m node -T ${target} -p ${portal} --op update -n node.session.scan -v manual
  iscsiadm -m node -T ${target} -p ${portal} --login >/dev/null
)`;

function attachScript(portals, target) {
  return `set -e
${portals.map((p) => `${loginOne(p, target)} &`).join('\n')}
wait
devs=""
for sid in $(iscsiadm -m session | awk -v t=${target} '$4 == t { gsub(/[\\[\\]]/, "", $2); print $2 }'); do
  host=$(readlink -f /sys/class/iscsi_session/session$sid/device | sed 's|.*/host\\([0-9]*\\)/session.*|\\1|')
  echo "0 0 1" > /sys/class/scsi_host/host$host/scan
  for i in $(seq 400); do
    dev=$(ls /sys/class/iscsi_session/session$sid/device/target*/*:1/block 2>/dev/null | head -1)
    [ -n "$dev" ] && [ -b /dev/$dev ] && break
    sleep 0.01
  done
  devs="$devs $dev"
done
# as os-brick does, the exit codes of these two are not checked (\`multipath -a\` of a known WWID fails)
for dev in $devs; do ${MP} -a /dev/$dev >/dev/null 2>&1 || true; multipathd add path $dev >/dev/null || true; done
# the same end state as openiscsi's: one map holding every device
first=\${devs# }; first=\${first%% *}; n=$(echo $devs | wc -w)
for i in $(seq 1200); do
  dm=$(ls /sys/block/$first/holders 2>/dev/null | head -1)
  [ -n "$dm" ] && [ -b /dev/$dm ] && [ "$(ls /sys/block/$dm/slaves | wc -l)" = "$n" ] && break
  sleep 0.05
done
echo "$dm $devs"`;
}

function detachScript(portals, target, dm, devs) {
  return `set -e
name=$(cat /sys/block/${dm}/dm/name)
${MP} -f $name >/dev/null
${devs.map((d) => `blockdev --flushbufs /dev/${d}; echo 1 > /sys/block/${d}/device/delete`).join('\n')}
${portals.map((p) => `iscsiadm -m node -T ${target} -p ${p} --logout >/dev/null; iscsiadm -m node -T ${target} -p ${p} --op delete`).join('\n')}`;
}

/** `rounds` interleaved two-path attach+detach pairs on one target. */
async function multipath(rounds, portals, target) {
  const a = { attach: [], detach: [], phases: [] };
  const b = { attach: [], detach: [] };
  // what multipathd and the kernel had when a step failed, so a failure says more than its error
  const why = async (i, step, e) => {
    const state = await sh('multipathd show paths; multipathd show maps; ls /sys/block; tail -n 30 /run/mp/multipathd.log').catch((x) => String(x));
    return new Error(`round ${i + 1}, ${step}: ${e.message}\n${state}`);
  };
  for (let i = 0; i < rounds; i++) {
    let t = now();
    const r = await pkg.connect({ target, portal: portals[0], portals, multipath: 'required', lun: 1 }).catch(async (e) => { throw await why(i, 'openiscsi attach', e); });
    a.attach.push(now() - t);
    if (!r.multipath || !r.multipath.map) throw new Error('openiscsi made no map');
    a.phases.push(r.multipath.timings);
    t = now();
    await pkg.disconnectMultipath({ map: r.multipath.map.dm });
    a.detach.push(now() - t);

    t = now();
    const [dm, ...devs] = (await sh(attachScript(portals, target)).catch(async (e) => { throw await why(i, 'os-brick attach', e); })).split(/\s+/);
    b.attach.push(now() - t);
    if (!/^dm-\d+$/.test(dm)) throw new Error(`the iscsiadm sequence made no map (${dm})`);
    t = now();
    await sh(detachScript(portals, target, dm, devs));
    b.detach.push(now() - t);
  }
  return {
    rounds,
    openiscsi: {
      attachMs: stats(a.attach),
      detachMs: stats(a.detach),
      // medians of connect()'s own breakdown (multipath.timings)
      phasesMs: Object.fromEntries(['pathsMs', 'addPathMs', 'mapWaitMs', 'statesMs'].map((k) => [k, median(a.phases.map((p) => p[k]))])),
    },
    iscsiadm: { attachMs: stats(b.attach), detachMs: stats(b.detach) },
    attachRatio: median(b.attach) / median(a.attach),
    detachRatio: median(b.detach) / median(a.detach),
  };
}

module.exports = { multipath };
