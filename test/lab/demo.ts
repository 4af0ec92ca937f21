// The lab demo: boots a real kernel initiator, creates targets, logs in with iscsiadm (the incumbent),
// and shows what openiscsi, loaded inside the guest, sees: transports, ifaces, sessions.
import { packageEntry, startLab, type Lab } from './lab';

const t0 = Date.now();
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s]`;
const step = (msg: string) => console.log(`${stamp()} ${msg}`);

function table(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '  (none)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (v === '' || v === undefined || v === null ? '-' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => '  ' + vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

async function main(): Promise<void> {
  let lab: Lab | undefined;
  try {
    lab = await startLab({
      offloadModules: true,
      targets: [
        { iqn: 'iqn.2026-11.org.openiscsi:demo.db', luns: 2 },
        { iqn: 'iqn.2026-11.org.openiscsi:demo.logs', luns: 2 },
      ],
      onProgress: step,
    });
    step(`logging in to iqn.2026-11.org.openiscsi:demo.db with iscsiadm (inside the guest)`);
    await lab.shOk(`iscsiadm -m discovery -t st -p ${lab.portal} >/dev/null && iscsiadm -m node -T iqn.2026-11.org.openiscsi:demo.db -p ${lab.portal} --login >/dev/null`);

    step('what openiscsi sees inside the guest:');
    let transports = await lab.call<Array<Record<string, unknown>>>(packageEntry, 'transports').catch(() => undefined);
    if (!transports) {
      const raw = await lab.shOk('for t in /sys/class/iscsi_transport/*; do echo "$(basename $t) $(cat $t/caps)"; done');
      transports = raw.trim().split('\n').map((l) => ({ name: l.split(' ')[0], caps: l.split(' ')[1] }));
    }
    console.log(`\nTransports registered by the kernel (${transports.length}):\n${table(transports.map((t) => ({ name: t.name, caps: t.caps, flags: Array.isArray(t.flags) ? t.flags.join(',') : '' })))}`);

    const ifaces = await lab.call<Array<Record<string, unknown>>>(packageEntry, 'ifaces');
    console.log(`\nIfaces (${ifaces.length}):\n${table(ifaces.map((i) => ({ name: i.name, transport: i.transport, hwaddress: i.hwaddress, ipaddress: i.ipaddress, netdev: i.netdev })))}`);

    const sessions = await lab.call<Array<Record<string, unknown> & { iface: Record<string, unknown>; devices?: Array<Record<string, unknown>> }>>(packageEntry, 'sessions');
    console.log(`\nSessions (${sessions.length}):\n${table(sessions.map((s) => ({ sid: s.sid, target: s.targetName, portal: `${s.address}:${s.port},${s.tpgt}`, iface: s.iface.name, transport: s.iface.transport, state: s.state ?? '' })))}`);
    for (const s of sessions) {
      if (s.devices?.length) {
        console.log(`\nDevices of session ${s.sid}:\n${table(s.devices.map((d) => ({ hctl: d.hctl, state: d.state, vendor: d.vendor, model: d.model, block: d.blockDevice, bytes: d.sizeBytes })))}`);
      }
    }
    step('done; powering the guest off');
  } finally {
    await lab?.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
