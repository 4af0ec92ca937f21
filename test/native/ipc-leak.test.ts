// The iscsid socket client and the record builder under valgrind, against the mock iscsid in a private
// network namespace: answers, iscsid errors, short answers, deadlines, cancellation, no listener.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { leakChecked, underAsan, VALGRIND_CLEAN } from './leak-checker';

const root = path.resolve(__dirname, '../..');

describe('leak check of the IPC path (valgrind)', () => {
  it('no definitely-lost blocks after 40 rounds of every outcome', () => {
    const script = [
      'ip link set lo up',
      `python3 ${__dirname}/mock-iscsid.py by-sid > /dev/null 2>&1 &`,
      'sleep 0.3',
      leakChecked(`${process.execPath} ${root}/test/native/drivers/ipc-leak-driver.js 40`),
      'rc=$?; kill %1; exit $rc',
    ].join('\n');
    const out = spawnSync('unshare', ['-n', 'bash', '-c', script], { encoding: 'utf8', timeout: 110_000 });
    const log = `${out.stdout}\n${out.stderr}`;
    expect(out.error, underAsan ? 'unshare must be installed' : 'valgrind and unshare must be installed (test/setup.sh installs them)').toBeUndefined();
    expect(log).toMatch(/rounds 40/);
    // every path was taken: answers, deadline, abort, short answer, no listener, identify, a refused peer
    expect(log).toContain('outcomes ["ABORTED","ISCSID_COMM_ERR","ISCSID_NOT_RUNNING","ISCSID_PEER_CHANGED","ISCSID_TIMEOUT","ok 13","peer"]');
    if (!underAsan) expect(log).toMatch(VALGRIND_CLEAN);
    expect(out.status, log.slice(-3000)).toBe(0);
  });
});
