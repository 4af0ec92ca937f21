// The kernel looks a destination up in its local table before the main one: a target address that is this
// machine's own (or loopback) goes out of lo, never out of eth0 via the default gateway.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveIface, routeTo } from '../../lib/attach/resolve';
import { fakeProc, hardwareTree } from '../fixtures/fakehw';

const tree = hardwareTree();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-resolve-local-'));
afterAll(() => {
  tree.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// A default route out of eth0, as on a host whose loopback and own addresses must not follow it.
const ROUTE = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n';
// The layout of /proc/net/fib_trie (Main: and Local: sections; LOCAL entries are the local table's).
const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
        |-- 192.0.2.7
           /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
`;
const z = '0'.repeat(32);
const IPV6_ROUTE = [
  `${z} 00 ${z} 00 20010db8000000000000000000000001 00000400 00000002 00000000 00000003     eth0`,
  `${'0'.repeat(31)}1 80 ${z} 00 ${z} 00000000 00000004 00000000 80200001       lo`,
  `20010db8000000000000000000000007 80 ${z} 00 ${z} 00000000 00000003 00000000 80200001     eth0`,
].join('\n');

const proc = fakeProc(path.join(tmp, 'proc'), { route: ROUTE, ipv6Route: `${IPV6_ROUTE}\n` });
fs.writeFileSync(path.join(proc, 'net', 'fib_trie'), FIB_TRIE);
const o = { sysfsRoot: tree.root, procRoot: proc, ifacesDir: path.join(tmp, 'ifaces'), networkInterfaces: () => ({}) };

describe('resolveIface by target address: the local table first', () => {
  it.each(['127.0.0.1', '127.8.9.10', '192.0.2.7', '::1', '2001:db8::7', '::ffff:127.0.0.1'])('%s is local: lo, software tcp, iface default', async (ip) => {
    const r = await resolveIface({ targetIp: ip }, o);
    expect(r.steps[0]).toMatchObject({ step: 'route', value: 'local' });
    expect(r.steps[0]!.how).toMatch(/local table/);
    expect(r.netdev).toBe('lo');
    expect(r).toMatchObject({ transport: 'tcp', iface: { name: 'default' } });
    expect(await routeTo(ip, proc)).toEqual({ netdev: 'lo', local: true });
  });

  it('an address that is not local follows the main table', async () => {
    for (const ip of ['192.0.2.8', '198.51.100.1', '2001:db8::8']) {
      const r = await resolveIface({ targetIp: ip }, o);
      expect(r.netdev, ip).toBe('eth0');
      expect(r.steps[0]!.value).not.toBe('local');
    }
    expect(await routeTo('192.0.2.8', proc)).toEqual({ netdev: 'eth0', gateway: '192.0.2.1' });
  });

  it('the kernel says the same on this host (its own /proc)', async () => {
    expect((await resolveIface({ targetIp: '127.0.0.1' })).netdev).toBe('lo');
    expect((await resolveIface({ targetIp: '::1' })).netdev).toBe('lo');
  });
});
