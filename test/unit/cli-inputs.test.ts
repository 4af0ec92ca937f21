// The CLI's values go through the library's validators: every bad value exits 2 with one line on stderr, and
// nothing is done (the addon is replaced by a recorder; sockets are refused and recorded).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import type * as NetTypes from 'node:net';

const rec = vi.hoisted(() => ({ calls: [] as string[] }));
vi.mock('../../lib/native', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../lib/native')>();
  const binding = new Proxy(
    {},
    {
      get: (_t, name) => {
        if (name === 'then') return undefined;
        return () => {
          rec.calls.push(`native.${String(name)}`);
          return Promise.reject(Object.assign(new Error('recorder: no native calls'), { code: 'RECORDER' }));
        };
      },
    },
  );
  return { ...real, native: () => binding };
});

import { EXIT, main } from '../../lib/cli';

const net = createRequire(__filename)('node:net') as typeof import('node:net');
let restore: () => void = () => {};
beforeAll(() => {
  const spy = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: NetTypes.Socket) {
    rec.calls.push('net.connect');
    process.nextTick(() => this.destroy(new Error('recorder: no sockets')));
    return this;
  });
  restore = () => spy.mockRestore();
});
afterAll(() => restore());

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  rec.calls.length = 0;
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), env });
  return { code, out: out.join('\n'), err: err.join('\n'), calls: [...rec.calls] };
}

const T = 'iqn.2026-11.org.example:t1';
const P = '192.0.2.10:3260';
const CONTROLS = ['\0', '\n', '\r', '\t', '\x1b', '\x7f'];
const withControl = (base: string) => fc.tuple(fc.constantFrom(...CONTROLS), fc.nat(base.length)).map(([c, i]) => base.slice(0, i) + c + base.slice(i));
const badNumber = fc.oneof(
  fc.constantFrom('x', '', '1.5', '0x10', '1e3', ' 1', 'NaN', 'Infinity', '99999999999999999999'),
  fc.integer({ min: -100000, max: -1 }).map(String),
  fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }).map(String),
);
const badLun = fc.oneof(badNumber, fc.integer({ min: 65536, max: 2 ** 40 }).map(String));
const badSid = fc.oneof(badNumber, fc.constant('0'), fc.integer({ min: 2 ** 31, max: 2 ** 45 }).map(String));
const badTimeout = fc.oneof(badNumber, fc.constant('0'), fc.integer({ min: 2 ** 31, max: 2 ** 45 }).map(String));
const badIqn = fc.oneof(fc.constantFrom('iqn.2003-01.org.example:../../../../etc/x', 'iqn.2003-01.org.example:a b', 'target1', 'iqn.2003-01.org.example:a/b'), withControl(T));
const badPortal = fc.oneof(fc.constantFrom('a b', '1.2.3.4:0', '1.2.3.4:65536', '../x', 'a/b'), withControl(P));
const badIface = fc.oneof(fc.constantFrom('../x', '..', 'a/b', 'a b'), withControl('eth-bound'));

/** argv for a command with one bad value, as `--flag=value` (so a value starting with "-" is a value). */
const CASES: Array<[string, fc.Arbitrary<string[]>]> = [
  ['connect --lun', badLun.map((v) => ['connect', `--portal=${P}`, `--target=${T}`, `--lun=${v}`])],
  ['connect --timeout-ms', badTimeout.map((v) => ['connect', `--portal=${P}`, `--target=${T}`, `--timeout-ms=${v}`])],
  ['connect --target', badIqn.map((v) => ['connect', `--portal=${P}`, `--target=${v}`])],
  ['connect --portal', badPortal.map((v) => ['connect', `--portal=${v}`, `--target=${T}`])],
  ['disconnect --sid', badSid.map((v) => ['disconnect', `--sid=${v}`])],
  ['disconnect --lun', badLun.map((v) => ['disconnect', '--sid=3', `--lun=${v}`])],
  ['logout --sid', badSid.map((v) => ['logout', `--sid=${v}`])],
  ['login --target', badIqn.map((v) => ['login', `--target=${v}`, `--portal=${P}`])],
  ['login --portal', badPortal.map((v) => ['login', `--target=${T}`, `--portal=${v}`])],
  ['login --iface', badIface.map((v) => ['login', `--target=${T}`, `--portal=${P}`, `--iface=${v}`])],
  ['login --timeout-ms', badTimeout.map((v) => ['login', `--target=${T}`, `--portal=${P}`, `--timeout-ms=${v}`])],
  ['login --chap-user', withControl('user').map((v) => ['login', `--target=${T}`, `--portal=${P}`, `--chap-user=${v}`, '--chap-secret-env=S'])],
  ['discover --iface', badIface.map((v) => ['discover', `--portal=${P}`, `--iface=${v}`])],
  ['delete-iface NAME', badIface.map((v) => ['delete-iface', v])],
  ['create-iface --netdev', fc.oneof(withControl('eth1'), fc.constantFrom('../x', 'a/b')).map((v) => ['create-iface', '--transport=tcp', '--name=t1', `--netdev=${v}`, '--no-check'])],
];

describe('the CLI refuses bad values with exit 2 and one line, and does nothing', () => {
  it.each(CASES)('%s', async (_n, argv) => {
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const r = await run(args, { S: 's3cret-s3cret' });
        const what = JSON.stringify(args);
        expect(r.code, `${what}: ${r.err}`).toBe(EXIT.USAGE);
        expect(r.err.split('\n'), what).toHaveLength(1);
        expect(r.err, what).not.toContain('s3cret');
        expect(r.out, what).toBe('');
        expect(r.calls, what).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });
});
