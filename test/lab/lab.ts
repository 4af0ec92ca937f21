// Host side of the lab: boots a QEMU guest running Debian's kernel with a real iscsid and tgtd, and talks
// to a long-lived node agent inside it over virtio-serial. Every guest has a hard lifetime and is killed
// on stop(), on process exit and on SIGINT/SIGTERM (see qemu.ts); errors carry the tail of the guest's console.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AgentClient, type SerializedError } from './agent-client';
import { makeWorkdir, QemuProcess } from './qemu';
import { LioBook, LIO_PORTALS } from './lio';
import { TargetBook, type ChapSpec, type TargetSpec } from './targets';

export type { ChapSpec, TargetSpec } from './targets';
export { LAB_INITIATOR } from './targets';
export { LIO_PORTALS } from './lio';

/** Soft-RoCE in the guest (startLab({ rdma: true })): rxe0 on veth0 and rxe1 on veth1, both in the root namespace. */
export const RDMA_NET = {
  veth0: '10.99.0.1',
  veth1: '10.99.0.2',
  /** tgtd's iSER targets: tgtd listens for RDMA on port 3260 of every address; this one is rxe0's. */
  tgtdIser: '10.99.0.1:3260',
} as const;

/** The checkout, symlinks resolved: the guest mounts it at this same path (see guestShares). */
export const repoRoot = fs.realpathSync(process.env.OPENISCSI_REPO ?? path.resolve(__dirname, '../..'));
const guestDir = path.join(repoRoot, 'test', 'lab', 'guest');
/** The package's compiled entry point, as the guest sees it (the host's file system is the guest's root). */
export const packageEntry = path.join(repoRoot, 'dist', 'index.js');

/** Host directories the guest covers with its own tmpfs/devtmpfs/proc/sysfs (initramfs-init.sh): hidden there. */
const GUEST_COVERED = ['/tmp', '/run', '/dev', '/proc', '/sys'];
const under = (p: string, dir: string): boolean => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
const coveredInGuest = (p: string): boolean => GUEST_COVERED.some((d) => under(p, d));

/**
 * The read-only 9p shares the guest mounts at their own paths, after its tmpfs mounts: the checkout always (so a
 * checkout under /tmp or /run works like any other), and its node_modules when that is a symlink to a directory
 * the guest would not see. Throws at once, saying why, for what cannot work (node itself under /tmp; a path the
 * kernel command line or qemu's option syntax cannot carry).
 */
export function guestShares(root: string = repoRoot): Array<{ tag: string; path: string }> {
  const repo = fs.realpathSync(root);
  const dirs = [repo];
  let modules: string | undefined;
  try {
    modules = fs.realpathSync(path.join(repo, 'node_modules'));
  } catch {
    // no node_modules: the package's require() will say so in the guest
  }
  if (modules && !under(modules, repo) && coveredInGuest(modules)) dirs.push(modules);
  for (const d of dirs) {
    if (/[\s,]/.test(d)) {
      throw new Error(`lab: cannot share ${JSON.stringify(d)} with the guest (the kernel command line and qemu's -virtfs cannot carry spaces or commas); use a checkout path without them`);
    }
  }
  const node = fs.realpathSync(process.execPath);
  if (coveredInGuest(node)) {
    throw new Error(`lab: node (${node}) is under ${GUEST_COVERED.join(', ')}, which the guest covers with its own file systems; install node elsewhere`);
  }
  return dirs.map((p, i) => ({ tag: i === 0 ? 'repo' : `share${i}`, path: p }));
}

/** The guest kernels the lab boots: Debian's own, from that suite's archive (prepare.sh SUITE). */
export const LAB_KERNELS = { bookworm: '6.1', trixie: '6.12' } as const;
export type LabKernel = keyof typeof LAB_KERNELS;

export interface LabOptions {
  /** Which Debian suite's kernel the guest boots (default bookworm, 6.1; trixie is 6.12). The userspace is the host's either way. */
  kernel?: LabKernel;
  /** Load cxgb4i, bnx2i, be2iscsi, qla4xxx, qedi, cxgb3i and ib_iser (they register without hardware). */
  offloadModules?: boolean;
  /** Load ib_iser (implied by offloadModules and rdma). */
  iser?: boolean;
  /**
   * Soft-RoCE: rdma_rxe on a veth pair (veth0 10.99.0.1 = rxe0, veth1 10.99.0.2 = rxe1), ib_iser, ib_isert with
   * lio, and tgtd started with its iSER driver. Default memory becomes 3 GiB (tgtd pins its RDMA buffers).
   */
  rdma?: boolean;
  /** LIO, the kernel's target: target_core_mod, iscsi_target_mod, configfs; targets with kind 'lio'. */
  lio?: boolean;
  targets?: TargetSpec[];
  /** From qemu's start to the agent's "ready" (services up); default 120 s. */
  bootTimeoutMs?: number;
  /** Hard wall-clock limit after which qemu is killed whatever happens; default 10 min. */
  maxLifetimeMs?: number;
  memoryMiB?: number;
  onProgress?: (message: string) => void;
}

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LabTimings {
  /** qemu start to the agent's ready message, seen from the host. */
  bootMs: number;
  /** The guest kernel's uptime when the agent reported ready. */
  guestUptimeS: number;
  /** How long node took to start in the guest (before the agent's first line ran). */
  nodeStartS: number;
}

