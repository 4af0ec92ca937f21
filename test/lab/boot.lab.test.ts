// The lab itself: the guest boots, runs commands, calls the package, and registers the offload transports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageEntry, startLab, type Lab } from './lab';

describe('lab guest', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ offloadModules: true });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('runs Debian kernel with the iSCSI transports registered, offload ones included', async () => {
    expect(lab.kernelVersion).toMatch(/^6\.\d+\.\d+/);
    const transports = (await lab.shOk('ls /sys/class/iscsi_transport')).split(/\s+/).filter(Boolean).sort();
    expect(transports).toEqual(['be2iscsi', 'bnx2i', 'cxgb3i', 'cxgb4i', 'iser', 'qedi', 'qla4xxx', 'tcp']);
  });

  it('has iscsid and tgtd running', async () => {
    const r = await lab.sh('pidof iscsid && pidof tgtd');
    expect(r.code).toBe(0);
  });

  it('calls the package inside the guest', async () => {
    const ifaces = await lab.call<Array<{ name: string }>>(packageEntry, 'ifaces');
    expect(ifaces.map((i) => i.name)).toEqual(expect.arrayContaining(['default', 'iser']));
  });
});
