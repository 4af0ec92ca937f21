// The lab demo: a real kernel initiator in QEMU with the offload transports registered and no offload
// hardware. The openiscsi CLI, run inside the guest, shows the transports and ifaces, is asked for cxgb4i,
// watches the hardware check fail, falls back to software TCP, logs in and finds the disk.
import { repoRoot, startLab, type Lab } from './lab';
import * as path from 'node:path';

const t0 = Date.now();
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s]`;
const step = (msg: string) => console.log(`\n${stamp()} ${msg}`);
const cli = path.join(repoRoot, 'dist', 'cli.js');

async function show(lab: Lab, args: string): Promise<string> {
  console.log(`  $ openiscsi ${args}`);
  const r = await lab.sh(`node ${cli} ${args}`, { timeoutMs: 180_000 });
  const text = `${r.stderr}${r.stdout}`.trimEnd();
  console.log(text.replace(/^/gm, '    '));
  if (r.code !== 0 && !args.startsWith('check')) throw new Error(`openiscsi ${args} exited ${r.code}`);
  return r.stdout;
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
    step('the transports the guest kernel registered (offload drivers loaded, no offload hardware):');
    await show(lab, 'transports');
    step('the ifaces libopeniscsiusr knows:');
    await show(lab, 'ifaces');
    step('asking for cxgb4i: the hardware check first');
    await show(lab, 'check cxgb4i');
    step('connect with transport cxgb4i: check fails, fall back to tcp, discover, log in, wait for the disk');
    const out = await show(lab, `connect --portal ${lab.portal} --target iqn.2026-11.org.openiscsi:demo.db --transport cxgb4i --lun 1`);
    const sid = /in session (\d+)/.exec(out)?.[1];
    step('the session, as openiscsi reads it from sysfs (the same record libopeniscsiusr gives):');
    await show(lab, 'sessions');
    step('disconnect: flush and remove the disk, log out');
    await show(lab, `disconnect --sid ${sid}`);
    step('done; powering the guest off');
  } finally {
    await lab?.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
