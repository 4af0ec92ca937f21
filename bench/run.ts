// `npm run bench`: enumeration (lab), attach/detach/storm/memory (lab), enumeration memory (host, fake
// sysfs), the read path's mechanisms A/B (host, real kernfs: bench/read-mechanisms.ts), multipath (lab). One
// table each; results in bench/results/<name>.json. BENCH=enumerate,attach,multipath,memory,read picks.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { benchEnumerate, writeResult } from './enumerate';
import { benchAttach } from './attach';
import { benchMultipath } from './multipath';
import { benchIser } from './iser';
import { repoRoot } from '../test/lab/lab';
import { FakeSys } from '../test/fixtures/fakesys';
import { benchReadMechanisms, printRead, READ_BASE } from './read-mechanisms';

type Ratio = { oursMs: number; iscsiadmMs: number; ratio: number; roundRatios: { min: number; max: number }; iscsiadm: string };
type MemoryRun = {
  ratios: Record<string, Ratio> | false; execArgv: string[]; newSpaceMiB: number; perCallUs: number; rssSamplesMiB: number[];
  rssBeforeMiB: number; rssAfterMiB: number; heapTotalBeforeMiB: number; heapTotalAfterMiB: number; heapUsedBeforeMiB: number;
  heapUsedAfterMiB: number; outsideHeapGrowthMiB: number; warmupPairs: number; heapTotalAtStartMiB: number;
};

function memoryOnHost(calls: number, sessions: number, nodeFlags: string[], scriptArgs: string[]): MemoryRun {
  const tree = new FakeSys().transport('tcp', 0x39);
  for (let i = 1; i <= sessions; i++) {
    tree.host({ hostNo: i, procName: 'iscsi_tcp', ipaddress: '192.0.2.1' }).session({
      hostNo: i, sid: i, targetName: `iqn.2026-11.org.openiscsi:mem${i}`, address: '192.0.2.10', port: 3260,
      luns: [{ lun: 0 }, { lun: 1, block: { name: `sd${String.fromCharCode(97 + (i % 26))}${i}`, dev: `8:${i}` } }, { lun: 2, block: { name: `sdz${i}`, dev: `65:${i}` } }],
    });
  }
  const script = ['set -e', `mount --bind ${tree.root} /sys`, 'mount -t tmpfs tmpfs /run/lock', `exec ${process.execPath} --expose-gc ${nodeFlags.join(' ')} ${path.join(repoRoot, 'bench', 'enumerate-memory.js')} ${calls} ${scriptArgs.join(' ')}`].join('\n');
  const out = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], { encoding: 'utf8' });
  tree.remove();
  if (out.status !== 0) throw new Error(`memory bench failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as MemoryRun;
}

function printMemory(r: MemoryRun): void {
  const f = (x: number) => x.toFixed(1);
  console.log(`  warm-up: ${r.warmupPairs} pairs, until V8's heap reservation (${f(r.heapTotalAtStartMiB)} MiB at start) stopped changing`);
  console.log(`  ${r.perCallUs.toFixed(0)} µs per pair; RSS ${f(r.rssBeforeMiB)} MiB → ${f(r.rssAfterMiB)} MiB (every tenth: ${r.rssSamplesMiB.join(', ')})`);
  console.log(`  of which V8's heap: reserved ${f(r.heapTotalBeforeMiB)} → ${f(r.heapTotalAfterMiB)} MiB, live ${f(r.heapUsedBeforeMiB)} → ${f(r.heapUsedAfterMiB)} MiB, young generation ${f(r.newSpaceMiB)} MiB at the end; RSS outside it about ${r.outsideHeapGrowthMiB >= 0 ? '+' : ''}${f(r.outsideHeapGrowthMiB)} MiB (the reservation is not all resident)`);
}

async function main(): Promise<void> {
  const which = new Set((process.env.BENCH ?? 'enumerate,attach,multipath,memory,read').split(','));
  const rounds = Number(process.env.BENCH_ROUNDS ?? 11);
  if (which.has('enumerate')) {
    const counts = (process.env.BENCH_SESSIONS ?? '1,16,64').split(',').map(Number);
    console.log(`enumeration in the lab: ${counts.join(', ')} session(s), ${rounds} interleaved rounds`);
    const r = await benchEnumerate(counts, rounds);
    console.log(`  written: ${writeResult('enumerate', { rounds, results: r })}`);
  }
  if (which.has('attach')) {
    const volumes = Number(process.env.BENCH_VOLUMES ?? 32);
    const cycles = Number(process.env.BENCH_CYCLES ?? 200);
    console.log(`\nattach/detach in the lab: ${rounds} rounds, ${volumes} concurrent volumes, ${cycles} memory cycles`);
    await benchAttach(rounds, volumes, cycles, (name, data) => console.log(`  written: ${writeResult(name, data)}`));
  }
  if (which.has('multipath')) {
    const mpRounds = Number(process.env.BENCH_ROUNDS ?? 5);
    console.log(`\nmultipath in the lab: two paths, ${mpRounds} interleaved rounds`);
    const r = await benchMultipath(mpRounds);
    console.log(`  written: ${writeResult('multipath', r)}`);
  }
  if (which.has('iser')) {
    const r = Number(process.env.BENCH_ISER_ROUNDS ?? 3);
    const mib = Number(process.env.BENCH_ISER_MIB ?? 64);
    console.log(`\niSER against tcp on one LIO target (soft-RoCE, EMULATED CPU): ${r} interleaved rounds, ${mib} MiB sequential, 10 s of 4 KiB random reads`);
    console.log(`  written: ${writeResult('iser', await benchIser(r, mib, 10))}`);
  }
  if (which.has('memory')) {
    const calls = Number(process.env.BENCH_CALLS ?? 100_000);
    console.log(`\nenumeration on the host's real CPU (fake sysfs, 16 sessions × 3 LUNs): ratios, then RSS over ${calls} × (sessions() + ifaces()) after a warm-up`);
    const r = memoryOnHost(calls, 16, [], []);
    for (const [name, x] of Object.entries(r.ratios || {})) {
      console.log(`  ${name.padEnd(9)} ${x.oursMs.toFixed(2)} ms vs ${x.iscsiadm} ${x.iscsiadmMs.toFixed(2)} ms: ${x.ratio.toFixed(0)}x (per round ${x.roundRatios.min.toFixed(0)}..${x.roundRatios.max.toFixed(0)})`);
    }
    console.log('  V8 as it sizes its heap by default:');
    printMemory(r);
    // By default V8 enlarges its young generation in steps, as survivors accumulate, up to 16 MiB per
    // semi-space; a long-running caller ends there whatever it calls. Started at that size, what is left
    // of RSS growth is what the calls themselves hold.
    const pinned = memoryOnHost(calls, 16, ['--min-semi-space-size=16'], ['--no-ratios']);
    console.log("  V8's young generation at its default maximum from the start (--min-semi-space-size=16):");
    printMemory(pinned);
    console.log(`  written: ${writeResult('memory', { ...r, youngGenerationAtMaximum: pinned })}`);
  }
  if (which.has('read')) {
    console.log(`\nthe read path's mechanisms on the host's real CPU and kernfs, A/B against ${READ_BASE}`);
    const r = benchReadMechanisms({
      repo: repoRoot, sessions: 16, luns: 2, rounds, calls: 20, processes: 15, base: process.env.BENCH_READ_BASE ?? READ_BASE, variants: {},
      cache: process.env.BENCH_READ_CACHE ?? '/var/tmp/openiscsi-read-bench',
    });
    printRead(r);
    console.log(`  written: ${writeResult('read-mechanisms', r)}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
