// A private tgtd for host tests: its own control port and iSCSI port on loopback, LUN files in a temp
// dir, always killed afterwards. tgtd comes from Debian's `tgt` (installed by test/setup.sh).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export class Tgtd {
  private constructor(
    private readonly proc: ChildProcess,
    readonly controlPort: number,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(controlPort: number, port: number, extraPortals: number[] = []): Promise<Tgtd> {
    for (const tool of ['tgtd', 'tgtadm']) {
      if (spawnSync('which', [tool]).status !== 0) throw new Error(`${tool} is missing: install Debian's tgt (bash test/setup.sh does)`);
    }
    fs.mkdirSync('/var/run/tgtd', { recursive: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-tgtd-'));
    const portals = [port, ...extraPortals].map((p) => `portal=127.0.0.1:${p}`).join(',');
    const proc = spawn('tgtd', ['-f', '-C', String(controlPort), '--iscsi', portals], { stdio: ['ignore', 'ignore', 'pipe'] });
    const t = new Tgtd(proc, controlPort, port, dir);
    process.once('exit', () => proc.kill('SIGKILL'));
    for (let i = 0; i < 100; i++) {
      if (await canConnect(port)) return t;
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    t.stop();
    throw new Error(`tgtd did not start on 127.0.0.1:${port}`);
  }

  adm(args: string): string {
    const r = spawnSync('bash', ['-c', `tgtadm -C ${this.controlPort} --lld iscsi ${args}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tgtadm ${args}: ${r.stderr}`);
    return r.stdout;
  }

  addTarget(tid: number, iqn: string, luns: number): void {
    this.adm(`--op new --mode target --tid ${tid} -T ${iqn}`);
    for (let l = 1; l <= luns; l++) {
      const f = path.join(this.dir, `t${tid}-${l}.img`);
      fs.writeFileSync(f, '');
      fs.truncateSync(f, 4 << 20);
      this.adm(`--op new --mode logicalunit --tid ${tid} --lun ${l} -b ${f}`);
    }
    this.adm(`--op bind --mode target --tid ${tid} -I ALL`);
  }

  removeTarget(tid: number): void {
    this.adm(`--op delete --mode target --tid ${tid} --force`);
  }

  stop(): void {
    this.proc.kill('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
