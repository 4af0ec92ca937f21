// `npm run bench:read` (or BENCH=read npm run bench): the read path's mechanisms, each A/B on this host's
// real CPU and kernfs (bench/kernfs-tree.ts), interleaved in one process (bench/read-driver.js). Variants
// are package directories of other commits, built into temporary worktrees and loaded side by side with
// this checkout: BENCH_READ_BASE (default: the commit before issue 21's removals, which has every
// mechanism; `none`: only this checkout) and any BENCH_READ_VARIANTS=name=commit,... . Writes bench/results/read-mechanisms.json.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kernfsTree } from './kernfs-tree';

/** The last commit with every read-path mechanism as it was argued from the lab's emulated CPU. */
export const READ_BASE = 'e47a1cb';

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/**
 * A built package directory of `commit` (the files of the commit, its addon and dist/), kept under
 * `cache` by commit hash: a later run reuses it.
 */
function buildCommit(repo: string, commit: string, cache: string): string {
  const hash = sh('git', ['rev-parse', '--verify', `${commit}^{commit}`], repo).trim();
  const dir = path.join(cache, hash);
  if (fs.existsSync(path.join(dir, 'dist', 'index.js')) && fs.existsSync(path.join(dir, 'build', 'Release', 'openiscsi.node'))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('bash', ['-c', `git archive ${hash} | tar -x -C ${JSON.stringify(dir)}`], { cwd: repo, stdio: 'inherit' });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  sh(path.join(repo, 'node_modules/.bin/node-gyp'), ['rebuild', '--nodedir=/usr', '--loglevel=error', `--jobs=${os.cpus().length}`], dir);
  sh(path.join(repo, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], dir);
  return dir;
}

export interface ReadBenchOptions {
  repo: string;
  sessions: number;
  luns: number;
  rounds: number;
  calls: number;
  processes: number;
  base: string;
  variants: Record<string, string>;
  /** Where built commits are kept between runs. */
  cache: string;
}

export function benchReadMechanisms(o: ReadBenchOptions): unknown {
  const cleanup: Array<() => void> = [];
  try {
    const variants: Record<string, string> = {};
    for (const [name, commit] of Object.entries({ ...(o.base === 'none' ? {} : { base: o.base }), ...o.variants })) {
      console.log(`  building ${name} (${commit})`);
      variants[name] = buildCommit(o.repo, commit, o.cache);
    }
    variants.current = o.repo;
    const tree = kernfsTree(o.sessions, o.luns);
    cleanup.push(() => tree.remove());
    console.log(`  tree: ${o.sessions} sessions × ${o.luns} LUNs, ${tree.files} attribute files bound to the host's own kernfs files`);
    const cfg = { variants, current: 'current', rounds: o.rounds, calls: o.calls, processes: o.processes, sessions: o.sessions };
    const script = [
      'set -e',
      ...tree.mounts,
      `mount --rbind ${tree.root} /sys`,
      'mount -t tmpfs tmpfs /run/lock',
      `exec ${process.execPath} ${process.env.BENCH_READ_DRIVER ?? path.join(o.repo, 'bench', 'read-driver.js')} ${JSON.stringify(JSON.stringify(cfg)).replace(/\$/g, '\\$')}`,
    ].join('\n');
    const out = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
    if (out.status !== 0) throw new Error(`read bench failed (status ${out.status})`);
    return JSON.parse(out.stdout.trim().split('\n').pop()!);
  } finally {
    for (const f of cleanup.reverse()) f();
  }
}

interface Arm { medianMs: number; cpuMs?: number; minMs?: number; maxMs?: number; roundMedianMs?: { min: number; max: number }; minusFirstMs?: { median: number; min: number; max: number } }

/** One line per arm: wall median (per-round range), CPU median, and against the case's first arm. */
export function printRead(r: unknown): void {
  const f = (x: number) => x.toFixed(3);
  for (const c of (r as { cases: Array<{ title: string; arms: Record<string, Arm> }> }).cases) {
    console.log(`  ${c.title}`);
    const first = Object.values(c.arms)[0]!;
    for (const [name, a] of Object.entries(c.arms)) {
      const range = a.roundMedianMs ? ` (rounds ${f(a.roundMedianMs.min)}..${f(a.roundMedianMs.max)})` : a.minMs !== undefined ? ` (${f(a.minMs)}..${f(a.maxMs!)})` : '';
      const cpu = a.cpuMs !== undefined ? `, cpu ${f(a.cpuMs)} ms` : '';
      const d = a.minusFirstMs ? `; minus first per round ${f(a.minusFirstMs.median)} (${f(a.minusFirstMs.min)}..${f(a.minusFirstMs.max)}) = ${((100 * a.minusFirstMs.median) / first.medianMs).toFixed(1)}% of it` : '';
      console.log(`    ${name.padEnd(28)} ${f(a.medianMs)} ms${range}${cpu}${d}`);
    }
  }
}

if (require.main === module) {
  const repo = process.env.OPENISCSI_REPO ?? path.resolve(__dirname, '..', '..');
  const variants = Object.fromEntries((process.env.BENCH_READ_VARIANTS ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  const r = benchReadMechanisms({
    repo,
    sessions: Number(process.env.BENCH_SESSIONS ?? 16),
    luns: 2,
    rounds: Number(process.env.BENCH_ROUNDS ?? 11),
    calls: Number(process.env.BENCH_CALLS ?? 20),
    processes: Number(process.env.BENCH_PROCESSES ?? 15),
    base: process.env.BENCH_READ_BASE ?? READ_BASE,
    variants,
    cache: process.env.BENCH_READ_CACHE ?? '/var/tmp/openiscsi-read-bench',
  });
  const dir = path.join(repo, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'read-mechanisms.json'), `${JSON.stringify(r, null, 2)}\n`);
  printRead(r);
}
