// Two-path multipath attach/detach in the lab: openiscsi against the os-brick-style sequence, interleaved.
import * as path from 'node:path';
import { repoRoot, startLab } from '../test/lab/lab';
import { SECOND_PORTAL, startMultipath } from '../test/lab/multipath-setup';

type Stats = { median: number; min: number; max: number };
export interface MultipathBench {
  rounds: number;
  openiscsi: { attachMs: Stats; detachMs: Stats; phasesMs: { pathsMs: number; addPathMs: number; mapWaitMs: number; statesMs: number } };
  iscsiadm: { attachMs: Stats; detachMs: Stats };
  attachRatio: number;
  detachRatio: number;
}

export async function benchMultipath(rounds: number): Promise<MultipathBench> {
  const target = 'iqn.2026-12.org.openiscsi:bench.mp';
  const lab = await startLab({ targets: [{ iqn: target, luns: 1, lunSizeMiB: 8 }], onProgress: (m) => console.log(`  lab: ${m}`) });
  try {
    await startMultipath(lab);
    const r = await lab.call<MultipathBench>(path.join(repoRoot, 'bench', 'guest-multipath.js'), 'multipath', [rounds, [lab.portal, SECOND_PORTAL], target], { timeoutMs: 1_800_000 });
    const f = (n: number) => `${n.toFixed(0).padStart(6)} ms`;
    console.log('\n  two paths, one map     openiscsi (median)   os-brick-style sequence (median)   ratio');
    console.log(`  attach                ${f(r.openiscsi.attachMs.median)}            ${f(r.iscsiadm.attachMs.median)}                    ${r.attachRatio.toFixed(1)}x`);
    console.log(`  detach                ${f(r.openiscsi.detachMs.median)}            ${f(r.iscsiadm.detachMs.median)}                    ${r.detachRatio.toFixed(1)}x`);
    const p = r.openiscsi.phasesMs;
    console.log(`  openiscsi's attach (medians): paths' connect() ${p.pathsMs.toFixed(0)} ms, multipathd add path ${p.addPathMs.toFixed(0)} ms, map wait ${p.mapWaitMs.toFixed(0)} ms, path states ${p.statesMs.toFixed(0)} ms`);
    return r;
  } finally {
    await lab.stop();
  }
}
