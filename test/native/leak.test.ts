// The native code under valgrind: every entry point, many times, with real iface and node files in a
// private mount namespace, over a fake sysfs with twelve sessions. Fails on any block definitely lost (the check was shown to catch a removed free()).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { leakChecked, underAsan, VALGRIND_CLEAN } from './leak-checker';
import { standardTree } from '../fixtures/fakesys';

const root = path.resolve(__dirname, '../..');
const fixtures = path.join(root, 'test/fixtures/etc-iscsi');

describe('leak check (valgrind)', () => {
  it('no definitely-lost blocks after 100 rounds of every native call', () => {
    const tree = standardTree();
    // Eight more sessions: twelve in all.
    for (let sid = 11; sid <= 18; sid++) {
      tree.host({ hostNo: 20 + sid, procName: 'iscsi_tcp', ipaddress: '192.0.2.1' });
      tree.session({ hostNo: 20 + sid, sid, targetName: `iqn.2026-11.org.example:leak${sid}`, address: '192.0.2.10', port: 3260, luns: [{ lun: 1, block: { name: `sdl${sid}`, dev: `8:${sid}` } }] });
    }
    const setup = [
      'set -e',
      `mount --bind ${tree.root} /sys`,
      'mount -t tmpfs tmpfs /etc/iscsi',
      'mount -t tmpfs tmpfs /run/lock',
      'mkdir -p /etc/iscsi/ifaces "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt1/192.0.2.10,3260,1"',
      `cp ${fixtures}/iface_eth-bound.txt /etc/iscsi/ifaces/eth-bound`,
      `cp ${fixtures}/node_record_eth-bound.txt "/etc/iscsi/nodes/iqn.2003-01.org.example:tgt1/192.0.2.10,3260,1/eth-bound"`,
      `exec ${leakChecked(`${process.execPath} ${root}/test/native/drivers/leak-driver.js 100`)}`,
    ].join('\n');
    const out = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', setup], { encoding: 'utf8', timeout: 110_000 });
    tree.remove();
    const log = `${out.stdout}\n${out.stderr}`;
    expect(out.error, underAsan ? 'unshare must be installed' : 'valgrind and unshare must be installed (test/setup.sh installs them)').toBeUndefined();
    expect(log).toMatch(/rounds 100/);
    // the driver really exercised the file-reading paths, not just empty listings
    expect(log).toContain('summary {"ifaces":["eth-bound","default","iser"],"nodes":["iqn.2003-01.org.example:tgt1"],"sessions":[1,2,5,6,11,12,13,14,15,16,17,18],"luns":14}');
    if (!underAsan) expect(log).toMatch(VALGRIND_CLEAN);
    expect(out.status, log.slice(-3000)).toBe(0);
  });
});
