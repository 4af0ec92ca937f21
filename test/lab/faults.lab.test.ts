// The fault suite (issue 16): iscsid killed mid-login, iscsid absent, the target stopped mid-session, a caller
// without root. Each case ends in a typed error (its code asserted) within its deadline (the elapsed time
// asserted), and afterwards: no session in sysfs (or the test says why one stays), no lock held (another login
// to the same key proceeds at once), no descriptor left in the agent's process. iscsid is restarted between cases.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { GuestError, packageEntry, repoRoot, startLab, type Lab } from './lab';
import { runtimeDependencies } from '../tools/runtime-deps';

const T = (n: string) => `iqn.2026-11.org.openiscsi:faults.${n}`;
const TARGETS = ['warm', 'kill', 'absent', 'nonroot', 'stop'];
const fdsModule = path.join(repoRoot, 'test/lab/guest/fds.js');
const distDir = path.dirname(packageEntry);

interface S {
  sid: number;
  state?: string;
}

describe('fault suite (real kernel, real iscsid)', () => {
  let lab: Lab;
  const call = <R>(fn: string, ...args: unknown[]) => lab.call<R>(packageEntry, fn, args);
  const fail = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a typed error, got success'); }, (e: unknown) => e as GuestError);
  const fds = () => lab.call<string[]>(fdsModule, 'openFds', [distDir]);
  const sysfsSessions = async (target: string) =>
    (await lab.shOk(`for f in /sys/class/iscsi_session/*/targetname; do [ -e "$f" ] && [ "$(cat "$f")" = '${target}' ] && echo "$f"; done; true`)).trim();
  const iscsidUp = () => lab.shOk('for i in $(seq 100); do grep -q @ISCSIADM_ABSTRACT_NAMESPACE /proc/net/unix && exit 0; sleep 0.05; done; exit 1');
  const killIscsid = () => lab.shOk('p=$(pidof iscsid) && kill -9 $p; for i in $(seq 100); do pidof iscsid >/dev/null || exit 0; sleep 0.05; done; exit 1');
  const startIscsid = async () => {
    await lab.shOk('pidof iscsid >/dev/null || iscsid');
    await iscsidUp();
  };
  /** Nothing held: another login to the same key proceeds at once (and its logout removes it). */
  async function lockFree(target: string): Promise<void> {
    const t0 = Date.now();
    const s = await call<S>('login', { target, portal: lab.portal, timeoutMs: 20_000 });
    expect(s.state).toBe('LOGGED_IN');
    expect(Date.now() - t0).toBeLessThan(10_000);
    await call('logout', { sid: s.sid });
  }
  let baseline: string[] = [];
  const note = (...a: unknown[]) => console.log('[faults]', ...a);
  /** The agent's descriptors (after a GC: see fds.js) are exactly the baseline's. */
  async function noDescriptorLeft(): Promise<void> {
    expect(await fds()).toEqual(baseline);
  }

  beforeAll(async () => {
    lab = await startLab({ targets: TARGETS.map((n) => ({ iqn: T(n), luns: 1, lunSizeMiB: 8 })) });
    // warm the agent (modules, the addon, libuv's threads) so that the descriptor count is stable
    const s = await call<S>('login', { target: T('warm'), portal: lab.portal });
    await call('logout', { sid: s.sid });
    baseline = await fds();
  });
  afterAll(async () => {
    await lab?.stop();
  });
  afterEach(async () => {
    // iscsid restarted between cases (a fresh daemon takes over whatever the kernel still has)
    await lab.sh('kill -CONT $(pidof tgtd) 2>/dev/null');
    await killIscsid();
    await startIscsid();
  });

  it('iscsid SIGKILLed mid-login: the login fails typed within its deadline; the next one (iscsid still down) is ISCSID_NOT_RUNNING, not the half-made session', async () => {
    // tgtd stopped: the kernel still completes the TCP handshake (the listener's backlog) and queues what
    // iscsid sends, but nobody answers. iscsid makes the kernel's session and connection, then sends the
    // login PDU through it; once that PDU (a 48-byte header and its keys) sits in the unaccepted socket's
    // receive queue, iscsid is waiting for the reply and the agent for iscsid's answer: iscsid is killed at
    // exactly that point, however slow the guest is.
    await lab.shOk('kill -STOP $(pidof tgtd)');
    const t0 = Date.now();
    const first = fail(call('login', { target: T('kill'), portal: lab.portal, timeoutMs: 15_000 }));
    const pduQueued = await lab.sh(`for i in $(seq 400); do ss -tnH state established '( sport = :3260 )' | awk '$1 >= 48 { f = 1 } END { exit !f }' && exit 0; sleep 0.025; done; exit 1`);
    expect(pduQueued.code, 'the login PDU never reached the stopped target').toBe(0);
    const loginPduAtMs = Date.now() - t0;
    await killIscsid();
    await lab.shOk('kill -CONT $(pidof tgtd)');
    const e1 = await first;
    // the agent's request was written and iscsid's connection closed without an answer
    expect(e1.name).toMatch(/^Iscsi/);
    expect(e1.code).toBe('ISCSID_COMM_ERR');
    expect(Date.now() - t0).toBeLessThan(15_000 + 2_000);
    // the kernel's half of the session (made before the login PDU was sent) stays: nobody is left to remove it
    const halfMade = await sysfsSessions(T('kill'));
    expect(halfMade).not.toBe('');

    const t1 = Date.now();
    const e2 = await fail(call('login', { target: T('kill'), portal: lab.portal, timeoutMs: 10_000 }));
    expect(e2.code).toBe('ISCSID_NOT_RUNNING');
    note('iscsid killed: login PDU at the target after', loginPduAtMs, 'ms; first login', e1.code, 'half-made session:', halfMade);
    note('iscsid killed: next login', Date.now() - t1, e2.code);
    expect(Date.now() - t1).toBeLessThan(10_000);
    expect(e2.details).toMatchObject({ state: expect.not.stringMatching(/^LOGGED_IN$/) });

    // By design the kernel keeps the half-made session while no iscsid is there to remove it (nothing in user
    // space can destroy a kernel session without iscsid); a restarted iscsid takes it over, and then a login to
    // the same key proceeds at once and its logout leaves nothing.
    await startIscsid();
    const deadline = Date.now() + 30_000;
    let s: S | undefined;
    while (!s && Date.now() < deadline) {
      s = await call<S>('login', { target: T('kill'), portal: lab.portal, timeoutMs: 20_000 }).catch(() => undefined);
    }
    expect(s?.state).toBe('LOGGED_IN');
    await call('logout', { sid: s!.sid });
    expect(await sysfsSessions(T('kill'))).toBe('');
    await lockFree(T('kill'));
    await noDescriptorLeft();
  });

  it('iscsid absent: login and sessionState are ISCSID_NOT_RUNNING at once; nothing is left', async () => {
    await killIscsid();
    const t0 = Date.now();
    const e = await fail(call('login', { target: T('absent'), portal: lab.portal, timeoutMs: 10_000 }));
    expect(e).toMatchObject({ name: 'IscsiError', code: 'ISCSID_NOT_RUNNING' });
    note('iscsid absent: login', Date.now() - t0, e.code);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await fail(call('sessionState', 1))).toMatchObject({ code: 'ISCSID_NOT_RUNNING' });
    expect(await sysfsSessions(T('absent'))).toBe('');
    await startIscsid();
    await lockFree(T('absent'));
    await noDescriptorLeft();
  });

  it('a caller without root: PERMISSION_DENIED at once, nothing written, nothing held', async () => {
    // a copy of the package nobody can read (the checkout itself may be under a private home directory)
    await lab.shOk(
      `rm -rf /tmp/pkg && mkdir -p /tmp/pkg/build/Release /tmp/pkg/node_modules && cp -r ${repoRoot}/package.json ${distDir} /tmp/pkg/ && ` +
        `cp ${repoRoot}/build/Release/openiscsi.node /tmp/pkg/build/Release/ && ` +
        // the loader's runtime dependency (bindings finds the addon) and its own
        `cp -r ${runtimeDependencies(repoRoot).map((d) => `${repoRoot}/node_modules/${d}`).join(' ')} /tmp/pkg/node_modules/ && chmod -R a+rX /tmp/pkg`,
    );
    const script = `require('/tmp/pkg/dist/index.js').login({ target: '${T('nonroot')}', portal: '${lab.portal}', persist: true, timeoutMs: 10000 }).then(() => console.log('OK'), (e) => console.log('ERR', e.name, e.code, Date.now() - t0))`;
    const out = await lab.shOk(`setpriv --reuid=65534 --regid=65534 --clear-groups -- ${process.execPath} -e "const t0 = Date.now(); ${script}"; find /etc/iscsi /run/lock -xdev -uid 65534`);
    const m = /^ERR IscsiPermissionError PERMISSION_DENIED (\d+)$/.exec(out.trim());
    expect(m, out).not.toBeNull();
    note('caller without root: login', Number(m![1]), 'PERMISSION_DENIED');
    expect(Number(m![1])).toBeLessThan(10_000); // its deadline
    expect(await sysfsSessions(T('nonroot'))).toBe('');
    await lockFree(T('nonroot'));
    await noDescriptorLeft();
  });

  it('the target stopped mid-session: a login to it is SESSION_NOT_LOGGED_IN naming FAILED at its deadline; logout removes the session', async () => {
    const s = await call<S>('login', { target: T('stop'), portal: lab.portal });
    expect(s.state).toBe('LOGGED_IN');
    // tgtd gone: the connection drops and the kernel marks the session FAILED while iscsid tries to reconnect
    await lab.shOk('kill -9 $(pidof tgtd); for i in $(seq 200); do [ "$(cat /sys/class/iscsi_session/session' + s.sid + '/state)" = FAILED ] && exit 0; sleep 0.05; done; exit 1');
    const t0 = Date.now();
    const e = await fail(call('login', { target: T('stop'), portal: lab.portal, timeoutMs: 3_000 }));
    const elapsed = Date.now() - t0;
    expect(e).toMatchObject({ name: 'IscsiTimeoutError', code: 'SESSION_NOT_LOGGED_IN', details: { sid: s.sid, state: 'FAILED' } });
    expect(elapsed).toBeGreaterThanOrEqual(2_900);
    note('target stopped: login', elapsed, e.code);
    expect(elapsed).toBeLessThan(3_000 + 2_000);
    // logging out a session whose target is gone: iscsid stops its recovery and removes it
    const t1 = Date.now();
    expect(await call<number[]>('logout', { sid: s.sid }, { timeoutMs: 30_000 })).toEqual([s.sid]);
    expect(Date.now() - t1).toBeLessThan(30_000);
    expect(await sysfsSessions(T('stop'))).toBe('');
    // the target back (tid 5: the fifth of TARGETS), then the same key logs in at once
    await lab.shOk(
      // the killed tgtd's control socket is still there: wait until the new one answers, not until a file exists
      'rm -f /run/tgtd/socket.0; tgtd --iscsi portal=127.0.0.1:3260; for i in $(seq 200); do tgtadm --lld iscsi --op show --mode sys >/dev/null 2>&1 && break; sleep 0.05; done; ' +
        `tgtadm --lld iscsi --op new --mode target --tid 5 -T ${T('stop')} && tgtadm --lld iscsi --op new --mode logicalunit --tid 5 --lun 1 -b /tmp/tgt/t5-lun1.img && tgtadm --lld iscsi --op bind --mode target --tid 5 -I ALL`,
    );
    await lockFree(T('stop'));
    await noDescriptorLeft();
  });
});
