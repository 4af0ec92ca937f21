// A private tgtd for host tests, isolated from any other tgtd on the machine: its own control port
// (`tgtd -C N`, i.e. /var/run/tgtd/socket.N, N chosen at random and retried if taken), its own iSCSI portals
// on free loopback ports, LUN backing files in its own temp dir. It is always killed: by stop() (call it in
// afterAll), on process exit, and by a watchdog shell: if the test process dies without cleaning up (SIGKILL),
// the watchdog kills tgtd within a second. The watchdog is tgtd's parent and reaps it.
//
// Tests never install anything: if tgtd, tgtadm or iscsi-ls is missing, requireTools() fails with a message
// saying which Debian package to install (test/setup.sh installs them).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const TOOL_PACKAGES: Record<string, string> = { tgtd: 'tgt', tgtadm: 'tgt', 'iscsi-ls': 'libiscsi-bin' };

/** Absolute path of a program, or undefined. Looks in PATH and the sbin directories. */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean);
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Throws (so the suite fails, not skips) when a tool the host tests need is missing. */
export function requireTools(...names: string[]): void {
  const missing = names.filter((n) => !findTool(n));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((n) => TOOL_PACKAGES[n] ?? n))];
    throw new Error(`host tests need ${missing.join(', ')}: install the Debian package(s) ${pkgs.join(' ')} (bash test/setup.sh does); tests never install anything themselves`);
  }
}

/** A TCP port nobody listens on right now, on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SOCKET_DIR = '/var/run/tgtd';

/** The portal string tgtd and we both use: "127.0.0.1:3260", "[::1]:3260". */
export const portalOf = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

export interface TgtdPortal {
  host: string;
  port: number;
  /** "host:port" / "[v6]:port" */
  portal: string;
}

export class Tgtd {
  private stopped = false;
  private readonly onExit = () => this.kill();

  private constructor(
    private readonly watchdog: ChildProcess,
    private readonly pid: number,
    readonly controlPort: number,
    readonly portals: TgtdPortal[],
    readonly dir: string,
    private readonly log: () => string,
  ) {
    process.once('exit', this.onExit);
  }

  /**
   * Starts tgtd with the first of `hosts` as its startup portal (`--iscsi portal=`), then adds the others with
   * `tgtadm --op new --mode portal`, each on a free port.
   */
  static async start(hosts: string[] = ['127.0.0.1']): Promise<Tgtd> {
    requireTools('tgtd', 'tgtadm');
    fs.mkdirSync(SOCKET_DIR, { recursive: true });
    let lastError = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      // tgtd refuses control ports above 32767 ("-C argument value out of range")
      const controlPort = 20000 + Math.floor(Math.random() * 12000);
      if (fs.existsSync(path.join(SOCKET_DIR, `socket.${controlPort}`))) continue; // possibly another tgtd's
      const first = { host: hosts[0]!, port: await freePort(hosts[0]) };
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-tgtd-'));
      // The watchdog: starts tgtd, prints its pid, and kills it as soon as this process is gone.
      const script = [
        'tgtd -f -C "$2" --iscsi "portal=$3" & t=$!',
        'echo "$t"',
        'exec >/dev/null 2>&1', // from here on the shell writes nowhere: a dead reader must not SIGPIPE it before cleanup
        '( while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -9 "$t" 2>/dev/null ) & w=$!',
        'wait "$t"',
        'kill "$w" 2>/dev/null',
        'rm -f /var/run/tgtd/socket."$2" /var/run/tgtd/socket."$2".lock',
      ].join('\n');
      const watchdog = spawn('bash', ['-c', script, 'tgtd-watchdog', String(process.pid), String(controlPort), portalOf(first.host, first.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      watchdog.stderr!.on('data', (b: Buffer) => {
        stderr = (stderr + b.toString()).slice(-4000);
      });
      const pid = await new Promise<number>((resolve) => {
        watchdog.stdout!.once('data', (b: Buffer) => resolve(Number(String(b).trim())));
        watchdog.once('exit', () => resolve(0));
      });
      const t = new Tgtd(watchdog, pid, controlPort, [{ ...first, portal: portalOf(first.host, first.port) }], dir, () => stderr);
      let up = false;
      for (let i = 0; i < 100 && pid > 0 && watchdog.exitCode === null; i++) {
        if ((await canConnect(first.host, first.port)) && t.tryAdm(['--op', 'show', '--mode', 'sys']).ok) {
          up = true;
          break;
        }
        await sleep(50);
      }
      if (!up) {
        lastError = stderr.trim().split('\n').slice(-5).join('\n');
        t.stop();
        continue;
      }
      for (const host of hosts.slice(1)) {
        const port = await freePort(host);
        t.adm(['--op', 'new', '--mode', 'portal', '--param', `portal=${portalOf(host, port)}`]);
        t.portals.push({ host, port, portal: portalOf(host, port) });
      }
      return t;
    }
    throw new Error(`tgtd did not start: ${lastError || 'no output'}`);
  }

  private tryAdm(args: string[]): { ok: boolean; stdout: string; stderr: string } {
    const r = spawnSync('tgtadm', ['-C', String(this.controlPort), '--lld', 'iscsi', ...args], { encoding: 'utf8', timeout: 10_000 });
    return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
  }

  /** Runs tgtadm against this tgtd; throws with its stderr (never the arguments: they may hold a secret). */
  adm(args: string[]): string {
    const r = this.tryAdm(args);
    if (!r.ok) throw new Error(`tgtadm --op ${args[args.indexOf('--op') + 1]} --mode ${args[args.indexOf('--mode') + 1]} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** A target with `luns` LUNs (4 MiB sparse files), open to every initiator. */
  addTarget(tid: number, iqn: string, luns = 1): void {
    this.adm(['--op', 'new', '--mode', 'target', '--tid', String(tid), '-T', iqn]);
    for (let l = 1; l <= luns; l++) {
      const f = path.join(this.dir, `t${tid}-lun${l}.img`);
      fs.writeFileSync(f, '');
      fs.truncateSync(f, 4 << 20);
      this.adm(['--op', 'new', '--mode', 'logicalunit', '--tid', String(tid), '--lun', String(l), '-b', f]);
    }
    this.adm(['--op', 'bind', '--mode', 'target', '--tid', String(tid), '-I', 'ALL']);
  }

  removeTarget(tid: number): void {
    this.adm(['--op', 'delete', '--mode', 'target', '--tid', String(tid), '--force']);
  }

  /** A CHAP account bound for discovery sessions (tgtd's global account: bind without --tid). */
  addDiscoveryAccount(user: string, password: string, direction: 'incoming' | 'outgoing'): void {
    this.adm(['--op', 'new', '--mode', 'account', '--user', user, '--password', password]);
    this.adm(['--op', 'bind', '--mode', 'account', '--user', user, ...(direction === 'outgoing' ? ['--outgoing'] : [])]);
  }

  deleteAccount(user: string): void {
    this.adm(['--op', 'delete', '--mode', 'account', '--user', user]);
  }

  /** The last lines tgtd printed. */
  output(): string {
    return this.log();
  }

  private kill(): void {
    if (this.pid > 0) {
      try {
        process.kill(this.pid, 'SIGKILL'); // tgtd ignores SIGTERM; its watchdog then reaps it and exits
      } catch {
        // already gone
      }
    }
    for (const f of [`socket.${this.controlPort}`, `socket.${this.controlPort}.lock`]) fs.rmSync(path.join(SOCKET_DIR, f), { force: true });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.removeListener('exit', this.onExit);
    this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