export class LabError extends Error {
  constructor(message: string, readonly consoleTail: string) {
    super(`${message}\n--- guest console (tail) ---\n${consoleTail}`);
    this.name = 'LabError';
  }
}

/** An error thrown inside the guest by a called function, with its name/code/errno/details preserved. */
export class GuestError extends Error {
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly details: unknown;
  constructor(e: SerializedError) {
    super(e.message ?? 'guest error');
    this.name = e.name ?? 'Error';
    this.code = e.code;
    this.errno = e.errno;
    this.details = e.details;
    if (e.stack) this.stack = `${e.stack}\n    (in the lab guest)`;
  }
}

interface LabEnv {
  KERNEL: string;
  INITRD: string;
  KROOT: string;
  KVER: string;
}

/** Runs prepare.sh (idempotent, cached) and reads the paths it prints. */
function prepare(kernel: LabKernel): LabEnv {
  if (!Object.hasOwn(LAB_KERNELS, kernel)) throw new Error(`lab: no kernel ${String(kernel)} (known: ${Object.keys(LAB_KERNELS).join(', ')})`);
  const out = spawnSync('bash', [path.join(guestDir, 'prepare.sh'), kernel], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (out.error) throw new Error(`lab: could not run prepare.sh: ${out.error.message}`);
  if (out.status !== 0) throw new Error(`lab: test/lab/guest/prepare.sh ${kernel} failed (exit ${out.status})`);
  const envFile = out.stdout.trim().split('\n').pop() ?? '';
  const env = new Map<string, string>();
  for (const line of fs.readFileSync(envFile, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env.set(line.slice(0, i), line.slice(i + 1));
  }
  const get = (k: keyof LabEnv): string => {
    const v = env.get(k);
    if (!v) throw new Error(`lab: ${k} missing from ${envFile}`);
    return v;
  };
  return { KERNEL: get('KERNEL'), INITRD: get('INITRD'), KROOT: get('KROOT'), KVER: get('KVER') };
}

export class Lab {
  /** tgtd's TCP portal. */
  readonly portal = '127.0.0.1:3260';
  /** LIO's TCP portal (every LIO target); LIO_PORTALS has its RDMA-network portals. */
  readonly lioPortal = LIO_PORTALS.tcp;
  kernelVersion = '';
  timings: LabTimings = { bootMs: 0, guestUptimeS: 0, nodeStartS: 0 };
  private readonly agent: AgentClient;
  private readonly targets = new TargetBook();
  private readonly lio: LioBook;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly qemu: QemuProcess,
    private readonly features: { rdma: boolean; lio: boolean },
  ) {
    this.lio = new LioBook(features.rdma);
    this.agent = new AgentClient(
      (message) => new LabError(message, this.console()),
      (e) => new GuestError(e),
    );
  }

  /** Same as timings.bootMs. */
  get bootMs(): number {
    return this.timings.bootMs;
  }

  static async start(options: LabOptions = {}): Promise<Lab> {
    const progress = options.onProgress ?? (() => {});
    const env = prepare(options.kernel ?? 'bookworm');
    const shares = guestShares();
    const workdir = makeWorkdir();
    const agentSocket = path.join(workdir, 'agent.sock');
    const append = [
      'console=ttyS0',
      'quiet',
      'panic=-1',
      // the IO-APIC timer check fails when the host is loaded (TCG runs the guest slowly) and panics the boot
      'no_timer_check',
      `lab.script=${path.join(guestDir, 'guest-init.sh')}`,
      `lab.kroot=${env.KROOT}`,
      `lab.agent=${path.join(guestDir, 'agent.js')}`,
      `lab.node=${process.execPath}`,
      `lab.offload=${options.offloadModules ? 1 : 0}`,
      `lab.iser=${options.offloadModules || options.iser || options.rdma ? 1 : 0}`,
      `lab.rdma=${options.rdma ? 1 : 0}`,
      `lab.lio=${options.lio || options.targets?.some((t) => t.kind === 'lio') ? 1 : 0}`,
      `lab.trace=${process.env.OPENISCSI_LAB_TRACE ? 1 : 0}`,
      // cache=mmap: mapped pages (node, the addon) are cached; ~0.5 s off the boot and 1 s off the first require
      `lab.9p=${process.env.OPENISCSI_LAB_9P ?? 'cache=mmap'}`,
      ...shares.map((s) => `lab.share=${s.tag}:${s.path}`),
    ].join(' ');
    let lab: Lab | undefined;
    let qemu: QemuProcess;
    try {
      qemu = new QemuProcess(
        { kernel: env.KERNEL, initrd: env.INITRD, append, memoryMiB: options.memoryMiB ?? (options.rdma ? 3072 : 2048), agentSocket, maxLifetimeMs: options.maxLifetimeMs ?? 10 * 60_000, shares },
        workdir,
        (code, signal) => lab?.agent.closeAll(new LabError(`lab guest exited (code ${code}, signal ${signal})`, lab.console())),
      );
    } catch (e) {
      fs.rmSync(workdir, { recursive: true, force: true });
      throw e;
    }
    lab = new Lab(qemu, { rdma: !!options.rdma, lio: !!(options.lio || options.targets?.some((t) => t.kind === 'lio')) });
    const started = Date.now();
    progress(`booting the guest (Debian kernel ${env.KVER} under QEMU)`);
    try {
      const ready = (await lab.agent.connect(agentSocket, started + (options.bootTimeoutMs ?? 120_000), () => qemu.running)) as {
        kernel: string;
        guestUptimeS: number;
        nodeStartS: number;
      };
      lab.kernelVersion = ready.kernel;
      lab.timings = { bootMs: Date.now() - started, guestUptimeS: ready.guestUptimeS, nodeStartS: ready.nodeStartS };
      progress(`guest ready in ${(lab.timings.bootMs / 1000).toFixed(1)} s (kernel ${lab.kernelVersion})`);
      if (options.targets?.length) {
        progress(`creating ${options.targets.length} target(s) in the guest`);
        await lab.addTargets(options.targets);
      }
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  /** The tail of the guest's serial console (kernel messages, LAB: lines from its init) and qemu's messages. */
  console(): string {
    return this.qemu.tail();
  }

  /** Runs a shell command in the guest (bash -c); the command's process group is killed after timeoutMs. */
  async sh(cmd: string, opts: { timeoutMs?: number } = {}): Promise<ShResult> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return (await this.agent.request({ op: 'sh', cmd, timeoutMs }, timeoutMs + 5_000)) as ShResult;
  }

  /** Runs a shell command and throws (with its output and the console's tail) when it fails. */
  async shOk(cmd: string, opts: { timeoutMs?: number } = {}): Promise<string> {
    const r = await this.sh(cmd, opts);
    if (r.code !== 0) throw new LabError(`guest command failed (${r.code}): ${cmd}\n${r.stdout}${r.stderr}`, this.console());
    return r.stdout;
  }

  /**
   * Calls an exported (async) function of a module on the host's file system (any absolute path), inside
   * the guest's agent. Its JSON result comes back; an error it throws rejects with a GuestError.
   */
  async call<T>(modulePath: string, fn: string, args: unknown[] = [], opts: { timeoutMs?: number } = {}): Promise<T> {
    return (await this.agent.request({ op: 'call', module: modulePath, fn, args }, opts.timeoutMs ?? 120_000)) as T;
  }

  /** Creates targets in the guest's tgtd or LIO (by `kind`): LUNs backed by files on the guest's tmpfs, optional CHAP. */
  async addTargets(targets: TargetSpec[]): Promise<void> {
    for (const t of targets) {
      if (t.iser && !this.features.rdma) throw new Error(`lab: ${t.iqn}: iser needs startLab({ rdma: true })`);
      if (t.kind === 'lio' && !this.features.lio) throw new Error(`lab: ${t.iqn}: LIO targets need startLab({ lio: true })`);
    }
    const tgt = targets.filter((t) => (t.kind ?? 'tgtd') === 'tgtd');
    const lio = targets.filter((t) => t.kind === 'lio');
    // each tgtadm is a process start under emulation: allow for many targets
    if (tgt.length) await this.shOk(this.targets.script(tgt), { timeoutMs: 60_000 + 3_000 * tgt.length });
    if (lio.length) await this.shOk(this.lio.script(lio), { timeoutMs: 60_000 + 3_000 * lio.length });
  }

  /** Discovery CHAP for LIO (enforced for every LIO target), or none again. */
  async setLioDiscoveryAuth(chap: ChapSpec | undefined): Promise<void> {
    if (!this.features.lio) throw new Error('lab: LIO discovery auth needs startLab({ lio: true })');
    await this.shOk(this.lio.discoveryAuthScript(chap));
  }

  /** Kills the guest (its state is all tmpfs) and waits until qemu is gone; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.agent.closeAll(new LabError('the lab guest was stopped', this.console()));
      await this.qemu.kill();
    })();
    return this.stopping;
  }
}

export function startLab(options: LabOptions = {}): Promise<Lab> {
  return Lab.start(options);
}
