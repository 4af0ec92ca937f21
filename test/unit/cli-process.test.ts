// The `openiscsi` command as a user runs it: a real process (node dist/cli.js), its stdout, stderr and exit
// code. One line on stderr for every refusal, never a stack trace; messages in the CLI's own terms.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');

function run(args: string[], o: { env?: NodeJS.ProcessEnv; uid?: number } = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env['PATH'], ...o.env }, ...(o.uid === undefined ? {} : { uid: o.uid, gid: o.uid }) });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A refusal: the exit code, and one line on stderr that is not a stack trace. */
function refused(r: ReturnType<typeof run>, code: number, text: RegExp) {
  expect(r.code, r.err).toBe(code);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err).not.toMatch(/^\s+at /m);
  expect(r.err.trimEnd()).toMatch(text);
}

const COMMANDS = ['transports', 'hosts', 'ifaces', 'nodes', 'sessions', 'check', 'create-iface', 'delete-iface', 'resolve', 'discover', 'login', 'logout', 'connect', 'disconnect'];

describe('openiscsi (a real process)', () => {
  it('--version prints the package version and which binary is in use', () => {
    const r = run(['--version']);
    expect(r.code).toBe(0);
    const version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
    expect(r.out.split('\n')[0]).toBe(`openiscsi ${version}`);
    expect(r.out).toMatch(/addon (built|prebuilt) \(.*openiscsi\.node\)/);
    const j = run(['--version', '--json']);
    expect(JSON.parse(j.out)).toMatchObject({ version, native: { loaded: true } });
  });

  it('--help lists every command; each command has its own --help with its own flags', () => {
    const top = run(['--help']);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.out).toMatch(new RegExp(`^  ${c} `, 'm'));
    const seen = new Set<string>();
    for (const c of COMMANDS) {
      const h = run([c, '--help']);
      expect(h.code, c).toBe(0);
      expect(h.out.split('\n')[0]).toMatch(new RegExp(`^usage: openiscsi ${c}\\b`));
      seen.add(h.out);
    }
    expect(seen.size).toBe(COMMANDS.length);
    expect(run(['login', '--help']).out).toMatch(/--persist .*node record/);
    expect(run(['create-iface', '--help']).out).toMatch(/--no-check/);
  });

  it('refuses unknown commands, flags and arguments with exit 2', () => {
    refused(run(['frobnicate']), 2, /^openiscsi: unknown command "frobnicate"/);
    refused(run(['sessions', '--no-such-flag']), 2, /^openiscsi sessions: unknown flag --no-such-flag/);
    refused(run(['sessions', 'extra']), 2, /^openiscsi sessions: unexpected argument "extra"/);
    refused(run(['check', 'tcp', 'iser']), 2, /unexpected argument "iser"/);
    refused(run(['login', '--persist=yes', '--target', 'iqn.2003-01.org.example:t', '--portal', '127.0.0.1']), 2, /--persist/);
    refused(run(['--bogus']), 2, /unknown flag --bogus/);
    const none = run([]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^usage: openiscsi/);
  });

  it('a command without its flags names the missing flag, not an API option', () => {
    refused(run(['login']), 2, /^openiscsi login: --target IQN is required/);
    refused(run(['login', '--target', 'iqn.2003-01.org.example:t']), 2, /--portal HOST\[:PORT\] is required/);
    refused(run(['discover']), 2, /--portal HOST\[:PORT\] is required/);
    refused(run(['connect']), 2, /--portal HOST\[:PORT\] is required/);
    refused(run(['resolve']), 2, /--target-ip IP \(or --source-ip IP\) is required/);
    refused(run(['resolve', '--target-ip', '192.0.2.1', '--source-ip', '192.0.2.2']), 2, /give --source-ip or --target-ip, not both/);
    refused(run(['check']), 2, /a transport .* or --iface NAME is required/);
    refused(run(['create-iface']), 2, /--transport T .* is required/);
    refused(run(['delete-iface']), 2, /the iface NAME is required/);
    refused(run(['disconnect']), 2, /--sid N is required/);
    refused(run(['logout']), 2, /--target IQN \(or --sid N\) is required/);
    for (const c of ['login', 'discover', 'connect', 'resolve', 'create-iface']) expect(run([c]).err).not.toMatch(/targetIp|non-empty string|""/);
  });

  it('every bad value is exit 2 with one line, before anything runs', () => {
    for (const v of ['abc', '0', '-1', '1.5', '']) {
      refused(run(['login', '--target', 'iqn.2003-01.org.example:t', '--portal', '127.0.0.1', '--timeout-ms', v]), 2, /--timeout-ms/);
    }
    refused(run(['disconnect', '--sid', 'x']), 2, /--sid must be a whole number, got "x"/);
    refused(run(['connect', '--portal', '127.0.0.1', '--lun', '1.5']), 2, /--lun must be a whole number/);
    refused(run(['check', 'cxgb9i']), 2, /unknown transport "cxgb9i"; use one of tcp, iser/);
    refused(run(['login', '--target', 'not-an-iqn', '--portal', '127.0.0.1']), 2, /\[INVALID_IQN\]$/);
    refused(run(['connect', '--portal', '127.0.0.1', '--transport', 'tcp', '--iface', 'default']), 2, /give --transport or --iface, not both/);
    // A value the library refuses is reported before any phase: no progress lines.
    refused(run(['connect', '--portal', '127.0.0.1', '--iface', '../x']), 2, /^openiscsi connect: iface name "..\/x" must be/);
  });

  it('CHAP: the secret comes from the named environment variable only, and is never echoed', () => {
    refused(run(['discover', '--portal', '127.0.0.1:1', '--chap-user', 'u']), 2, /--chap-user needs --chap-secret-env VAR/);
    refused(run(['discover', '--portal', '127.0.0.1:1', '--chap-user', 'u', '--chap-secret-env', 'MY_SECRET']), 2, /MY_SECRET \(--chap-secret-env\) is empty or unset/);
    const short = run(['login', '--target', 'iqn.2003-01.org.example:t', '--portal', '127.0.0.1:1', '--chap-user', 'u', '--chap-secret-env', 'MY_SECRET'], { env: { MY_SECRET: 'tiny-pw' } });
    expect(short.code).not.toBe(0);
    expect(short.err).not.toContain('tiny-pw');
    expect(short.err).not.toMatch(/auth\.password/);
  });

  it('messages name the CLI\'s flags, and a failed hardware check exits 4 in check and create-iface alike', () => {
    const check = run(['check', 'cxgb4i']);
    expect(check.code).toBe(4);
    expect(check.out).toMatch(/result {5}NOT usable/);
    const create = run(['create-iface', '--transport', 'cxgb4i', '--hwaddress', '00:07:43:00:00:09']);
    refused(create, 4, /pass --no-check to write the iface anyway \[IFACE_HARDWARE_CHECK_FAILED\]$/);
    expect(create.err).not.toMatch(/checkHardware/);
    const json = run(['create-iface', '--transport', 'cxgb4i', '--hwaddress', 'zz', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.out)).toEqual({ error: { name: 'IscsiValidationError', code: 'INVALID_HWADDRESS', message: expect.stringContaining('00:07:43:aa:bb:cc') } });
  });

  it('a caller without root gets exit 3 with "run as root"', () => {
    const r = run(['login', '--target', 'iqn.2003-01.org.example:t', '--portal', '127.0.0.1:1', '--timeout-ms', '2000'], { uid: 65534 });
    refused(r, 3, /run as root/);
  });

  it('nodes lists node records; login takes --persist', () => {
    const n = run(['nodes', '--json']);
    expect(n.code, n.err).toBe(0);
    expect(Array.isArray(JSON.parse(n.out))).toBe(true);
    // Accepted (not a usage error): it fails later, at iscsid, which this host does not run.
    const l = run(['login', '--target', 'iqn.2003-01.org.example:t', '--portal', '127.0.0.1:1', '--persist', '--timeout-ms', '2000']);
    expect(l.code).not.toBe(2);
    expect(l.err).not.toMatch(/unknown flag/);
  });
});
