// login()/logout() through the real iscsid 2.1.8 in the guest, against the guest's tgtd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestError, packageEntry, startLab, type Lab } from './lab';

const T = (n: string) => `iqn.2026-11.org.openiscsi:login.${n}`;
const CHAP = { user: 'alice', secret: 'alice-secret-01' };
const MUTUAL = { ...CHAP, mutualUser: 'target1', mutualSecret: 'target-secret-1' };

interface S {
  sid: number;
  targetName: string;
  state?: string;
  iface: { name: string };
  devices: Array<{ hctl: string; blockDevice?: string; sizeBytes?: number }>;
}

describe('login and logout through iscsid (real kernel)', () => {
  let lab: Lab;
  const call = <R>(fn: string, ...args: unknown[]) => lab.call<R>(packageEntry, fn, args);
  const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GuestError);

  beforeAll(async () => {
    lab = await startLab({
      targets: [
        { iqn: T('plain'), luns: 1 },
        { iqn: T('chap'), luns: 1, chap: CHAP },
        { iqn: T('mutual'), luns: 1, chap: MUTUAL },
        ...Array.from({ length: 8 }, (_, i) => ({ iqn: T(`c${i}`), luns: 1, lunSizeMiB: 8 })),
        { iqn: T('race'), luns: 1 },
        { iqn: T('xproc'), luns: 1 },
        { iqn: T('slow'), luns: 1 },
      ],
    });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('logs in: the session is in sysfs, the disk exists, data written reads back; logout removes it', async () => {
    const s = await call<S>('login', { target: T('plain'), portal: lab.portal });
    expect(s).toMatchObject({ targetName: T('plain'), state: 'LOGGED_IN', iface: { name: 'default' } });
    expect(await lab.shOk(`cat /sys/class/iscsi_session/session${s.sid}/targetname`)).toBe(`${T('plain')}\n`);
    const disk = s.devices.find((d) => d.blockDevice)?.blockDevice;
    expect(disk).toMatch(/^sd[a-z]+$/);
    await lab.shOk(`test -b /dev/${disk}`);
    await lab.shOk(`head -c 1048576 /dev/urandom > /tmp/pattern && dd if=/tmp/pattern of=/dev/${disk} bs=1M count=1 oflag=direct 2>/dev/null`);
    await lab.shOk(`echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/${disk} bs=1M count=1 iflag=direct 2>/dev/null | cmp - /tmp/pattern`);
    expect(await call<number[]>('logout', { sid: s.sid })).toEqual([s.sid]);
    expect((await lab.sh(`test -e /sys/class/iscsi_session/session${s.sid}`)).code).not.toBe(0);
  });

  it('is idempotent: a second login returns the same session', async () => {
    const a = await call<S>('login', { target: T('plain'), portal: lab.portal });
    const b = await call<S>('login', { target: T('plain'), portal: lab.portal });
    expect(b.sid).toBe(a.sid);
    expect(await call<number[]>('logout', { target: T('plain'), portal: lab.portal })).toEqual([a.sid]);
    expect(await call<number[]>('logout', { target: T('plain'), portal: lab.portal })).toEqual([]);
  });

  it('logs in with one-way CHAP; a wrong secret is the auth error, quickly, and leaves no session', async () => {
    const t0 = Date.now();
    const e = await err(call('login', { target: T('chap'), portal: lab.portal, auth: { username: CHAP.user, password: 'wrong-secret-00' } }));
    expect(e).toMatchObject({ code: 'ISCSID_ERR_LOGIN_AUTH_FAILED', errno: 24 });
    expect(e?.message).not.toContain('wrong-secret-00');
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim()).toBe('0');
    const s = await call<S>('login', { target: T('chap'), portal: lab.portal, auth: { username: CHAP.user, password: CHAP.secret } });
    expect(s).toMatchObject({ state: 'LOGGED_IN' });
    await call('logout', { sid: s.sid });
  });

  it('logs in with mutual CHAP; a wrong target secret fails', async () => {
    const good = { username: CHAP.user, password: CHAP.secret, usernameIn: MUTUAL.mutualUser, passwordIn: MUTUAL.mutualSecret };
    const e = await err(call('login', { target: T('mutual'), portal: lab.portal, auth: { ...good, passwordIn: 'not-the-target1' } }));
    expect(e?.code).toMatch(/^ISCSID_ERR_(LOGIN_AUTH_FAILED|FATAL_LOGIN|LOGIN)$/);
    const s = await call<S>('login', { target: T('mutual'), portal: lab.portal, auth: good });
    expect(s).toMatchObject({ state: 'LOGGED_IN' });
    await call('logout', { sid: s.sid });
  });

  it('logs in to 8 targets concurrently', async () => {
    const list = await Promise.all(Array.from({ length: 8 }, (_, i) => call<S>('login', { target: T(`c${i}`), portal: lab.portal })));
    expect(new Set(list.map((s) => s.sid)).size).toBe(8);
    expect(list.every((s) => s.devices.some((d) => d.blockDevice))).toBe(true);
    await Promise.all(list.map((s) => call('logout', { sid: s.sid })));
    expect((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim()).toBe('0');
  });

  it('two concurrent logins to the same target make one session', async () => {
    const [a, b] = await Promise.all([call<S>('login', { target: T('race'), portal: lab.portal }), call<S>('login', { target: T('race'), portal: lab.portal })]);
    expect(a.sid).toBe(b.sid);
    expect((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim()).toBe('1');
    await call('logout', { sid: a.sid });
  });

  it('two processes logging in to the same target at once make one session (cross-process lock)', async () => {
    const one = `node -e "require('${packageEntry}').login({ target: '${T('xproc')}', portal: '${lab.portal}' }).then((s) => console.log('SID', s.sid), (e) => console.log('ERR', e.code))"`;
    const out = await lab.shOk(`(${one}) & (${one}) & wait`);
    const sids = [...out.matchAll(/SID (\d+)/g)].map((m) => Number(m[1]));
    expect(sids).toHaveLength(2);
    expect(sids[0]).toBe(sids[1]);
    expect((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim()).toBe('1');
    await call('logout', { sid: sids[0] });
    // The lock is a flock on a file in a root-only directory; the file stays (lock files are never unlinked).
    expect((await lab.shOk('stat -c "%a %u %F" /run/lock/openiscsi')).trim()).toBe('700 0 directory');
    expect((await lab.shOk('stat -c "%a %u %h" /run/lock/openiscsi/login-*.lock | sort -u')).trim()).toBe('600 0 1');
  });

  it('a lock directory planted by another user is refused: LOCK_DIR_UNSAFE, no login, nothing created in it', async () => {
    await lab.shOk('rm -rf /run/lock/openiscsi && chmod 1777 /run/lock && setpriv --reuid=65534 --regid=65534 --clear-groups mkdir -m 0777 /run/lock/openiscsi');
    try {
      const e = await err(call('login', { target: T('xproc'), portal: lab.portal }));
      expect(e).toMatchObject({ name: 'IscsiPermissionError', code: 'LOCK_DIR_UNSAFE' });
      expect(e?.message).toMatch(/owned by uid 65534/);
      expect((await lab.shOk('ls -A /run/lock/openiscsi | wc -l')).trim()).toBe('0');
      expect((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim()).toBe('0');
    } finally {
      await lab.shOk('rm -rf /run/lock/openiscsi');
    }
  });

  it('a login that times out is reported as in flight; when iscsid completes it, the session is visible and removable', async () => {
    await lab.shOk('kill -STOP $(pidof tgtd)');
    let e: GuestError | undefined;
    try {
      e = await err(call('login', { target: T('slow'), portal: lab.portal, timeoutMs: 1500 }));
    } finally {
      await lab.shOk('kill -CONT $(pidof tgtd)');
    }
    expect(e).toMatchObject({ name: 'IscsiTimeoutError', code: 'LOGIN_TIMEOUT', details: { inFlight: true, target: T('slow'), iface: 'default' } });
    // iscsid carries on with the login it was given; the caller can see and remove the result.
    let found: S | undefined;
    for (let i = 0; i < 120 && !found; i++) {
      found = (await call<S[]>('sessions')).find((s) => s.targetName === T('slow'));
      if (!found) await new Promise((r) => setTimeout(r, 250));
    }
    expect(found?.state).toBe('LOGGED_IN');
    expect(await call<number[]>('logout', { target: T('slow'), portal: lab.portal })).toEqual([found!.sid]);
  });

  it('an unreachable portal fails within the deadline, reporting the login as still in flight', async () => {
    const t0 = Date.now();
    const e = await err(call('login', { target: T('plain'), portal: '127.0.0.1:3999', timeoutMs: 3000 }));
    expect(e).toMatchObject({ code: 'LOGIN_TIMEOUT', details: { inFlight: true } });
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('with few retries iscsid itself gives up with a transport error', async () => {
    const e = await err(
      call('login', { target: T('plain'), portal: '127.0.0.1:3998', options: { 'node.session.initial_login_retry_max': 1, 'node.conn[0].timeo.login_timeout': 2 } }),
    );
    expect(e?.code).toMatch(/^ISCSID_ERR_(TRANS|TRANS_TIMEOUT|LOGIN)$/);
  });

  it('sessionState, sessionStats and initiatorName come from iscsid', async () => {
    const s = await call<S>('login', { target: T('plain'), portal: lab.portal });
    expect(await call('sessionState', s.sid)).toEqual({ sid: s.sid, connection: 'LOGGED_IN', stage: 'NO_CHANGE' });
    const stats = await call<{ loginPdus: number; scsicmdPdus: number; custom: unknown[] }>('sessionStats', s.sid);
    expect(stats.scsicmdPdus).toBeGreaterThan(0);
    expect(await call('initiatorName')).toBe('iqn.2026-11.org.openiscsi:lab-guest');
    // the layout was chosen from the running daemon's executable, not from the package database
    // of a process holding the socket SO_PEERCRED names (iscsid listens, then forks: the pid it gives may be gone)
    const iscsidPids = (await lab.shOk('pidof iscsid')).trim().split(/\s+/).map(Number);
    const v = await call<{ pid: number; peerPid: number }>('detectIscsidVersion', {});
    expect(v).toMatchObject({ version: '2.1.8', family: '2.1.1', source: 'process' });
    expect(iscsidPids).toContain(v.pid);
    expect((await lab.shOk(`ls -l /proc/${v.pid}/fd`))).toMatch(/socket:/);
    await call('logout', { sid: s.sid });
    expect(await err(call('logout', { sid: s.sid }))).toMatchObject({ code: 'SESSION_NOT_FOUND' });
  });

  it('persist: true writes a node record that iscsiadm lists; by default nothing is written', async () => {
    const s = await call<S>('login', { target: T('plain'), portal: lab.portal });
    expect((await lab.shOk('iscsiadm -m node 2>/dev/null || true')).trim()).toBe('');
    await call('logout', { sid: s.sid });
    const p = await call<S>('login', { target: T('plain'), portal: lab.portal, persist: true });
    // iscsiadm prints an old-style record's tpgt -1 as 4294967295
    expect(await lab.shOk('iscsiadm -m node')).toMatch(new RegExp(`^127\\.0\\.0\\.1:3260,(-1|4294967295) ${T('plain').replace(/\./g, '\\.')}$`, 'm'));
    await call('logout', { sid: p.sid });
    await lab.shOk('rm -rf /etc/iscsi/nodes/*');
  });

  it('discovers the targets with our SendTargets client, then logs in to a discovered portal', async () => {
    const r = await call<{ targets: Array<{ name: string; portals: Array<{ portal: string; tpgt: number }> }>; initiatorName: string; method: string }>('discover', { portal: lab.portal });
    expect(r).toMatchObject({ initiatorName: 'iqn.2026-11.org.openiscsi:lab-guest', method: 'software' });
    expect(r.targets.map((t) => t.name)).toEqual(expect.arrayContaining([T('plain'), T('chap'), T('c7')]));
    const plain = r.targets.find((t) => t.name === T('plain'))!;
    const p = plain.portals[0]!;
    const s = await call<S>('login', { target: plain.name, portal: `${p.portal},${p.tpgt}` });
    expect(s).toMatchObject({ targetName: T('plain'), state: 'LOGGED_IN' });
    // discovery wrote nothing: iscsiadm's node database is still empty
    expect((await lab.sh('iscsiadm -m node')).stdout.trim()).toBe('');
    await call('logout', { sid: s.sid });
  });

  it('bad input fails before anything is sent', async () => {
    for (const [args, code] of [
      [{ target: 'not-an-iqn', portal: lab.portal }, 'INVALID_IQN'],
      [{ target: T('plain'), portal: '127.0.0.1:99999' }, 'INVALID_PORTAL'],
      [{ target: T('plain'), portal: lab.portal, iface: '../etc' }, 'INVALID_IFACE_NAME'],
      [{ target: T('plain'), portal: lab.portal, auth: { username: 'u', password: 'short' } }, 'INVALID_CHAP_SECRET'],
      [{ target: T('plain'), portal: lab.portal, options: { 'node.bogus': 1 } }, 'UNKNOWN_OPTION'],
    ] as const) {
      expect(await err(call('login', args))).toMatchObject({ name: 'IscsiValidationError', code });
    }
    expect((await lab.shOk('ls /sys/class/iscsi_session | wc -l')).trim()).toBe('0');
  });
});
