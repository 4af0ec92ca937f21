// Starts qemu for the lab and guarantees it dies: a hard wall-clock limit (`timeout -s KILL`), the parent-death
// signal at every level (if this node process is SIGKILLed, qemu follows), and kill-on-exit/SIGINT/SIGTERM
// hooks for the normal cases. One QemuProcess per guest.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface QemuSpec {
  kernel: string;
  initrd: string;
  append: string;
  memoryMiB: number;
  /** Path of the host end of the agent's virtio-serial port (a unix socket qemu listens on). */
  agentSocket: string;
  maxLifetimeMs: number;
  /** More read-only 9p shares (the initramfs mounts each at its path: see lab.share in initramfs-init.sh). */
  shares?: Array<{ tag: string; path: string }>;
}

const live = new Set<QemuProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const q of live) q.killNow();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const q of live) q.killNow();
      process.kill(process.pid, sig); // the default action, now that our handler is gone
    });
  }
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((dir) => {
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Runs `argv` so that it gets SIGKILL when its parent dies (util-linux setpriv), when setpriv exists. */
function tiedToParent(argv: string[]): string[] {
  return onPath('setpriv') ? ['setpriv', '--pdeathsig', 'KILL', '--', ...argv] : argv;
}

export class QemuProcess {
  readonly workdir: string;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly pidFile: string;
  private readonly lifetimeTimer: NodeJS.Timeout;
  private output = '';

  constructor(spec: QemuSpec, workdir: string, onExit: (code: number | null, signal: string | null) => void) {
    if (!onPath('qemu-system-x86_64')) {
      throw new Error('lab: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86, or run test/lab/guest/prepare.sh)');
    }
    for (const f of [spec.kernel, spec.initrd]) {
      if (!fs.existsSync(f)) throw new Error(`lab: ${f} is missing (run test/lab/guest/prepare.sh)`);
    }
    installExitHooks();
    this.workdir = workdir;
    this.pidFile = path.join(workdir, 'qemu.pid');
    const qemu = [
      'qemu-system-x86_64',
      ...['-m', String(spec.memoryMiB), '-smp', '2', '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio'],
      ...['-pidfile', this.pidFile],
      ...['-kernel', spec.kernel, '-initrd', spec.initrd, '-append', spec.append],
      ...['-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap'],
      ...(spec.shares ?? []).flatMap((s) => ['-virtfs', `local,path=${s.path},mount_tag=${s.tag},security_model=none,readonly=on,multidevs=remap`]),
      ...['-device', 'virtio-serial'],
      // wait=on: the guest starts only once the host is connected, so no agent output is lost
      ...['-chardev', `socket,path=${spec.agentSocket},server=on,wait=on,id=agent`],
      ...['-device', 'virtserialport,chardev=agent,name=org.openiscsi.agent'],
    ];
    const limitS = String(Math.ceil(spec.maxLifetimeMs / 1000) + 5);
    const [cmd, ...args] = tiedToParent(['timeout', '-s', 'KILL', limitS, ...tiedToParent(qemu)]);
    this.child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        clearTimeout(this.lifetimeTimer);
        this.reapQemu();
        onExit(code, signal);
        resolve();
      });
    });
    this.child.stdout?.on('data', (d: Buffer) => this.append(d.toString('utf8')));
    this.child.stderr?.on('data', (d: Buffer) => this.append(d.toString('utf8')));
    this.lifetimeTimer = setTimeout(() => {
      this.append(`\n[lab] lifetime of ${spec.maxLifetimeMs} ms exceeded: killing the guest\n`);
      this.killNow();
    }, spec.maxLifetimeMs);
    this.lifetimeTimer.unref();
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  append(text: string): void {
    // without the firmware's terminal escapes (clear screen, line wrap), which only clutter an error message
    // eslint-disable-next-line no-control-regex
    const plain = text.replace(/\x1b(\[[0-9;?]*[A-Za-z]|c)/g, '');
    this.output = (this.output + plain).slice(-64 * 1024);
  }

  /** The last `chars` characters of the serial console and qemu's own messages. */
  tail(chars = 6000): string {
    return this.output.slice(-chars);
  }

  /** Synchronous, so it also works in an 'exit' handler. qemu first, so that its parent reaps it. */
  killNow(): void {
    this.reapQemu();
    this.child.kill('SIGKILL');
  }

  async kill(): Promise<void> {
    this.killNow();
    await this.exited;
  }

  /** qemu itself (a grandchild): SIGKILL it by its pid file and wait until it is gone. */
  private reapQemu(): void {
    let pid = 0;
    try {
      pid = Number(fs.readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      // qemu never got as far as writing it
    }
    if (pid > 0 && isQemu(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      // wait (briefly, synchronously) until it is gone, so that the next guest never overlaps this one
      for (let i = 0; i < 100 && isQemu(pid); i++) spawnSync('sleep', ['0.02']);
    }
    fs.rmSync(this.workdir, { recursive: true, force: true });
  }
}

function isQemu(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.includes('(qemu-system-x86') && !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

export function makeWorkdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-lab-'));
}
