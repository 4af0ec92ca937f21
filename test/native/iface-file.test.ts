// libopeniscsiusr (the reader iscsid's tools share) accepts the iface files createIface writes, marker comment
// included: one unknown key in any file would make its whole listing fail with INVAL.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createIface } from '../../lib/attach/iface-admin';
import { runInMountNamespace } from './namespace';

const addon = path.resolve(__dirname, '../../build/Release/openiscsi.node');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-if-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('iface files written by createIface (the built addon must exist: bash test/setup.sh builds it)', () => {
  it('are listed by libopeniscsiusr with the transport, hwaddress, ipaddress, netdev and initiator name written', async () => {
    const common = { checkHardware: false, ifacesDir: path.join(tmp, 'ifaces'), lockDir: path.join(tmp, 'lock') };
    const made = [
      await createIface({ transport: 'cxgb4i', hwaddress: '00:07:43:AA:BB:CC', initiatorName: 'iqn.2026-11.org.openiscsi:hba', ...common }),
      await createIface({ transport: 'qla4xxx', hwaddress: '00:0e:1e:11:22:33', ipaddress: '203.0.113.8', name: 'qla4xxx.00:0e:1e:11:22:33.ipv4.1', ...common }),
      await createIface({ transport: 'bnx2i', hwaddress: '00:10:18:01:02:03', ipaddress: '2001:db8::44', ...common }),
      await createIface({ transport: 'tcp', netdev: 'eth1', name: 'storage-eth1', ...common }),
    ];
    expect(fs.readFileSync(made[0]!.file, 'utf8')).toMatch(/^# openiscsi: created /);
    const out = runInMountNamespace({
      etcSetup: made.map((m) => `cp '${m.file}' '/etc/iscsi/ifaces/${m.name}'`),
      script: `require(${JSON.stringify(addon)}).getIfaces().then((l) => console.log(JSON.stringify(l)), (e) => console.log(JSON.stringify({ error: e.message, code: e.code })))`,
    });
    expect(out.status, out.stderr).toBe(0);
    const list = JSON.parse(out.stdout.trim().split('\n').pop()!) as Array<Record<string, string>> | { error: string };
    expect(Array.isArray(list), JSON.stringify(list)).toBe(true);
    const byName = new Map((list as Array<Record<string, string>>).map((i) => [i.name, i]));
    expect(byName.get('cxgb4i.00:07:43:aa:bb:cc')).toMatchObject({ transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', initiatorName: 'iqn.2026-11.org.openiscsi:hba' });
    expect(byName.get('qla4xxx.00:0e:1e:11:22:33.ipv4.1')).toMatchObject({ transport: 'qla4xxx', hwaddress: '00:0e:1e:11:22:33', ipaddress: '203.0.113.8' });
    expect(byName.get('bnx2i.00:10:18:01:02:03')).toMatchObject({ transport: 'bnx2i', ipaddress: '2001:db8::44' });
    expect(byName.get('storage-eth1')).toMatchObject({ transport: 'tcp', netdev: 'eth1' });
    // Then the built-ins, as always.
    expect([...byName.keys()].slice(-2)).toEqual(['default', 'iser']);
  });
});
