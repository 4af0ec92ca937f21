// Attach/detach, concurrency and memory in the lab: openiscsi against the iscsiadm sequence a connector runs.
import * as path from 'node:path';
import { repoRoot, startLab } from '../test/lab/lab';

type Stats = { median: number; min: number; max: number };
export interface AttachResults {
  attach: {
    rounds: number;
    openiscsi: { attachMs: Stats; detachMs: Stats; iscsidLoginMs: Stats; deviceWaitMs: Stats; oursMs: Stats; phaseMedianMs: Record<string, number> };
    iscsiadm: { attachMs: Stats; detachMs: Stats };
    attachRatio: number;
    detachRatio: number;
    overheadShare: number;
  };
  storm: {
    volumes: number;
    openiscsi: { attachMs: number; detachMs: number };
    iscsiadm: { attachMs: number; detachMs: number };
    attachRatio: number;
    iscsiadmRetries: { attach: number; total: number };
    iscsiadmFailures: { count: number; examples: string[] };
    eventLoopDelayMs: { p50: number; p99: number; max: number };
    eventLoopDelayWhileIscsiadmMs: { p50: number; p99: number; max: number };
    eventLoopUtilization: number;
    profileTopSelfMs?: Array<{ fn: string; ms: number }>;
  };
  memory: { cycles: number; rssBeforeMiB: number; rssAfterMiB: number; samplesMiB: number[] };
}

export async function benchAttach(rounds: number, volumes: number, cycles: number, write: (name: string, data: unknown) => void): Promise<AttachResults> {
  const targets = Array.from({ length: volumes }, (_, i) => ({ iqn: `iqn.2026-11.org.openiscsi:bench.v${i}`, luns: 1, lunSizeMiB: 8 }));
  const lab = await startLab({ targets, onProgress: (m) => console.log(`  lab: ${m}`) });
  const guest = path.join(repoRoot, 'bench', 'guest-attach.js');
  try {
    const t0 = targets[0]!.iqn;
    console.log(`  attach/detach: ${rounds} interleaved rounds`);
    const attach = await lab.call<AttachResults['attach']>(guest, 'attach', [rounds, lab.portal, t0], { timeoutMs: 1_200_000 });
    printOne(attach);
    write('attach-single', attach);
    console.log(`  storm: ${volumes} volumes at once, each way`);
    const profile = process.env.BENCH_PROFILE === '1';
    const storm = await lab.call<AttachResults['storm']>(guest, 'storm', [lab.portal, targets.map((t) => t.iqn), profile], { timeoutMs: 1_200_000 });
    printStorm(storm);
    if (storm.profileTopSelfMs) console.log(`  CPU profile of our attaches, self time:\n${storm.profileTopSelfMs.map((x) => `    ${x.ms.toFixed(1).padStart(8)} ms  ${x.fn}`).join('\n')}`);
    write('attach-storm', storm);
    console.log(`  memory: ${cycles} attach/detach cycles`);
    const memory = await lab.call<AttachResults['memory']>(guest, 'memory', [cycles, lab.portal, t0], { timeoutMs: 1_800_000 });
    console.log(`  memory: RSS ${memory.rssBeforeMiB.toFixed(1)} MiB → ${memory.rssAfterMiB.toFixed(1)} MiB after ${memory.cycles} attach/detach cycles (every tenth: ${memory.samplesMiB.join(', ')})`);
    write('attach-memory', memory);
    return { attach, storm, memory };
  } finally {
    await lab.stop();
  }
}

const f = (n: number) => `${n.toFixed(0).padStart(6)} ms`;

function printOne(a: AttachResults['attach']): void {
  console.log('\n  one volume            openiscsi (median)   iscsiadm sequence (median)   ratio');
  console.log(`  attach              ${f(a.openiscsi.attachMs.median)}            ${f(a.iscsiadm.attachMs.median)}              ${a.attachRatio.toFixed(1)}x`);
  console.log(`  detach              ${f(a.openiscsi.detachMs.median)}            ${f(a.iscsiadm.detachMs.median)}              ${a.detachRatio.toFixed(1)}x`);
  console.log(`  of the attach: iscsid+kernel LOGIN ${f(a.openiscsi.iscsidLoginMs.median)}, kernel attaching the disk ${f(a.openiscsi.deviceWaitMs.median)}, ours ${f(a.openiscsi.oursMs.median)} (${(a.overheadShare * 100).toFixed(0)}%)`);
  console.log(`  connect() phases (median ms): ${Object.entries(a.openiscsi.phaseMedianMs).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
}

function printStorm(s: AttachResults['storm']): void {
  console.log(`\n  ${s.volumes} volumes at once: attach ${f(s.openiscsi.attachMs)} vs ${f(s.iscsiadm.attachMs)} (${s.attachRatio.toFixed(1)}x; iscsiadm needed ${s.iscsiadmRetries.attach} retries on exit 6 and ${s.iscsiadmFailures.count} of ${s.volumes} attaches still failed); event loop delay p99 ${s.eventLoopDelayMs.p99.toFixed(1)} ms, max ${s.eventLoopDelayMs.max.toFixed(1)} ms (busy ${(s.eventLoopUtilization * 100).toFixed(0)}% of the time); the same process idle while the iscsiadm storm runs: p99 ${s.eventLoopDelayWhileIscsiadmMs.p99.toFixed(1)} ms, max ${s.eventLoopDelayWhileIscsiadmMs.max.toFixed(1)} ms`);
}
