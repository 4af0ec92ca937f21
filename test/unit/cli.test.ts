// The CLI's contract: exit codes, --json errors, secrets from the environment only.
import { describe, expect, it } from 'vitest';
import { EXIT, inCliTerms, main } from '../../lib/cli';

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return main(args, { out: (s) => out.push(s), err: (s) => err.push(s), env }).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

describe('openiscsi CLI', () => {
  it('prints usage with exit 0 for --help and exit 2 without a command or with an unknown one', async () => {
    expect((await run(['--help'])).code).toBe(EXIT.OK);
    expect((await run([])).code).toBe(EXIT.USAGE);
    const r = await run(['frobnicate']);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toMatch(/unknown command "frobnicate"/);
    expect((await run(['sessions', '--no-such-flag'])).code).toBe(EXIT.USAGE);
  });

  it('reports invalid input as a JSON error with exit 2', async () => {
    const r = await run(['create-iface', '--transport', 'cxgb4i', '--hwaddress', 'zz', '--json']);
    expect(r.code).toBe(EXIT.USAGE);
    expect(JSON.parse(r.out)).toEqual({ error: { name: 'IscsiValidationError', code: 'INVALID_HWADDRESS', message: expect.stringContaining('00:07:43:aa:bb:cc') } });
  });

  it('reads a CHAP secret only from the named environment variable and never echoes it', async () => {
    const missing = await run(['discover', '--portal', '127.0.0.1:1', '--chap-user', 'u', '--chap-secret-env', 'MY_SECRET']);
    expect(missing.code).toBe(EXIT.USAGE);
    expect(missing.err).toMatch(/MY_SECRET \(--chap-secret-env\) is empty or unset/);
    const short = await run(['discover', '--portal', '127.0.0.1:1', '--chap-user', 'u', '--chap-secret-env', 'MY_SECRET'], { MY_SECRET: 'tiny-pw' });
    // Refused (by discover's own checks, or earlier by an iscsid version it does not support), never echoed.
    expect(short.code).not.toBe(EXIT.OK);
    expect(short.err).not.toContain('tiny-pw');
    expect((await run(['discover', '--portal', '127.0.0.1:1', '--chap-user', 'u'])).err).toMatch(/--chap-secret-env/);
  });

  it('check on a machine without that hardware says why and exits 4', async () => {
    const r = await run(['check', 'qla4xxx', '--json'], {});
    const report = JSON.parse(r.out) as { ok: boolean; problems: Array<{ code: string }> };
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.code)).toContain('NO_MATCHING_HOST');
    expect(r.code).toBe(EXIT.UNSUPPORTED);
  });

  it('an unknown transport is exit 2', async () => {
    expect((await run(['check', 'cxgb9i'])).code).toBe(EXIT.USAGE);
  });

  it('puts the library\'s option names in the CLI\'s terms', () => {
    expect(inCliTerms('auth.password must be 12 to 255 bytes; raise timeoutMs')).toBe('the CHAP secret (--chap-secret-env) must be 12 to 255 bytes; raise --timeout-ms');
    expect(inCliTerms('fix it, or pass checkHardware: false')).toBe('fix it, or pass --no-check');
    expect(inCliTerms('pass force: true to delete it anyway')).toBe('pass --force to delete it anyway');
    expect(inCliTerms('targetIp "x" is not an address\n  second line')).toBe('--target-ip "x" is not an address second line');
  });
});
