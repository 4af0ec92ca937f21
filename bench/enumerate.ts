// Enumeration benchmark in the lab: N sessions of 2 LUNs each, openiscsi against spawning iscsiadm for the
// same facts, inside the same guest (a real kernel under software emulation: absolute times are slow,
// the ratios are what count). Writes bench/results/enumerate-<sessions>.json and prints a table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, startLab } from '../test/lab/lab';

interface CaseResult {
  oursMs: { median: number; min: number; max: number };
  /** The same call back to back after the interleaved rounds, and iscsiadm's median over it. */
  steadyMs: { median: number; min: number; max: number };
  steadyRatio: number;
  iscsiadmMs: { median: number; min: number; max: number };
  ratio: number;
  roundRatios: { median: number; min: number; max: number };
  iscsiadm: string;
  rounds: number;
}

export async function benchEnumerate(sessionCounts: number[], rounds: number): Promise<Record<string, Record<string, CaseResult>>> {
  const results: Record<string, Record<string, CaseResult>> = {};
  for (const n of sessionCounts) {
    const targets = Array.from({ length: n }, (_, i) => ({ iqn: `iqn.2026-11.org.openiscsi:bench.e${i}`, luns: 2, lunSizeMiB: 8 }));
    const lab = await startLab({ targets, memoryMiB: 2048, onProgress: (m) => console.log(`  lab: ${m}`) });
    try {
      console.log(`  logging in to ${n} target(s) with iscsiadm`);
      await lab.shOk(`iscsiadm -m discovery -t st -p ${lab.portal} >/dev/null && iscsiadm -m node -p ${lab.portal} --login >/dev/null`, { timeoutMs: 600_000 });
      const count = Number((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim());
      if (count !== n) throw new Error(`expected ${n} sessions, the guest has ${count}`);
      results[String(n)] = await lab.call<Record<string, CaseResult>>(path.join(repoRoot, 'bench', 'guest-enumerate.js'), 'run', [rounds], { timeoutMs: 900_000 });
      printEnumerate({ [String(n)]: results[String(n)]! });
    } finally {
      await lab.stop();
    }
  }
  return results;
}

export function printEnumerate(results: Record<string, Record<string, CaseResult>>): void {
  console.log('\n  sessions  call        openiscsi (median)  iscsiadm (median)  ratio  (per-round min..max)   back to back: openiscsi  ratio');
  for (const [n, cases] of Object.entries(results)) {
    for (const [name, r] of Object.entries(cases)) {
      console.log(
        `  ${n.padStart(8)}  ${name.padEnd(10)}  ${r.oursMs.median.toFixed(2).padStart(15)} ms  ${r.iscsiadmMs.median.toFixed(2).padStart(14)} ms  ${r.ratio.toFixed(1).padStart(5)}x  (${r.roundRatios.min.toFixed(1)}..${r.roundRatios.max.toFixed(1)})`.padEnd(92) +
          `${r.steadyMs.median.toFixed(2).padStart(8)} ms  ${r.steadyRatio.toFixed(1).padStart(5)}x`,
      );
    }
  }
}

export function writeResult(name: string, data: unknown): string {
  const dir = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), ...(data as object) }, null, 2)}\n`);
  return file;
}
