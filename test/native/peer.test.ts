// SO_PEERCRED before anything is sent: whoever holds iscsid's abstract name is identified first. Each case runs
// in a private network namespace (the abstract name is per namespace), with mock-iscsid.py as the listener,
// sometimes as a non-root user, sometimes from an executable that claims an open-iscsi version, and the
// addon's own calls (identifyIscsid, ipcRequest) as the client.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const addon = path.join(root, 'build/Release/openiscsi.node');
const mock = path.join(__dirname, 'mock-iscsid.py');

interface Result {
  ok?: Record<string, unknown>;
  err?: { code: string; message: string };
}

/** The client: identify, then (unless identifyOnly) a CONFIG_INAME request expecting `expectedPid` (default: the identified pid). */
function clientScript(o: { identifyOnly?: boolean; requestOnly?: boolean; expectedPid?: string; betweenCmd?: string }): string {
  return `
    const b = require(${JSON.stringify(addon)});
    const { execSync } = require('node:child_process');
    const out = (x) => console.log('RESULT ' + JSON.stringify(x));
    const fail = (e) => out({ err: { code: e.code, message: e.message } });
    const request = (pid) => b.ipcRequest(b.buildRequest('2.1.1', 8, 0), 3000, undefined, pid).promise;
    (async () => {
      ${o.requestOnly ? `return out({ ok: await request(0) });` : ''}
      const peer = await b.identifyIscsid(3000, undefined).promise;
      console.log('PEER ' + JSON.stringify(peer));
      ${o.identifyOnly ? 'return out({ ok: peer });' : ''}
      ${o.betweenCmd ? `execSync(${JSON.stringify(o.betweenCmd)}, { stdio: 'inherit' });` : ''}
      out({ ok: await request(${o.expectedPid ?? 'peer.pid'}) });
    })().catch(fail);`;
}

