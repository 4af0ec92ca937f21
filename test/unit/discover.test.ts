// discover(): which initiator name and source address an iface gives the SendTargets client.
import { describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { discover } from '../../lib/discovery/discover';
import { encodePdu, OP } from '../../lib/discovery/frame';
import { decodeKeys, encodeKeys } from '../../lib/discovery/keys';

/** A tiny in-process target that answers a discovery session and records what it saw. */
type Seen = { initiator?: string | undefined; remote?: string | undefined };

async function target(): Promise<{ portal: string; seen: Seen; close: () => void }> {
  const seen: Seen = {};
  const server = net.createServer((sock) => {
    seen.remote = sock.remoteAddress;
    let step = 0;
    sock.on('data', (b) => {
      if (step === 0) seen.initiator = decodeKeys(b.subarray(48, 48 + b.readUIntBE(5, 3))).find(([k]) => k === 'InitiatorName')?.[1];
      const replies = [
        encodePdu({ opcode: OP.LOGIN_RSP, flags: 0x81 }),
        encodePdu({ opcode: OP.LOGIN_RSP, flags: 0x87 }),
        encodePdu({ opcode: OP.TEXT_RSP, flags: 0x80, data: encodeKeys([['TargetName', 'iqn.2026-11.x:t']]) }),
        encodePdu({ opcode: OP.LOGOUT_RSP, flags: 0x80 }),
      ];
      const reply = Buffer.from(replies[Math.min(step++, 3)]!);
      b.copy(reply, 16, 16, 20); // answer the same task tag
      sock.write(reply);
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { portal: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, seen, close: () => server.close() };
}

const iface = (over: Record<string, string>) => async (name: string) => ({ name, transport: 'tcp', ipaddress: '', netdev: '', initiatorName: '', ...over });

describe('discover()', () => {
  it('uses iscsid\'s initiator name for an iface without one, and no source binding', async () => {
    const t = await target();
    const r = await discover({ portal: t.portal, deps: { getIface: iface({}), initiatorName: async () => 'iqn.2026-11.org.x:from-iscsid' } });
    expect(r).toMatchObject({ iface: 'default', method: 'software', initiatorName: 'iqn.2026-11.org.x:from-iscsid' });
    expect(r.localAddress).toBeUndefined();
    expect(t.seen.initiator).toBe('iqn.2026-11.org.x:from-iscsid');
    t.close();
  });

  it('uses the iface\'s own initiator name and the address of its netdev', async () => {
    const t = await target();
    const nics = () => ({ lo0: [{ address: '127.0.0.3', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '00:00:00:00:00:00', cidr: null }] }) as never;
    const r = await discover({ portal: t.portal, iface: 'bound', deps: { getIface: iface({ netdev: 'lo0', initiatorName: 'iqn.2026-11.org.x:mine' }), networkInterfaces: nics } });
    expect(r.localAddress).toBe('127.0.0.3');
    expect(t.seen).toEqual({ initiator: 'iqn.2026-11.org.x:mine', remote: '127.0.0.3' });
    t.close();
  });

  it('an iface bound to a missing netdev is a typed error, and nothing connects', async () => {
    const t = await target();
    await expect(discover({ portal: t.portal, iface: 'bound', deps: { getIface: iface({ netdev: 'eth9', initiatorName: 'iqn.2026-11.org.x:i' }), networkInterfaces: () => ({}) } })).rejects.toMatchObject({ code: 'IFACE_NETDEV_MISSING' });
    expect(t.seen.remote).toBeUndefined();
    t.close();
  });
});
