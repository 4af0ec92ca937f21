// login() reuses an existing session for its (target, portal, iface) only when the kernel says LOGGED_IN; in another
// state it asks iscsid first (ISCSID_NOT_RUNNING when it is not there), then waits within the deadline.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { login } from '../../lib/iscsid/login';
import { IPC_COMMAND } from '../../lib/iscsid/ipc';
import type { NativeIpcResponse, NativeSessionRow } from '../../lib/native';
import { sessionRow } from '../fixtures/session-rows';

const TARGET = 'iqn.2026-11.org.example:reuse';
const PORTAL = '192.0.2.10:3260';
const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-reuse-'));
afterAll(() => fs.rmSync(lockDir, { recursive: true, force: true }));
// A kernel with iscsi_tcp registered, so that "iscsid down" is what these tests see on any host (on a kernel
// that cannot have iSCSI, login says ISCSI_TRANSPORT_NOT_LOADED instead: test/unit/transport-presence.test.ts).
const sysfsRoot = path.join(lockDir, 'sys');
fs.mkdirSync(path.join(sysfsRoot, 'class', 'iscsi_transport', 'tcp'), { recursive: true });
fs.writeFileSync(path.join(sysfsRoot, 'class', 'iscsi_transport', 'tcp', 'caps'), '0x39\n');

const row = (sid: number, state: string): NativeSessionRow =>
  sessionRow({
    sid, targetName: TARGET, address: '192.0.2.10', port: 3260, persistentAddress: '192.0.2.10', persistentPort: 3260, tpgt: 1,
    username: '', usernameIn: '', recoveryTmo: 120, luResetTmo: 30, tgtResetTmo: 30, abortTmo: 15,
    iface: { name: 'default', transport: 'tcp', hwaddress: '', ipaddress: '', netdev: '', initiatorName: '', portState: '', portSpeed: '', isDefault: true },
    sysfs: { present: true, state, devices: [] },
  });

type Iscsid = 'up' | 'down' | 'unaware';

/** The kernel's sessions (`state` of each changeable by the test) and an iscsid that is up, down, or does not know them. */
function fake(iscsid: Iscsid, sessions: Array<{ sid: number; state: string }>) {
  const sent: number[] = [];
  const rsp = (command: number, err = 0): NativeIpcResponse => ({ command, err, sessionState: 0, connState: 0, var: '', stats: {} as NativeIpcResponse['stats'] });
  const binding = {
    getSessions: async () => {
      const list = sessions.map((s) => row(s.sid, s.state));
      return { sessions: list, sysfsSessionIds: list.map((r) => r[0]) };
    },
    getSession: async () => Promise.reject(new Error('not used')),
    getIface: async () => Promise.reject(new Error('not used')),
    buildRequest: (_family: string, command: number) => Buffer.from([command]),
    ipcRequest: (bytes: Buffer) => {
      const command = bytes[0]!;
      sent.push(command);
      const promise = (async () => {
        if (iscsid === 'down') throw Object.assign(new Error('cannot connect to iscsid: Connection refused'), { code: 'ISCSID_NOT_RUNNING', errno: 111 });
        if (command === IPC_COMMAND.SESSION_INFO) return rsp(command, iscsid === 'unaware' ? 2 : 0);
        if (command === IPC_COMMAND.SESSION_LOGIN) {
          sessions.push({ sid: 42, state: 'LOGGED_IN' });
          return rsp(command);
        }
        throw new Error(`unexpected command ${command}`);
      })();
      return { promise, cancel: () => {} };
    },
  };
  return { binding, sent };
}

const opts = (binding: ReturnType<typeof fake>['binding'], timeoutMs = 2_000) => ({
  target: TARGET,
  portal: PORTAL,
  abi: '2.1.8',
  timeoutMs,
  deps: { binding: binding as never, iscsidConfPath: '/nonexistent', lockDir, kernel: { sysfsRoot } },
});
const rejection = (p: Promise<unknown>) => p.then(() => { throw new Error('login succeeded'); }, (e: unknown) => e as { name: string; code: string; details?: Record<string, unknown> });

describe('login() and an existing session', () => {
  it('reuses a LOGGED_IN session without sending a login', async () => {
    const f = fake('up', [{ sid: 5, state: 'LOGGED_IN' }]);
    const s = await login(opts(f.binding));
    expect(s).toMatchObject({ sid: 5, state: 'LOGGED_IN' });
    expect(f.sent).toEqual([]);
  });

  it('a half-made session (FAILED) with iscsid down is ISCSID_NOT_RUNNING at once, naming the state, not success', async () => {
    const f = fake('down', [{ sid: 5, state: 'FAILED' }]);
    const t0 = Date.now();
    const e = await rejection(login(opts(f.binding, 30_000)));
    expect(e).toMatchObject({ code: 'ISCSID_NOT_RUNNING', details: { sid: 5, state: 'FAILED' } });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(f.sent).toEqual([IPC_COMMAND.SESSION_INFO]);
  });

  it('a FAILED session that iscsid recovers within the deadline is returned once LOGGED_IN', async () => {
    const sessions = [{ sid: 5, state: 'FAILED' }];
    const f = fake('up', sessions);
    setTimeout(() => (sessions[0]!.state = 'LOGGED_IN'), 200);
    const s = await login(opts(f.binding, 5_000));
    expect(s).toMatchObject({ sid: 5, state: 'LOGGED_IN' });
    expect(f.sent).toEqual([IPC_COMMAND.SESSION_INFO]);
  });

  it('a session still FAILED at the deadline is SESSION_NOT_LOGGED_IN (a timeout) naming the state', async () => {
    const f = fake('up', [{ sid: 5, state: 'FAILED' }]);
    const t0 = Date.now();
    const e = await rejection(login(opts(f.binding, 600)));
    const elapsed = Date.now() - t0;
    expect(e).toMatchObject({ name: 'IscsiTimeoutError', code: 'SESSION_NOT_LOGGED_IN', details: { sid: 5, state: 'FAILED', target: TARGET } });
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(2_000);
    expect(f.sent).toEqual([IPC_COMMAND.SESSION_INFO]);
  });

  it('a session iscsid does not manage is SESSION_NOT_LOGGED_IN at once', async () => {
    const f = fake('unaware', [{ sid: 5, state: 'FREE' }]);
    const t0 = Date.now();
    const e = await rejection(login(opts(f.binding, 30_000)));
    expect(e).toMatchObject({ code: 'SESSION_NOT_LOGGED_IN', details: { sid: 5, state: 'FREE' } });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('a session that disappears while waited for is made afresh', async () => {
    const sessions = [{ sid: 5, state: 'FAILED' }];
    const f = fake('up', sessions);
    setTimeout(() => sessions.splice(0, 1), 150);
    const s = await login(opts(f.binding, 5_000));
    expect(s).toMatchObject({ sid: 42, state: 'LOGGED_IN' });
    expect(f.sent).toEqual([IPC_COMMAND.SESSION_INFO, IPC_COMMAND.SESSION_LOGIN]);
  });

  it('no session and iscsid down is ISCSID_NOT_RUNNING', async () => {
    const f = fake('down', []);
    expect(await rejection(login(opts(f.binding)))).toMatchObject({ code: 'ISCSID_NOT_RUNNING' });
  });
});