/** Runs `body` (bash) in a fresh network namespace; $MOCK is the mock, $DIR a scratch directory, $CLIENT the client script. */
function inNetns(body: string, client: string): { result: Result; peer: { pid: number; uid: number } | undefined; stdout: string; logs: Record<string, string[]> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-peer-'));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'client.js'), client);
  const script = [
    'set -u',
    `export MOCK=${mock} DIR=${dir}; CLIENT="${process.execPath} ${dir}/client.js"`,
    // Starts a mock as "$@" with its log in $DIR/$1.log and waits until it listens.
    'start() { local name=$1; shift; "$@" > $DIR/$name.log 2>&1 & for i in $(seq 200); do grep -q ready $DIR/$name.log 2>/dev/null && return; sleep 0.02; done; echo "mock $name did not start"; cat $DIR/$name.log; }',
    body,
    // a mock started by a grandchild is not among this shell's jobs: it leaves its pid in $DIR/*.bgpid
    'kill $(jobs -p) $(cat $DIR/*.bgpid 2>/dev/null) 2>/dev/null; wait 2>/dev/null',
  ].join('\n');
  const res = spawnSync('unshare', ['-n', 'bash', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  const logs: Record<string, string[]> = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.log'))) {
    logs[f.slice(0, -4)] = fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => /^\d+ \d+ -?\d+$/.test(l));
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no result:\n${res.stdout}\n${res.stderr}`);
  const peerLine = res.stdout.split('\n').find((l) => l.startsWith('PEER '));
  return { result: JSON.parse(line.slice(7)) as Result, peer: peerLine ? (JSON.parse(peerLine.slice(5)) as { pid: number; uid: number }) : undefined, stdout: res.stdout, logs };
}

describe('the iscsid peer is identified before anything is sent (SO_PEERCRED)', () => {
  it('a non-root process holding the abstract name receives 0 bytes: the request fails with ISCSID_PEER_UNTRUSTED', () => {
    const { result, logs } = inNetns('start evil setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 $MOCK ok\n$CLIENT', clientScript({ requestOnly: true }));
    expect(result.err?.code).toBe('ISCSID_PEER_UNTRUSTED');
    expect(result.err?.message).toMatch(/uid 65534/);
    // The mock logs what each connection carried: the connection came, and ended with nothing in it.
    expect(logs.evil).toEqual(['0 0 0']);
  });

  it('identify refuses the non-root peer too (so no layout is ever chosen from its executable)', () => {
    const { result, logs } = inNetns('start evil setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 $MOCK ok\n$CLIENT', clientScript({ identifyOnly: true }));
    expect(result.err?.code).toBe('ISCSID_PEER_UNTRUSTED');
    expect(logs.evil).toEqual(['0 0 0']);
  });

  it('a root peer: identify gives its pid and uid 0, and the request to that pid goes through', () => {
    const { result, peer, logs } = inNetns('start good python3 $MOCK ok\necho "MOCKPID $!"\n$CLIENT', clientScript({}));
    expect(peer).toMatchObject({ uid: 0 });
    expect(peer!.pid).toBeGreaterThan(1);
    expect(result.ok).toMatchObject({ command: 8, err: 0, var: 'iqn.2026-11.org.openiscsi:mock', peerPid: peer!.pid });
    expect(logs.good).toEqual(['0 0 0', '16104 8 0']);
  });

  it('a peer that changed between identify and request (another root process now holds the name) is refused, and sent nothing', () => {
    const swap = `kill $(cat $DIR/first.pid); sleep 0.2; bash -c 'python3 ${mock} ok > $DIR/second.log 2>&1 & echo $! > $DIR/second.bgpid; for i in $(seq 200); do grep -q ready $DIR/second.log && break; sleep 0.02; done'`;
    const { result, peer, logs } = inNetns('start first python3 $MOCK ok\necho $! > $DIR/first.pid\n$CLIENT', clientScript({ betweenCmd: swap }));
    expect(peer).toMatchObject({ uid: 0 });
    expect(result.err?.code).toBe('ISCSID_PEER_CHANGED');
    expect(result.err?.message).toContain(`not pid ${peer!.pid}`);
    expect(logs.first).toEqual(['0 0 0']);
    expect(logs.second).toEqual(['0 0 0']);
  });

  it('a peer in another pid namespace (a container without hostPID) is ISCSID_PEER_PID_HIDDEN, never a guess', () => {
    // The client runs in its own pid namespace; the mock outside it is invisible there, so SO_PEERCRED says pid 0.
    const { result, logs } = inNetns('start good python3 $MOCK ok\nunshare -p -f --mount-proc $CLIENT', clientScript({ identifyOnly: true }));
    expect(result.err?.code).toBe('ISCSID_PEER_PID_HIDDEN');
    expect(result.err?.message).toMatch(/another pid namespace/);
    expect(logs.good).toEqual(['0 0 0']);
  });

  it('... while a request that expects no particular pid (an explicit abi override) still goes to a root peer there', () => {
    const { result, logs } = inNetns('start good python3 $MOCK ok\nunshare -p -f --mount-proc $CLIENT', clientScript({ requestOnly: true }));
    expect(result.ok).toMatchObject({ command: 8, peerPid: 0 });
    expect(logs.good).toEqual(['16104 8 0']);
  });

  it('nothing listening is ISCSID_NOT_RUNNING', () => {
    const { result } = inNetns('$CLIENT', clientScript({ identifyOnly: true }));
    expect(result.err?.code).toBe('ISCSID_NOT_RUNNING');
  });

  it('argument checks: expectedPid is required and must be a non-negative integer', () => {
    const b = require(addon) as { ipcRequest: (...a: unknown[]) => unknown; buildRequest: (...a: unknown[]) => Buffer };
    const req = b.buildRequest('2.1.1', 8, 0);
    expect(() => b.ipcRequest(req, 1000, undefined)).toThrow(/expectedPid/);
    expect(() => b.ipcRequest(req, 1000, undefined, -1)).toThrow(/expectedPid/);
    expect(() => b.ipcRequest(req, 1000, undefined, 1.5)).toThrow(/expectedPid/);
  });
});

/** The library's own calls in the namespace: version detection, then a SESSION_INFO for sid 1. */
function libraryScript(o: { abi?: string } = {}): string {
  return `
    const { detectIscsidVersion } = require(${JSON.stringify(path.join(root, 'dist/iscsid/version.js'))});
    const { sessionState } = require(${JSON.stringify(path.join(root, 'dist/iscsid/session-calls.js'))});
    const out = (x) => console.log('RESULT ' + JSON.stringify(x));
    (async () => {
      ${o.abi ? '' : "console.log('PEER ' + JSON.stringify(await detectIscsidVersion({})));"}
      out({ ok: await sessionState(1, ${o.abi ? `{ abi: ${JSON.stringify(o.abi)} }` : '{}'}) });
    })().catch((e) => out({ err: { code: e.code, name: e.name, message: e.message } }));`;
}

// A copy of python whose bytes also say "# BEGIN RECORD 2.1.8" runs the mock; a decoy named iscsid (any user
// can name a process so) claims 2.0-874. Only the listener's executable may decide.
const FAKE_EXES = [
  'cp "$(readlink -f /usr/bin/python3)" $DIR/fake-iscsid && printf "\\0# BEGIN RECORD 2.1.8\\0" >> $DIR/fake-iscsid',
  'cp /bin/sleep $DIR/iscsid; printf "\\0# BEGIN RECORD 2.0-874\\0" >> $DIR/iscsid',
  '$DIR/iscsid 60 &',
].join('\n');

describe('the library picks the layout from the identified listener', () => {
  it('a root mock with a fake executable: its own /proc/<pid>/exe selects the layout (not the decoy called iscsid)', () => {
    const { result, peer, stdout, logs } = inNetns(`${FAKE_EXES}\nstart good $DIR/fake-iscsid $MOCK ok\necho "MOCKPID $!"\n$CLIENT`, libraryScript());
    const mockPid = Number(/MOCKPID (\d+)/.exec(stdout)?.[1]);
    expect(peer).toMatchObject({ version: '2.1.8', family: '2.1.1', source: 'process', pid: mockPid, peerPid: mockPid });
    expect(result.ok).toMatchObject({ sid: 1, connection: 'LOGGED_IN' });
    // Each call identifies the listener first (detectIscsidVersion here, then sessionState's own): two empty connections.
    expect(logs.good).toEqual(['0 0 0', '0 0 0', '16104 13 1']);
  });

  it('a non-root listener: IscsiPermissionError ISCSID_PEER_UNTRUSTED, and it received 0 bytes', () => {
    const { result, logs } = inNetns(`${FAKE_EXES}\nchmod 755 $DIR/fake-iscsid\nstart evil setpriv --reuid=65534 --regid=65534 --clear-groups $DIR/fake-iscsid $MOCK ok\n$CLIENT`, libraryScript());
    expect(result.err).toMatchObject({ code: 'ISCSID_PEER_UNTRUSTED', name: 'IscsiPermissionError' });
    expect(logs.evil).toEqual(['0 0 0']);
  });

  it('without the host pid namespace: ISCSID_PEER_PID_HIDDEN saying hostPID, never a guess; an explicit abi still works', () => {
    const hidden = inNetns(`${FAKE_EXES}\nstart good $DIR/fake-iscsid $MOCK ok\nunshare -p -f --mount-proc $CLIENT`, libraryScript());
    expect(hidden.result.err).toMatchObject({ code: 'ISCSID_PEER_PID_HIDDEN', name: 'IscsiUnsupportedError' });
    expect(hidden.result.err?.message).toMatch(/hostPID/);
    expect(hidden.logs.good).toEqual(['0 0 0']);
    const forced = inNetns(`${FAKE_EXES}\nstart good $DIR/fake-iscsid $MOCK ok\nunshare -p -f --mount-proc $CLIENT`, libraryScript({ abi: '2.1.8' }));
    expect(forced.result.ok).toMatchObject({ sid: 1, connection: 'LOGGED_IN' });
  });

  it('nothing listening (a container without hostNetwork): ISCSID_NOT_RUNNING, with the hint', () => {
    const { result } = inNetns('$CLIENT', libraryScript());
    expect(result.err?.code).toBe('ISCSID_NOT_RUNNING');
    expect(result.err?.message).toMatch(/hostNetwork/);
  });
});
