// Other Debian releases' real iscsid, chrooted in one lab guest (test/lab/releases.ts), each driven by this
// library from the guest's own root exactly as Debian 12's is: the layout is picked from the running daemon,
// login / CHAP / logout / session calls work, persisted nodes are read by that release's iscsiadm, and that
// iscsiadm's own LOGIN request is reproduced byte for byte by the record builder. createIface/deleteIface write
// where that release's iscsiadm looks (its database root). And the read path runs on that release's own
// libraries: node chrooted into its root (glibc, libstdc++, libopeniscsiusr all the root's), ifaces() and nodes()
// compared with its iscsiadm. Where that cannot run it says why: bullseye's glibc is 2.31 and the addon, built
// on Debian 12, needs symbol versions up to GLIBC_2.34 (the loader names the first it misses, GLIBC_2.32), so
// there the test asserts that loader error (NATIVE_UNAVAILABLE) instead. Node itself runs there (it needs 2.28).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../../lib/native';
import { applyConf, applyIface, defaultRecord } from '../../lib/iscsid/record';
import { parseConf } from '../../lib/iscsid/config';
import { IPC_COMMAND } from '../../lib/iscsid/ipc';
import { GuestError, packageEntry, startLab, type Lab } from './lab';
import { captureLogin, fieldAt, readInRoot, releaseRoot, switchIscsid, type Release } from './releases';

const KNOWN: Release[] = [
  { suite: 'trixie', pkg: '2.1.11-1+deb13u2', version: '2.1.11', family: '2.1.11', dbRoot: '/var/lib/iscsi' },
  { suite: 'sid', pkg: '2.1.13-1', version: '2.1.13', family: '2.1.13', dbRoot: '/var/lib/iscsi' },
  // the 2.1.1 family that Debian 12 (login.lab.test.ts) verifies too, on another release's build of it
  { suite: 'bullseye', pkg: '2.1.3-5', version: '2.1.3', family: '2.1.1', dbRoot: '/etc/iscsi' },
];
// Where the addon cannot load on a root's glibc: the first symbol version the loader finds missing, by suite.
const ADDON_CANNOT_LOAD: Record<string, string> = { bullseye: 'GLIBC_2.32' };
// OPENISCSI_LAB_RELEASES=trixie,sid picks some of the releases (default: all three); an unknown name fails the
// file rather than being ignored.
const picked = (process.env.OPENISCSI_LAB_RELEASES ?? KNOWN.map((k) => k.suite).join(',')).split(',').map((x) => x.trim());
const RELEASES = picked.map((suite) => {
  const r = KNOWN.find((k) => k.suite === suite);
  if (!r) throw new Error(`OPENISCSI_LAB_RELEASES: no release ${suite} (known: ${KNOWN.map((k) => k.suite).join(', ')})`);
  return r;
});

const T = (n: string) => `iqn.2026-11.org.openiscsi:releases.${n}`;
const CHAP = { user: 'rel-alice', secret: 'rel-alice-secret1' };
const MUTUAL = { ...CHAP, mutualUser: 'rel-target', mutualSecret: 'rel-target-secret' };
// where conn and iface start in node_rec, per family (layout_check.h), for naming a differing byte
const PARTS: Record<string, { conn: number; iface: number }> = {
  '2.1.1': { conn: 2232, iface: 3328 }, '2.1.11': { conn: 2240, iface: 3336 }, '2.1.12': { conn: 2240, iface: 3352 }, '2.1.13': { conn: 2248, iface: 3360 },
};

interface S {
  sid: number;
  targetName: string;
  state?: string;
  devices: Array<{ blockDevice?: string }>;
}

