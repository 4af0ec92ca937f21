// The package loads the read path with it and the rest on first call (lib/on-demand.ts): what a process
// that only reads loads, and that each on-demand operation is its module's own.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as onDemand from '../../lib/on-demand';
import * as Connect from '../../lib/attach/connect';
import * as Disconnect from '../../lib/attach/disconnect';
import * as Discovery from '../../lib/discovery/discover';
import * as Hardware from '../../lib/attach/hardware';
import * as IfaceAdmin from '../../lib/attach/iface-admin';
import * as Login from '../../lib/iscsid/login';
import * as SessionCalls from '../../lib/iscsid/session-calls';
import * as Resolve from '../../lib/attach/resolve';

const dist = path.resolve(__dirname, '../../dist');
const ON_DEMAND = ['iscsid/login.js', 'iscsid/session-calls.js', 'iscsid/ipc.js', 'iscsid/config.js', 'iscsid/record.js', 'iscsid/node-file.js', 'read/session-wait.js', 'discovery/discover.js', 'discovery/client.js', 'discovery/chap.js', 'attach/hardware.js', 'attach/iface-admin.js', 'attach/resolve.js', 'attach/connect.js', 'attach/disconnect.js', 'attach/multipath.js', 'attach/multipathd.js', 'attach/devices.js'];

/** The package's own modules a fresh process has loaded after `body` (run with `pkg` = the built package). */
function loadedAfter(body: string): string[] {
  const script = `const pkg = require(${JSON.stringify(`${dist}/index.js`)});
    (async () => { ${body} })().then(() => console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.startsWith(${JSON.stringify(`${dist}/`)})).map((k) => k.slice(${dist.length + 1})))));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as string[];
}

describe('loading on demand', () => {
  it('requiring the package loads the read path and none of the operations that change things', () => {
    const loaded = loadedAfter('');
    expect(loaded).toEqual(expect.arrayContaining(['index.js', 'read/sessions.js', 'read/ifaces.js', 'read/nodes.js', 'read/sysfs.js', 'native.js', 'on-demand.js']));
    for (const m of ON_DEMAND) expect(loaded).not.toContain(m);
  });

  it('reading sessions does not load them either; the first call of an operation loads its module', () => {
    // A bad sid fails before any I/O, on a machine with or without sessions.
    const afterRead = loadedAfter('await pkg.session(-1).catch(() => {}); await pkg.nodes().catch(() => {});');
    for (const m of ON_DEMAND) expect(afterRead).not.toContain(m);
    const afterDiscover = loadedAfter("const e = await pkg.discover({ portal: '' }).catch((e) => e); if (e.code !== 'INVALID_PORTAL') throw e;");
    expect(afterDiscover).toContain('discovery/discover.js');
    expect(afterDiscover).not.toContain('attach/connect.js');
    expect(afterDiscover).not.toContain('attach/iface-admin.js');
  });

  it('each operation is its module own: the same errors for the same bad input', async () => {
    const outcome = async (p: Promise<unknown>) => p.then((v) => ({ value: v }), (e: { name: string; code?: string; message: string }) => ({ name: e.name, code: e.code, message: e.message }));
    const aborted = AbortSignal.abort();
    const pairs: Array<[() => Promise<unknown>, () => Promise<unknown>]> = [
      [() => onDemand.login({ target: 'bad', portal: '192.0.2.1' }), () => Login.login({ target: 'bad', portal: '192.0.2.1' })],
      [() => onDemand.logout({ sid: -1 }), () => SessionCalls.logout({ sid: -1 })],
      [() => onDemand.sessionState(-1), () => SessionCalls.sessionState(-1)],
      [() => onDemand.sessionStats(-1), () => SessionCalls.sessionStats(-1)],
      [() => onDemand.initiatorName({ signal: aborted }), () => SessionCalls.initiatorName({ signal: aborted })],
      [() => onDemand.discover({ portal: '' }), () => Discovery.discover({ portal: '' })],
      [() => onDemand.discoverSendTargets({ portal: '', initiatorName: 'iqn.2026-11.org.openiscsi:t' }), () => Discovery.discoverSendTargets({ portal: '', initiatorName: 'iqn.2026-11.org.openiscsi:t' })],
      [() => onDemand.checkHardware('nope' as never), () => Hardware.checkHardware('nope' as never)],
      [() => onDemand.createIface({ transport: 'cxgb4i', hwaddress: 'zz' }), () => IfaceAdmin.createIface({ transport: 'cxgb4i', hwaddress: 'zz' })],
      [() => onDemand.deleteIface('../x'), () => IfaceAdmin.deleteIface('../x')],
      [() => onDemand.resolveIface({ sourceIp: 'x' }), () => Resolve.resolveIface({ sourceIp: 'x' })],
      [() => onDemand.connect({ portal: '' }), () => Connect.connect({ portal: '' })],
      [() => onDemand.disconnect({ sid: -1 }), () => Disconnect.disconnect({ sid: -1 })],
    ];
    for (const [viaOnDemand, direct] of pairs) {
      const [a, b] = await Promise.all([outcome(viaOnDemand()), outcome(direct())]);
      expect(a).toHaveProperty('code');
      expect(a).toEqual(b);
    }
    // routeTo succeeds: the same answer from a routing table with a default route.
    const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-route-'));
    fs.mkdirSync(path.join(proc, 'net'));
    fs.writeFileSync(path.join(proc, 'net', 'route'), 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\neth9\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n');
    try {
      const route = await onDemand.routeTo('10.0.0.1', proc);
      expect(route).toEqual(await Resolve.routeTo('10.0.0.1', proc));
      expect(route?.netdev).toBe('eth9');
    } finally {
      fs.rmSync(proc, { recursive: true, force: true });
    }
  });
});
