// Which open-iscsi is the running iscsid: found in fake /proc trees and dpkg databases, never by spawning.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectIscsidVersion, familyOf, normaliseVersion, requireVerifiedFamily } from '../../lib/iscsid/version';

/** A fake /proc with one process (and a decoy), its `exe` a file holding `exeBody`. */
function proc(comm: string, exeBody: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-proc-'));
  for (const [pid, c] of [['1', 'systemd'], ['1234', comm]] as const) {
    fs.mkdirSync(path.join(root, pid));
    fs.writeFileSync(path.join(root, pid, 'comm'), `${c}\n`);
    fs.writeFileSync(path.join(root, pid, 'exe'), c === comm ? exeBody : '# BEGIN RECORD 9.9.9');
  }
  fs.mkdirSync(path.join(root, 'self'));
  return root;
}

function dpkg(text: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-dpkg-')), 'status');
  fs.writeFileSync(file, text);
  return file;
}

const noDpkg = '/nonexistent/status';
const stanza = (version: string, status = 'install ok installed') => `Package: open-iscsi\nStatus: ${status}\nVersion: ${version}\n`;

describe('iscsid version detection, no spawning', () => {
  it('reads the version embedded in the running iscsid executable', async () => {
    const v = await detectIscsidVersion({ procRoot: proc('iscsid', '\0\0# BEGIN RECORD 2.1.8\0...'), dpkgStatusPath: noDpkg });
    expect(v).toEqual({ version: '2.1.8', family: '2.1.1', source: 'process', pid: 1234, dbRoot: '/etc/iscsi' });
  });

  it('finds the real iscsid on this host the same way (test/setup.sh installs open-iscsi 2.1.8)', async () => {
    // Not necessarily running here: then the package database answers.
    const v = await detectIscsidVersion();
    expect(v?.version).toBe('2.1.8');
    expect(v?.family).toBe('2.1.1');
  });

  it('tells where the running build keeps its node database (Debian 13 and Red Hat: /var/lib/iscsi)', async () => {
    const at = async (body: string) => (await detectIscsidVersion({ procRoot: proc('iscsid', body), dpkgStatusPath: noDpkg }))?.dbRoot;
    expect(await at('# BEGIN RECORD 2.1.11\0/var/lib/iscsi/nodes\0/etc/iscsi/iscsid.conf\0')).toBe('/var/lib/iscsi');
    expect(await at('# BEGIN RECORD 2.1.8\0/etc/iscsi/nodes\0/etc/iscsi/iscsid.conf\0')).toBe('/etc/iscsi');
  });

  it('reads the releases before 2.1.0, which write their version 2.0-874', async () => {
    expect(await detectIscsidVersion({ procRoot: proc('iscsid', '# BEGIN RECORD 2.0-874\0'), dpkgStatusPath: noDpkg })).toMatchObject({ version: '2.0.874', family: '2.0.874' });
    expect(await detectIscsidVersion({ procRoot: proc('iscsid', '# BEGIN RECORD 2.0-877\0'), dpkgStatusPath: noDpkg })).toMatchObject({ version: '2.0.877', family: '2.0.876' });
  });

  it('tells a git build after 2.1.11 (still "2.1.11", but 2.1.12\'s layout) by its congestion-control key', async () => {
    const git = await detectIscsidVersion({ procRoot: proc('iscsid', '# BEGIN RECORD 2.1.11\0node.conn[%d].tcp.congestion_control\0'), dpkgStatusPath: noDpkg });
    expect(git).toMatchObject({ version: '2.1.11', family: '2.1.12', note: expect.stringContaining('git build') });
    const tag = await detectIscsidVersion({ procRoot: proc('iscsid', '# BEGIN RECORD 2.1.11\0'), dpkgStatusPath: noDpkg });
    expect(tag).toMatchObject({ version: '2.1.11', family: '2.1.11' });
  });

  it('maps Red Hat\'s 6.2.1.N builds (RHEL, Rocky, Alma, Fedora) to upstream 2.1.N\'s family', async () => {
    const rh = (raw: string, extra = '') => detectIscsidVersion({ procRoot: proc('iscsid', `# BEGIN RECORD ${raw}\0${extra}`), dpkgStatusPath: noDpkg });
    expect(await rh('6.2.1.4-1')).toMatchObject({ version: '2.1.4', family: '2.1.1', note: expect.stringContaining('Red Hat build 6.2.1.4-1') });
    expect(await rh('6.2.1.9')).toMatchObject({ version: '2.1.9', family: '2.1.1' });
    expect(await rh('6.2.1.11')).toMatchObject({ version: '2.1.11', family: '2.1.11' });
    expect(await rh('6.2.1.11', 'node.conn[%d].tcp.congestion_control')).toMatchObject({ version: '2.1.11', family: '2.1.12' });
    expect(await rh('6.2.1.13')).toMatchObject({ version: '2.1.13', family: '2.1.13' });
    // RHEL 7's 6.2.0.874 carries backports nobody measured; an unknown 6.2.1.N is not guessed either
    expect(await rh('6.2.0.874-22')).toMatchObject({ version: '2.0.874', family: undefined, note: expect.stringContaining('never measured') });
    expect(await rh('6.2.1.14')).toMatchObject({ version: '2.1.14', family: undefined });
    await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 6.2.1.4-1\0'), dpkgStatusPath: noDpkg })).resolves.toMatchObject({ family: '2.1.1' });
    await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 6.2.0.874\0'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({ code: 'ISCSID_ABI_UNSUPPORTED', message: expect.stringContaining('Red Hat') });
  });

  it('falls back to the dpkg database, with a note, when no iscsid runs (socket activation)', async () => {
    const status = dpkg(`Package: x\nStatus: install ok installed\nVersion: 1\n\n${stanza('2.1.8-1+deb12u1')}\n`);
    expect(await detectIscsidVersion({ procRoot: proc('sshd', ''), dpkgStatusPath: status })).toEqual({
      version: '2.1.8', family: '2.1.1', source: 'dpkg', note: expect.stringContaining('package database'),
    });
  });

  it('reads dpkg versions with an epoch or without a revision, skips removed packages, refuses git snapshots', async () => {
    const d = (text: string) => detectIscsidVersion({ procRoot: proc('sshd', ''), dpkgStatusPath: dpkg(text) });
    expect(await d(stanza('1:2.0.874-7.1ubuntu6'))).toMatchObject({ version: '2.0.874', family: '2.0.874' });
    expect(await d(stanza('2.1.10'))).toMatchObject({ version: '2.1.10', family: '2.1.1' });
    expect(await d(stanza('2.1.8-1', 'deinstall ok config-files'))).toBeUndefined();
    expect(await d(stanza('2.1.11+git20250101-1'))).toMatchObject({ version: '2.1.11', family: undefined, note: expect.stringContaining('git snapshot') });
  });

  it('maps versions to families (layouts measured at every tag from 2.0.874 to 2.1.13)', () => {
    const v = ['2.0.873', '2.0.874', '2.0.875', '2.0.876', '2.0.878', '2.1.0', '2.1.1', '2.1.8', '2.1.10', '2.1.11', '2.1.12', '2.1.13', '2.1.14', '2.2.0', 'x'];
    expect(v.map(familyOf)).toEqual([
      undefined, '2.0.874', '2.0.875', '2.0.876', '2.0.876', '2.0.876', '2.1.1', '2.1.1', '2.1.1', '2.1.11', '2.1.12', '2.1.13', undefined, undefined, undefined,
    ]);
    expect(normaliseVersion('6.2.1.4-1')).toEqual({ version: '2.1.4', vendor: 'Red Hat build 6.2.1.4-1' });
    expect(normaliseVersion('2.0-878')).toEqual({ version: '2.0.878' });
  });

  it('refuses unverified and unknown layouts, naming the version found; nothing else is needed to refuse', async () => {
    await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 2.1.12'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({
      name: 'IscsiUnsupportedError', code: 'ISCSID_ABI_UNSUPPORTED', details: { version: '2.1.12', family: '2.1.12', source: 'process' },
    });
    // a git build after 2.1.11 says "2.1.11" but has 2.1.12's layout: refused with it, not accepted as 2.1.11
    await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 2.1.11\0tcp.congestion_control'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({
      code: 'ISCSID_ABI_UNSUPPORTED', details: { version: '2.1.11', family: '2.1.12' },
    });
    // verified in the lab against Debian 13's own iscsid (test/lab/releases.lab.test.ts)
    await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 2.1.11'), dpkgStatusPath: noDpkg })).resolves.toMatchObject({ family: '2.1.11' });
    await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 2.2.0'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({ code: 'ISCSID_ABI_UNSUPPORTED', message: expect.stringContaining('2.2.0') });
    await expect(requireVerifiedFamily({ procRoot: proc('sshd', ''), dpkgStatusPath: noDpkg })).rejects.toMatchObject({ code: 'ISCSID_VERSION_UNKNOWN' });
    await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 2.1.9'), dpkgStatusPath: noDpkg })).resolves.toMatchObject({ family: '2.1.1' });
  });

  it('honours an override, by family or by version, and OPENISCSI_ABI', async () => {
    await expect(requireVerifiedFamily({ abi: '2.1.11' })).resolves.toMatchObject({ family: '2.1.11', version: { source: 'override' } });
    await expect(requireVerifiedFamily({ abi: '2.1.11-git' })).resolves.toMatchObject({ family: '2.1.12' }); // the old name of 2.1.12's family
    await expect(requireVerifiedFamily({ abi: '2.1.13' })).resolves.toMatchObject({ family: '2.1.13' });
    await expect(requireVerifiedFamily({ abi: '6.2.1.9' })).resolves.toMatchObject({ family: '2.1.1' });
    await expect(requireVerifiedFamily({ abi: '2.0-877' })).resolves.toMatchObject({ family: '2.0.876' });
    await expect(requireVerifiedFamily({ abi: '3.0.0' })).rejects.toMatchObject({ code: 'ISCSID_ABI_UNSUPPORTED' });
    process.env.OPENISCSI_ABI = '2.0.875';
    try {
      await expect(requireVerifiedFamily({ procRoot: proc('iscsid', '# BEGIN RECORD 2.1.8'), dpkgStatusPath: noDpkg })).resolves.toMatchObject({ family: '2.0.875' });
    } finally {
      delete process.env.OPENISCSI_ABI;
    }
  });
});