describe('other releases\' iscsid in the lab guest', () => {
  let lab: Lab;
  const roots = new Map<string, string>();
  const call = <R>(fn: string, ...args: unknown[]) => lab.call<R>(packageEntry, fn, args);
  const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GuestError);
  const sessionCount = async () => (await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim();

  beforeAll(async () => {
    for (const r of RELEASES) roots.set(r.suite, releaseRoot(r));
    lab = await startLab({
      targets: [
        { iqn: T('plain'), luns: 1 },
        { iqn: T('chap'), luns: 1, chap: CHAP },
        { iqn: T('mutual'), luns: 1, chap: MUTUAL },
        { iqn: T('golden'), luns: 0 },
      ],
    });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  describe.each(RELEASES)('Debian $suite, open-iscsi $pkg', (rel) => {
    let root: string;
    let iscsiadm: string;
    beforeAll(async () => {
      root = roots.get(rel.suite)!;
      iscsiadm = `chroot ${root} /usr/sbin/iscsiadm`;
      await switchIscsid(lab, root);
    });

    it('runs that release\'s iscsid, and the library takes its layout from the running daemon', async () => {
      expect(await lab.shOk(`${iscsiadm} --version`)).toContain(`version ${rel.version}`);
      const pids = (await lab.shOk('pidof iscsid')).trim().split(/\s+/);
      // iscsid and its logger process, both chrooted
      for (const pid of pids) expect(await lab.shOk(`readlink /proc/${pid}/root`)).toBe(`${root}\n`);
      const v = await call<{ pid: number }>('detectIscsidVersion', {});
      expect(v).toMatchObject({ version: rel.version, family: rel.family, source: 'process', dbRoot: rel.dbRoot });
      expect(pids).toContain(String(v.pid));
    });

    it('logs in (disk, data round trip) and logs out', async () => {
      const s = await call<S>('login', { target: T('plain'), portal: lab.portal });
      expect(s).toMatchObject({ targetName: T('plain'), state: 'LOGGED_IN' });
      const disk = s.devices.find((d) => d.blockDevice)?.blockDevice;
      expect(disk).toMatch(/^sd[a-z]+$/);
      await lab.shOk(`head -c 1048576 /dev/urandom > /tmp/pattern && dd if=/tmp/pattern of=/dev/${disk} bs=1M count=1 oflag=direct 2>/dev/null`);
      await lab.shOk(`echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/${disk} bs=1M count=1 iflag=direct 2>/dev/null | cmp - /tmp/pattern`);
      // that release's iscsiadm sees the session iscsid made for us
      expect(await lab.shOk(`${iscsiadm} -m session`)).toContain(T('plain'));
      expect(await call<number[]>('logout', { sid: s.sid })).toEqual([s.sid]);
      expect(await sessionCount()).toBe('0');
    });

    it('one-way CHAP: a wrong secret is the auth error and leaves no session; the right one logs in', async () => {
      const e = await err(call('login', { target: T('chap'), portal: lab.portal, auth: { username: CHAP.user, password: 'wrong-secret-000' } }));
      expect(e).toMatchObject({ code: 'ISCSID_ERR_LOGIN_AUTH_FAILED', errno: 24 });
      expect(await sessionCount()).toBe('0');
      const s = await call<S>('login', { target: T('chap'), portal: lab.portal, auth: { username: CHAP.user, password: CHAP.secret } });
      expect(s).toMatchObject({ state: 'LOGGED_IN' });
      await call('logout', { sid: s.sid });
    });

    it('mutual CHAP: a wrong target secret fails; the right one logs in', async () => {
      const good = { username: CHAP.user, password: CHAP.secret, usernameIn: MUTUAL.mutualUser, passwordIn: MUTUAL.mutualSecret };
      const e = await err(call('login', { target: T('mutual'), portal: lab.portal, auth: { ...good, passwordIn: 'not-the-target-1' } }));
      expect(e?.code).toMatch(/^ISCSID_ERR_(LOGIN_AUTH_FAILED|FATAL_LOGIN|LOGIN)$/);
      expect(await sessionCount()).toBe('0');
      const s = await call<S>('login', { target: T('mutual'), portal: lab.portal, auth: good });
      expect(s).toMatchObject({ state: 'LOGGED_IN' });
      await call('logout', { sid: s.sid });
    });

    it('sessionState and sessionStats come from that iscsid', async () => {
      const s = await call<S>('login', { target: T('plain'), portal: lab.portal });
      expect(await call('sessionState', s.sid)).toEqual({ sid: s.sid, connection: 'LOGGED_IN', stage: 'NO_CHANGE' });
      const stats = await call<{ loginPdus: number; scsicmdPdus: number }>('sessionStats', s.sid);
      expect(stats.scsicmdPdus).toBeGreaterThan(0);
      await call('logout', { sid: s.sid });
      expect(await err(call('sessionState', s.sid))).toMatchObject({ code: expect.stringMatching(/SESSION_NOT_FOUND|ISCSID_ERR_SESS_NOT_FOUND/) });
    });

    it('persist: true writes a node record where that release\'s iscsiadm lists and reads it', async () => {
      const s = await call<S>('login', { target: T('plain'), portal: lab.portal, persist: true });
      // each iscsiadm prints an old-style record's tpgt -1 its own way: -1, 4294967295 (2.1.11), 65535 (2.1.13)
      expect(await lab.shOk(`${iscsiadm} -m node`)).toMatch(new RegExp(`^127\\.0\\.0\\.1:3260,(-1|4294967295|65535) ${T('plain').replace(/\./g, '\\.')}$`, 'm'));
      const shown = await lab.shOk(`${iscsiadm} -m node -T ${T('plain')} -p ${lab.portal}`);
      expect(shown).toMatch(/^node\.conn\[0\]\.address = 127\.0\.0\.1$/m);
      expect(shown).toMatch(/^node\.session\.scan = auto$/m);
      expect((await lab.sh(`ls ${rel.dbRoot}/nodes/${T('plain')}`)).code).toBe(0);
      await call('logout', { sid: s.sid });
      await lab.shOk(`rm -rf ${rel.dbRoot}/nodes/*`);
    });

    it('createIface writes into that release\'s database, where its iscsiadm -m iface lists it; deleteIface removes it', async () => {
      const made = await call<{ name: string; file: string; created: boolean }>('createIface', { transport: 'tcp', netdev: 'lo', name: 'rel-lo', checkHardware: false });
      try {
        expect(made).toEqual({ name: 'rel-lo', file: `${rel.dbRoot}/ifaces/rel-lo`, created: true });
        const listed = await lab.shOk(`${iscsiadm} -m iface && ${iscsiadm} -m iface -I rel-lo`);
        expect(listed).toMatch(/^rel-lo tcp,[^,]*,[^,]*,lo,/m);
        expect(listed).toMatch(/^iface\.net_ifacename = lo$/m);
        // checkHardware (and so connect's checks) finds it there too, not in /etc/iscsi/ifaces
        expect(await call<{ transport: string; iface?: string }>('checkHardware', { iface: 'rel-lo' })).toMatchObject({ transport: 'tcp', iface: 'rel-lo' });
        expect(await call('deleteIface', 'rel-lo')).toEqual({ deleted: true });
        expect(await lab.shOk(`${iscsiadm} -m iface`)).not.toMatch(/^rel-lo /m);
      } finally {
        await lab.shOk('rm -f /etc/iscsi/ifaces/rel-lo /var/lib/iscsi/ifaces/rel-lo');
      }
    });

    it('ifaces() and nodes(), run on that release\'s own glibc and libopeniscsiusr, equal its iscsiadm -m iface and -m node', async () => {
      // the root's glibc, from the libc6 package it was built with
      const glibc = /^libc6_(\d+\.\d+)-/m.exec(fs.readFileSync(path.join(root, '.packages'), 'utf8'))![1]!;
      // one guest command each for the setup and for what that iscsiadm lists: process starts are slow here
      // (node records made with -o new, not by a discovery: seconds cheaper, and one of them on the iface)
      await lab.shOk(
        [
          `${iscsiadm} -m iface -I rel-eth -o new`,
          `${iscsiadm} -m iface -I rel-eth -o update -n iface.net_ifacename -v lo`,
          `${iscsiadm} -m node -o new -T ${T('plain')} -p ${lab.portal},1`,
          `${iscsiadm} -m node -o new -T ${T('chap')} -p ${lab.portal},1 -I rel-eth`,
        ].join(' >/dev/null && '),
      );
      try {
        const r = await readInRoot(lab, root, packageEntry);
        expect(r.glibc).toBe(glibc);
        const missing = ADDON_CANNOT_LOAD[rel.suite];
        if (missing) {
          expect(r.error).toMatchObject({ code: 'NATIVE_UNAVAILABLE', message: expect.stringContaining(`version \`${missing}' not found`) });
          return;
        }
        expect(r.error).toBeUndefined();
        // that root's libc and libopeniscsiusr, not the host's (which the chroot sees under /host)
        expect(r.mapped).toEqual(['/usr/lib/x86_64-linux-gnu/libc.so.6', expect.stringMatching(/^\/usr\/lib\/x86_64-linux-gnu\/libopeniscsiusr\.so\.0[.\d]*$/)]);
        // "rel-eth tcp,<empty>,<empty>,lo,<empty>"
        const [ifaceList, nodeList] = (await lab.shOk(`${iscsiadm} -m iface && echo --- && ${iscsiadm} -m node`)).split('---\n');
        const theirIfaces = ifaceList!.trim().split('\n').map((l) => l.replace(/^(\S+) ([^,]+),[^,]*,[^,]*,([^,]*),.*$/, '$1 $2 $3')).sort();
        expect(theirIfaces).toContain('rel-eth tcp lo');
        expect(r.ifaces!.map((i) => `${i.name} ${i.transport} ${i.netdev || '<empty>'}`).sort()).toEqual(theirIfaces);
        const theirNodes = nodeList!.trim().split('\n').sort();
        expect(theirNodes).toEqual([`${lab.portal},1 ${T('chap')}`, `${lab.portal},1 ${T('plain')}`]);
        expect(r.nodes!.map((n) => `${n.portal},${n.tpgt} ${n.targetName}`).sort()).toEqual(theirNodes);
        expect(r.nodes!.map((n) => `${n.targetName} ${n.ifaceName}`).sort()).toEqual([`${T('chap')} rel-eth`, `${T('plain')} default`]);
      } finally {
        await lab.shOk(`rm -rf ${rel.dbRoot}/nodes/* ${rel.dbRoot}/send_targets/* ${rel.dbRoot}/ifaces/rel-eth`);
      }
    });

    it('its iscsiadm\'s LOGIN request, for a node its discovery made, is what the builder makes: 0 differing bytes', async () => {
      await lab.shOk(`${iscsiadm} -m discovery -t st -p ${lab.portal} >/dev/null`);
      let captured: Buffer;
      try {
        captured = await captureLogin(lab, root, T('golden'), lab.portal);
      } finally {
        await lab.shOk(`rm -rf ${rel.dbRoot}/nodes/* ${rel.dbRoot}/send_targets/*`);
      }
      const conf = parseConf(await lab.shOk('cat /etc/iscsi/iscsid.conf'), 'iscsid.conf');
      const r = defaultRecord();
      applyConf(r, conf);
      applyIface(r, { name: 'default', transport: 'tcp' });
      Object.assign(r, { name: T('golden'), tpgt: 1, discType: 0, discAddress: '127.0.0.1', discPort: 3260 });
      r.conn.address = '127.0.0.1';
      r.conn.port = 3260;
      const ours = native().buildRequest(rel.family, IPC_COMMAND.SESSION_LOGIN, 0, r);
      // bytes 16..31 are node_rec's list_head: two pointers into iscsiadm's heap, which iscsid ignores
      captured.fill(0, 16, 32);
      // OPENISCSI_LAB_SAVE_CAPTURES=DIR keeps the capture (test/fixtures/ipc/login_req_<suite>.bin came from it)
      const keep = process.env.OPENISCSI_LAB_SAVE_CAPTURES;
      if (keep) fs.writeFileSync(path.join(keep, `login_req_${rel.suite}_${rel.pkg}.bin`), captured);
      const size = native().requestSize(rel.family);
      const differ = [...Array(Math.max(ours.length, captured.length)).keys()].filter((i) => ours[i] !== captured[i]);
      const parts = { ...PARTS[rel.family]!, node: size - 16 };
      const first = differ.length ? `first at byte ${differ[0]}, ${fieldAt(differ[0]!, parts)}: iscsiadm ${captured[differ[0]!]}, ours ${ours[differ[0]!]}` : '';
      expect({ size: captured.length, differing: differ.length, first }).toEqual({ size, differing: 0, first: '' });
    });
  });
});
