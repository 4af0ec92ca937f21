// The lab itself and the read path's basics on a real kernel: targets made by the harness, sessions made by
// iscsiadm in the guest, and what the package returns inside the guest compared with the guest's sysfs and
// `iscsiadm -m session`. Also: the offload transports register without hardware; the agent's own contract.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestError, packageEntry, startLab, type Lab } from './lab';

const T = (n: string) => `iqn.2026-11.org.openiscsi:session.${n}`;
const CHAP = { user: 'carol', secret: 'carol-secret-01' };
const probe = path.join(__dirname, 'guest', 'probe.js');

interface Session {
  sid: number;
  targetName: string;
  address: string;
  port: number;
  iface: { name: string; transport: string };
}

describe('lab guest: a real kernel initiator driven from the host', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({
      offloadModules: true,
      targets: [
        { iqn: T('plain'), luns: 2, lunSizeMiB: 8 },
        { iqn: T('chap'), luns: 1, chap: CHAP },
        { iqn: T('idle'), luns: 1 },
      ],
    });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("boots Debian's kernel with iscsid and tgtd running", async () => {
    expect(lab.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    expect(lab.timings.bootMs).toBeGreaterThan(0);
    expect((await lab.sh('pidof iscsid && pidof tgtd')).code).toBe(0);
    expect(await lab.shOk('uname -r')).toBe(`${lab.kernelVersion}\n`);
  });

  it('registers the offload transports and iser without hardware (offloadModules: true), and no host for them', async () => {
    const transports = (await lab.shOk('ls /sys/class/iscsi_transport')).split(/\s+/).filter(Boolean).sort();
    expect(transports).toEqual(['be2iscsi', 'bnx2i', 'cxgb3i', 'cxgb4i', 'iser', 'qedi', 'qla4xxx', 'tcp']);
    // caps is a hex bit mask for every one of them
    for (const line of (await lab.shOk('cat /sys/class/iscsi_transport/*/caps')).trim().split('\n')) expect(line).toMatch(/^0x[0-9a-f]+$/);
    expect(await lab.shOk('ls /sys/class/iscsi_host')).toBe(''); // no hardware, and no session yet
  });

  it('serves the host: sh results, timeouts, and call() with results and serialized errors', async () => {
    expect(await lab.sh('echo out; echo err >&2; exit 3')).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    const slow = await lab.sh('sleep 30 & sleep 30; echo never', { timeoutMs: 500 });
    expect(slow.code).not.toBe(0);
    expect(slow.stdout).toBe('');
    expect((await lab.sh('pgrep -x sleep')).code).toBe(1); // the whole process group was killed
    expect(await lab.call(probe, 'echo', [1, 'two', { three: [3] }])).toMatchObject({ args: [1, 'two', { three: [3] }] });
    expect(await lab.call(probe, 'nested.add', [2, 3])).toBe(5);
    const e = await lab.call(probe, 'fail', ['E_PROBE', 7]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GuestError);
    expect(e).toMatchObject({ name: 'RangeError', code: 'E_PROBE', errno: 7, message: 'probe failure E_PROBE', details: { big: '18446744073709551616' } });
    await expect(lab.call(probe, 'missing')).rejects.toThrow(/has no function missing/);
    await expect(lab.call('/nonexistent/module.js', 'x')).rejects.toMatchObject({ code: 'MODULE_NOT_FOUND' });
  });

  it('serves the harness targets: discovery lists them, CHAP is enforced', async () => {
    const found = await lab.shOk(`iscsiadm -m discovery -t st -p ${lab.portal}`);
    expect(found.trim().split('\n').sort()).toEqual([T('chap'), T('idle'), T('plain')].map((t) => `${lab.portal},1 ${t}`));
    const node = `iscsiadm -m node -T ${T('chap')} -p ${lab.portal}`;
    await lab.shOk(`${node} -o update -n node.session.auth.authmethod -v CHAP -n node.session.auth.username -v ${CHAP.user} -n node.session.auth.password -v wrong-secret-1`);
    const refused = await lab.sh(`${node} --login`);
    expect(refused.code).toBe(24); // ISCSI_ERR_LOGIN_AUTH_FAILED
    await lab.shOk(`${node} -o update -n node.session.auth.password -v ${CHAP.secret}`);
    await lab.shOk(`${node} --login`);
  });

  it("sessions() inside the guest equals the guest's sysfs and iscsiadm -m session", async () => {
    await lab.shOk(`iscsiadm -m node -T ${T('plain')} -p ${lab.portal} --login`);
    const list = await lab.call<Session[]>(packageEntry, 'sessions');
    // one guest command: "sid|targetname|ifacename|address|port" per session, from sysfs
    const sysfs = await lab.shOk(`
      for s in /sys/class/iscsi_session/session*; do
        sid=\${s##*session}; c=/sys/class/iscsi_connection/connection\$sid:0
        echo "\$sid|$(cat \$s/targetname)|$(cat \$s/ifacename)|$(cat \$c/address)|$(cat \$c/port)"
      done`);
    const theirs = sysfs.trim().split('\n').sort();
    expect(theirs).toHaveLength(2);
    expect(list.map((s) => `${s.sid}|${s.targetName}|${s.iface.name}|${s.address}|${s.port}`).sort()).toEqual(theirs);
    // e.g. "tcp: [1] 127.0.0.1:3260,1 iqn.2026-11.org.openiscsi:session.chap (non-flash)"
    const adm = (await lab.shOk('iscsiadm -m session')).trim().split('\n').map((l) => l.replace(/,\d+ /, ' ')).sort();
    expect(list.map((s) => `${s.iface.transport}: [${s.sid}] ${s.address}:${s.port} ${s.targetName} (non-flash)`).sort()).toEqual(adm);
    expect(list.map((s) => s.targetName).sort()).toEqual([T('chap'), T('plain')]);
    for (const s of list) expect(s).toMatchObject({ address: '127.0.0.1', port: 3260, iface: { name: 'default', transport: 'tcp' } });
  });

  it('the sessions have their LUNs as disks of the requested size', async () => {
    // plain: 2 LUNs of 8 MiB, chap: 1 LUN of 16 MiB (the default); 512-byte sectors in /sys/block/*/size
    const sizes = await lab.shOk('cat /sys/class/iscsi_session/session*/device/target*/*/block/*/size');
    expect(sizes.trim().split('\n').map(Number).sort((a, b) => a - b)).toEqual([16384, 16384, 32768]);
  });
});
