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

/** A built package directory of `commit`, in a temporary worktree (removed by `cleanup`). */
function buildCommit(repo: string, commit: string, into: string, cleanup: Array<() => void>): string {
  const dir = path.join(into, commit.replace(/[^0-9A-Za-z._-]/g, '_'));
  sh('git', ['worktree', 'add', '--detach', dir, commit], repo);
  cleanup.push(() => spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: repo }));
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  sh(path.join(repo, 'node_modules/.bin/node-gyp'), ['rebuild', '--nodedir=/usr', '--loglevel=error'], dir);
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
}

export function benchReadMechanisms(o: ReadBenchOptions): unknown {
  const cleanup: Array<() => void> = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-read-bench-'));
  cleanup.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
  try {
    const variants: Record<string, string> = {};
    for (const [name, commit] of Object.entries({ ...(o.base === 'none' ? {} : { base: o.base }), ...o.variants })) {
      console.log(`  building ${name} (${commit})`);
      variants[name] = buildCommit(o.repo, commit, tmp, cleanup);
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
  });
  const dir = path.join(repo, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'read-mechanisms.json'), `${JSON.stringify(r, null, 2)}\n`);
  console.log(JSON.stringify(r, null, 2));
}
