// Host side of the lab: boots a QEMU guest running Debian's kernel with a real iscsid and tgtd, and talks
// to a long-lived node agent inside it over virtio-serial. Every guest has a hard lifetime and is killed
// on stop(), on process exit and on SIGINT/SIGTERM; errors carry the tail of the guest's console.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

export const repoRoot = process.env.OPENISCSI_REPO ?? path.resolve(__dirname, '../..');
const guestDir = path.join(repoRoot, 'test', 'lab', 'guest');
/** The package's compiled entry point, as the guest sees it (the host's file system is the guest's root). */
export const packageEntry = path.join(repoRoot, 'dist', 'index.js');

export interface ChapSpec {
  user: string;
  secret: string;
  mutualUser?: string;
  mutualSecret?: string;
}

export interface TargetSpec {
  iqn: string;
  luns: number;
  lunSizeMiB?: number;
  chap?: ChapSpec;
}

export interface LabOptions {
  /** Load cxgb4i, bnx2i, be2iscsi, qla4xxx, qedi, cxgb3i and ib_iser (they register without hardware). */
  offloadModules?: boolean;
  targets?: TargetSpec[];
  bootTimeoutMs?: number;
  /** Hard wall-clock limit after which qemu is killed whatever happens. */
  maxLifetimeMs?: number;
  memoryMiB?: number;
  onProgress?: (message: string) => void;
}

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class LabError extends Error {
  constructor(message: string, readonly consoleTail: string) {
    super(`${message}\n--- guest console (tail) ---\n${consoleTail}`);
    this.name = 'LabError';
  }
}

