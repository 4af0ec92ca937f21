// libopeniscsiusr (the same reader iscsid's tools use) accepts the iface files createIface writes.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createIface } from '../../lib/iface-admin';
import { runInMountNamespace } from './namespace';

const addon = path.resolve(__dirname, '../../build/Release/openiscsi.node');

describe('iface files written by createIface', () => {
  it('are read back by libopeniscsiusr with the same transport, hwaddress and initiator name', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-if-'));
    const { name, file } = await createIface({
      transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', initiatorName: 'iqn.2026-11.org.openiscsi:hba', checkHardware: false,
      ifacesDir: path.join(d, 'ifaces'), lockDir: path.join(d, 'lock'),
    });
    const out = runInMountNamespace({
      etcSetup: [`cp '${file}' '/etc/iscsi/ifaces/${name}'`],
      script: `require(${JSON.stringify(addon)}).getIfaces().then((l) => console.log(JSON.stringify(l)), (e) => console.log(JSON.stringify({ error: e.message })))`,
    });
    const list = JSON.parse(out.stdout.trim()) as Array<{ name: string; transport: string; hwaddress: string; initiatorName: string }>;
    expect(list[0]).toMatchObject({ name, transport: 'cxgb4i', hwaddress: '00:07:43:aa:bb:cc', initiatorName: 'iqn.2026-11.org.openiscsi:hba' });
  });
});