/** An error thrown inside the guest by a called function, with its name/code/errno preserved. */
export class GuestError extends Error {
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly details: unknown;
  constructor(e: { name?: string; message?: string; code?: string; errno?: number; details?: unknown; stack?: string }) {
    super(e.message ?? 'guest error');
    this.name = e.name ?? 'Error';
    this.code = e.code;
    this.errno = e.errno;
    this.details = e.details;
    if (e.stack) this.stack = `${e.stack}\n    (in the lab guest)`;
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface LabEnv {
  KERNEL: string;
  INITRD: string;
  KROOT: string;
  KVER: string;
}

const live = new Set<ChildProcess>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = () => {
    for (const p of live) p.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

function prepare(): LabEnv {
  const out = spawnSync('bash', [path.join(guestDir, 'prepare.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (out.status !== 0) throw new Error(`lab: test/lab/guest/prepare.sh failed (exit ${out.status})`);
  const envFile = out.stdout.trim().split('\n').pop() ?? '';
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(envFile, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  for (const k of ['KERNEL', 'INITRD', 'KROOT']) {
    if (!env[k] || !fs.existsSync(env[k]!)) throw new Error(`lab: ${k} missing after prepare (${env[k] ?? 'unset'})`);
  }
  return env as unknown as LabEnv;
}

export class Lab {
  readonly portal = '127.0.0.1:3260';
  kernelVersion = '';
  bootMs = 0;
  private consoleBuf = '';
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private socket: net.Socket | undefined;
  private exited: Promise<void>;
  private stopped = false;
  private lifetimeTimer: NodeJS.Timeout;
  private nextTid = 1;
  private accounts = new Set<string>();

  private constructor(
    private readonly qemu: ChildProcess,
    private readonly workdir: string,
    maxLifetimeMs: number,
  ) {
    live.add(qemu);
    this.exited = new Promise((resolve) => qemu.once('exit', () => resolve()));
    qemu.stdout?.on('data', (d: Buffer) => this.appendConsole(d.toString('utf8')));
    qemu.stderr?.on('data', (d: Buffer) => this.appendConsole(d.toString('utf8')));
    qemu.once('exit', (code, signal) => {
      live.delete(qemu);
      const err = new LabError(`lab guest exited (code ${code}, signal ${signal})`, this.console());
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
    this.lifetimeTimer = setTimeout(() => {
      this.appendConsole(`\n[lab] lifetime of ${maxLifetimeMs} ms exceeded: killing the guest\n`);
      qemu.kill('SIGKILL');
    }, maxLifetimeMs);
    this.lifetimeTimer.unref();
  }

  static async start(options: LabOptions = {}): Promise<Lab> {
    const progress = options.onProgress ?? (() => {});
    installExitHooks();
    const env = prepare();
    const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-lab-'));
    const sock = path.join(workdir, 'agent.sock');
    const cmdline = [
      'console=ttyS0',
      'quiet',
      'panic=-1',
      `lab.script=${path.join(guestDir, 'guest-init.sh')}`,
      `lab.kroot=${env.KROOT}`,
      `lab.agent=${path.join(guestDir, 'agent.js')}`,
      `lab.offload=${options.offloadModules ? 1 : 0}`,
    ].join(' ');
    const maxLifetimeMs = options.maxLifetimeMs ?? 10 * 60_000;
    const qemu = spawn(
      'timeout',
      [
        '-s',
        'KILL',
        String(Math.ceil(maxLifetimeMs / 1000) + 5),
        'qemu-system-x86_64',
        '-m',
        String(options.memoryMiB ?? 2048),
        '-smp',
        '2',
        '-nographic',
        '-no-reboot',
        '-nodefaults',
        '-serial',
        'stdio',
        '-kernel',
        env.KERNEL,
        '-initrd',
        env.INITRD,
        '-append',
        cmdline,
        '-virtfs',
        'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
        '-device',
        'virtio-serial',
        '-chardev',
        `socket,path=${sock},server=on,wait=on,id=agent`,
        '-device',
        'virtserialport,chardev=agent,name=org.openiscsi.agent',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lab = new Lab(qemu, workdir, maxLifetimeMs);
    const started = Date.now();
    progress('booting the guest (Debian kernel under QEMU)');
    try {
      await lab.connect(sock, options.bootTimeoutMs ?? 120_000);
      lab.bootMs = Date.now() - started;
      progress(`guest ready in ${(lab.bootMs / 1000).toFixed(1)} s (kernel ${lab.kernelVersion})`);
      if (options.targets?.length) {
        progress(`creating ${options.targets.length} target(s) in tgtd`);
        await lab.addTargets(options.targets);
      }
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  private appendConsole(text: string): void {
    this.consoleBuf = (this.consoleBuf + text).slice(-64 * 1024);
  }

  console(): string {
    return this.consoleBuf.slice(-6000);
  }

  private async connect(sock: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!fs.existsSync(sock)) {
      if (this.qemu.exitCode !== null || this.qemu.signalCode !== null) throw new LabError('qemu exited before the guest booted', this.console());
      if (Date.now() > deadline) throw new LabError('qemu did not open the agent socket', this.console());
      await new Promise((r) => setTimeout(r, 20));
    }
    const socket = net.connect(sock);
    this.socket = socket;
    socket.on('error', () => {});
    socket.once('close', () => {
      const err = new LabError('the guest agent connection closed', this.console());
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError(`the guest agent was not ready within ${timeoutMs} ms`, this.console())), Math.max(0, deadline - Date.now()));
      this.pending.set(0, {
        resolve: (v) => {
          clearTimeout(timer);
          this.kernelVersion = (v as { kernel: string }).kernel;
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    readline.createInterface({ input: socket }).on('line', (line) => this.onLine(line));
    await ready;
  }

  private onLine(line: string): void {
    let msg: { id: number; ok: boolean; result?: unknown; error?: ConstructorParameters<typeof GuestError>[0] };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new GuestError(msg.error ?? {}));
  }

  private request(payload: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.stopped || !this.socket) return Promise.reject(new LabError('the lab guest is not running', this.console()));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LabError(`guest request ${String(payload.op)} timed out after ${timeoutMs} ms`, this.console()));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket!.write(`${JSON.stringify({ id, ...payload })}\n`);
    });
  }

  /** Runs a shell command in the guest. */
  async sh(cmd: string, opts: { timeoutMs?: number } = {}): Promise<ShResult> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return (await this.request({ op: 'sh', cmd, timeoutMs }, timeoutMs + 5_000)) as ShResult;
  }

  /** Runs a shell command and throws with its output when it fails. */
  async shOk(cmd: string, opts: { timeoutMs?: number } = {}): Promise<string> {
    const r = await this.sh(cmd, opts);
    if (r.code !== 0) throw new LabError(`guest command failed (${r.code}): ${cmd}\n${r.stdout}${r.stderr}`, this.console());
    return r.stdout;
  }

  /** Calls an exported (async) function of a module on the host's file system, inside the guest's agent. */
  async call<T>(modulePath: string, fn: string, args: unknown[] = [], opts: { timeoutMs?: number } = {}): Promise<T> {
    return (await this.request({ op: 'call', module: modulePath, fn, args }, opts.timeoutMs ?? 120_000)) as T;
  }

  /** Creates targets in the guest's tgtd: LUNs backed by files on the guest's tmpfs, optional CHAP. */
  async addTargets(targets: TargetSpec[]): Promise<void> {
    const lines: string[] = ['set -e'];
    for (const t of targets) {
      const tid = this.nextTid++;
      const adm = '/usr/sbin/tgtadm --lld iscsi';
      lines.push(`${adm} --op new --mode target --tid ${tid} -T ${t.iqn}`);
      for (let lun = 1; lun <= t.luns; lun++) {
        const file = `/tmp/tgt/t${tid}-lun${lun}.img`;
        lines.push(`truncate -s ${t.lunSizeMiB ?? 16}M ${file}`);
        lines.push(`${adm} --op new --mode logicalunit --tid ${tid} --lun ${lun} -b ${file}`);
      }
      // tgtd accounts are global: create each once, bind it to as many targets as use it.
      const account = (user: string, secret: string) => {
        if (this.accounts.has(user)) return;
        this.accounts.add(user);
        lines.push(`${adm} --op new --mode account --user '${user}' --password '${secret}'`);
      };
      if (t.chap) {
        account(t.chap.user, t.chap.secret);
        lines.push(`${adm} --op bind --mode account --tid ${tid} --user '${t.chap.user}'`);
        if (t.chap.mutualUser && t.chap.mutualSecret) {
          account(t.chap.mutualUser, t.chap.mutualSecret);
          lines.push(`${adm} --op bind --mode account --tid ${tid} --user '${t.chap.mutualUser}' --outgoing`);
        }
      }
      lines.push(`${adm} --op bind --mode target --tid ${tid} -I ALL`);
    }
    // each tgtadm call costs a process start under emulation: allow for many targets
    await this.shOk(lines.join('\n'), { timeoutMs: 60_000 + 3_000 * targets.length });
  }

  /** Powers the guest off and waits for qemu; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return this.exited;
    this.stopped = true;
    clearTimeout(this.lifetimeTimer);
    this.socket?.destroy();
    this.qemu.kill('SIGKILL');
    await this.exited;
    fs.rmSync(this.workdir, { recursive: true, force: true });
  }
}

export function startLab(options: LabOptions = {}): Promise<Lab> {
  return Lab.start(options);
}
