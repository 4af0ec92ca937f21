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
/** SO_PEERCRED's answer, as the addon would give it: the listener on iscsid's socket is root's pid 1234. */
const peer1234 = { identify: async () => ({ pid: 1234, uid: 0, gid: 0 }) };
const stanza = (version: string, status = 'install ok installed') => `Package: open-iscsi\nStatus: ${status}\nVersion: ${version}\n`;

describe('iscsid version detection, no spawning', () => {
  it('reads the version embedded in the running iscsid executable', async () => {
    const v = await detectIscsidVersion({ ...peer1234, procRoot: proc('iscsid', '\0\0# BEGIN RECORD 2.1.8\0...'), dpkgStatusPath: noDpkg });
    expect(v).toEqual({ version: '2.1.8', family: '2.1.1', source: 'process', pid: 1234, peerPid: 1234, dbRoot: '/etc/iscsi' });
  });

  it('finds the real iscsid on this host the same way (test/setup.sh installs open-iscsi 2.1.8)', async () => {
    // Not necessarily running here: then the package database answers.
    const v = await detectIscsidVersion({ packageDbFallback: true });
    expect(v?.version).toBe('2.1.8');
    expect(v?.family).toBe('2.1.1');
  });

  it('tells where the running build keeps its node database (Debian 13 and Red Hat: /var/lib/iscsi)', async () => {
    const at = async (body: string) => (await detectIscsidVersion({ ...peer1234, procRoot: proc('iscsid', body), dpkgStatusPath: noDpkg }))?.dbRoot;
    expect(await at('# BEGIN RECORD 2.1.11\0/var/lib/iscsi/nodes\0/etc/iscsi/iscsid.conf\0')).toBe('/var/lib/iscsi');
    expect(await at('# BEGIN RECORD 2.1.8\0/etc/iscsi/nodes\0/etc/iscsi/iscsid.conf\0')).toBe('/etc/iscsi');
  });

  it('reads the releases before 2.1.0, which write their version 2.0-874', async () => {
    expect(await detectIscsidVersion({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.0-874\0'), dpkgStatusPath: noDpkg })).toMatchObject({ version: '2.0.874', family: '2.0.874' });
    expect(await detectIscsidVersion({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.0-877\0'), dpkgStatusPath: noDpkg })).toMatchObject({ version: '2.0.877', family: '2.0.876' });
  });

  it('tells a git build after 2.1.11 (still "2.1.11", but 2.1.12\'s layout) by its congestion-control key', async () => {
    const git = await detectIscsidVersion({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.1.11\0node.conn[%d].tcp.congestion_control\0'), dpkgStatusPath: noDpkg });
    expect(git).toMatchObject({ version: '2.1.11', family: '2.1.12', note: expect.stringContaining('git build') });
    const tag = await detectIscsidVersion({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.1.11\0'), dpkgStatusPath: noDpkg });
    expect(tag).toMatchObject({ version: '2.1.11', family: '2.1.11' });
  });

  it('maps Red Hat\'s 6.2.1.N builds (RHEL, Rocky, Alma, Fedora) to upstream 2.1.N\'s family', async () => {
    const rh = (raw: string, extra = '') => detectIscsidVersion({ ...peer1234, procRoot: proc('iscsid', `# BEGIN RECORD ${raw}\0${extra}`), dpkgStatusPath: noDpkg });
    expect(await rh('6.2.1.4-1')).toMatchObject({ version: '2.1.4', family: '2.1.1', note: expect.stringContaining('Red Hat build 6.2.1.4-1') });
    expect(await rh('6.2.1.9')).toMatchObject({ version: '2.1.9', family: '2.1.1' });
    expect(await rh('6.2.1.11')).toMatchObject({ version: '2.1.11', family: '2.1.11' });
    expect(await rh('6.2.1.11', 'node.conn[%d].tcp.congestion_control')).toMatchObject({ version: '2.1.11', family: '2.1.12' });
    expect(await rh('6.2.1.13')).toMatchObject({ version: '2.1.13', family: '2.1.13' });
    // RHEL 7's 6.2.0.874 carries backports nobody measured; an unknown 6.2.1.N is not guessed either
    expect(await rh('6.2.0.874-22')).toMatchObject({ version: '2.0.874', family: undefined, note: expect.stringContaining('never measured') });
    expect(await rh('6.2.1.14')).toMatchObject({ version: '2.1.14', family: undefined });
    await expect(requireVerifiedFamily({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 6.2.1.4-1\0'), dpkgStatusPath: noDpkg })).resolves.toMatchObject({ family: '2.1.1' });
    await expect(requireVerifiedFamily({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 6.2.0.874\0'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({ code: 'ISCSID_ABI_UNSUPPORTED', message: expect.stringContaining('Red Hat') });
  });

  it('falls back to the dpkg database, with a note, only when asked, when the listener has no version', async () => {
    const status = dpkg(`Package: x\nStatus: install ok installed\nVersion: 1\n\n${stanza('2.1.8-1+deb12u1')}\n`);
    expect(await detectIscsidVersion({ ...peer1234, procRoot: proc('sshd', ''), dpkgStatusPath: status })).toBeUndefined();
    expect(await detectIscsidVersion({ ...peer1234, packageDbFallback: true, procRoot: proc('sshd', ''), dpkgStatusPath: status })).toEqual({
      version: '2.1.8', family: '2.1.1', source: 'dpkg', note: expect.stringContaining('package database'),
    });
  });

  it('reads dpkg versions with an epoch or without a revision, skips removed packages, refuses git snapshots', async () => {
    const d = (text: string) => detectIscsidVersion({ ...peer1234, packageDbFallback: true, procRoot: proc('sshd', ''), dpkgStatusPath: dpkg(text) });
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
    await expect(requireVerifiedFamily({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.1.12'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({
      name: 'IscsiUnsupportedError', code: 'ISCSID_ABI_UNSUPPORTED', details: { version: '2.1.12', family: '2.1.12', source: 'process' },
    });
    // a git build after 2.1.11 says "2.1.11" but has 2.1.12's layout: refused with it, not accepted as 2.1.11
    await expect(requireVerifiedFamily({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.1.11\0tcp.congestion_control'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({
      code: 'ISCSID_ABI_UNSUPPORTED', details: { version: '2.1.11', family: '2.1.12' },
    });
    // verified in the lab against Debian 13's own iscsid (test/lab/releases.lab.test.ts)
    await expect(requireVerifiedFamily({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.1.11'), dpkgStatusPath: noDpkg })).resolves.toMatchObject({ family: '2.1.11' });
    await expect(requireVerifiedFamily({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.2.0'), dpkgStatusPath: noDpkg })).rejects.toMatchObject({ code: 'ISCSID_ABI_UNSUPPORTED', message: expect.stringContaining('2.2.0') });
    await expect(requireVerifiedFamily({ ...peer1234, procRoot: proc('sshd', ''), dpkgStatusPath: noDpkg })).rejects.toMatchObject({ code: 'ISCSID_VERSION_UNKNOWN' });
    await expect(requireVerifiedFamily({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.1.9'), dpkgStatusPath: noDpkg })).resolves.toMatchObject({ family: '2.1.1' });
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
      await expect(requireVerifiedFamily({ ...peer1234, procRoot: proc('iscsid', '# BEGIN RECORD 2.1.8'), dpkgStatusPath: noDpkg })).resolves.toMatchObject({ family: '2.0.875' });
    } finally {
      delete process.env.OPENISCSI_ABI;
    }
  });
});

describe('the layout comes from the process SO_PEERCRED names, never from a name or a package guess', () => {
  const peerAt = (pid: number) => ({ identify: async () => ({ pid, uid: 0, gid: 0 }) });

  it('a process that merely calls itself iscsid is not asked: the listener\'s own executable decides', async () => {
    // pid 1234's comm is "iscsid" and its executable says 2.0.874; the listener is pid 1, whose says 2.1.8.
    const root = proc('iscsid', '# BEGIN RECORD 2.0-874\0');
    fs.writeFileSync(path.join(root, '1', 'exe'), '# BEGIN RECORD 2.1.8\0');
    expect(await detectIscsidVersion({ ...peerAt(1), procRoot: root, dpkgStatusPath: noDpkg })).toMatchObject({ version: '2.1.8', family: '2.1.1', pid: 1, peerPid: 1 });
  });

  it('socket activation: the manager listens, iscsid is the root process holding the same listening socket', async () => {
    const root = proc('iscsid', '# BEGIN RECORD 2.1.8\0');
    fs.writeFileSync(path.join(root, '1', 'exe'), 'systemd, no record');
    fs.mkdirSync(path.join(root, 'net'));
    fs.writeFileSync(path.join(root, 'net', 'unix'), [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 4242 @ISCSIADM_ABSTRACT_NAMESPACE',
      '0000000000000000: 00000003 00000000 00000000 0001 03 4343 @ISCSIADM_ABSTRACT_NAMESPACE',
      '',
    ].join('\n'));
    for (const pid of ['1', '1234']) {
      fs.mkdirSync(path.join(root, pid, 'fd'));
      fs.symlinkSync('socket:[4242]', path.join(root, pid, 'fd', '3'));
    }
    expect(await detectIscsidVersion({ ...peerAt(1), procRoot: root, dpkgStatusPath: noDpkg })).toMatchObject({ version: '2.1.8', family: '2.1.1', pid: 1234, peerPid: 1 });
    // A process holding only an accepted connection (inode 4343), not the listener, is not iscsid.
    fs.rmSync(path.join(root, '1234', 'fd', '3'));
    fs.symlinkSync('socket:[4343]', path.join(root, '1234', 'fd', '3'));
    const t0 = Date.now();
    expect(await detectIscsidVersion({ ...peerAt(1), procRoot: root, dpkgStatusPath: noDpkg })).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(5000); // the bounded wait for a daemon being started
  });

  it('the pid SO_PEERCRED gives counts only while it holds the listening socket (it may have exited, and its pid been reused)', async () => {
    // SO_PEERCRED says 1234 (who called listen()); 1234 now runs something claiming 2.0-874 and holds no such
    // socket; root's 2000 holds it and is 2.1.8.
    const root = proc('sshd', '# BEGIN RECORD 2.0-874\0');
    fs.mkdirSync(path.join(root, 'net'));
    fs.writeFileSync(path.join(root, 'net', 'unix'), 'Num RefCount Protocol Flags Type St Inode Path\n0: 00000002 00000000 00010000 0001 01 4242 @ISCSIADM_ABSTRACT_NAMESPACE\n');
    fs.mkdirSync(path.join(root, '2000', 'fd'), { recursive: true });
    fs.writeFileSync(path.join(root, '2000', 'exe'), '# BEGIN RECORD 2.1.8\0');
    fs.symlinkSync('socket:[4242]', path.join(root, '2000', 'fd', '7'));
    expect(await detectIscsidVersion({ ...peerAt(1234), procRoot: root, dpkgStatusPath: noDpkg })).toMatchObject({ version: '2.1.8', pid: 2000, peerPid: 1234 });
  });

  it('packageDbFallback must be a boolean (a string "false" would otherwise mean yes)', async () => {
    await expect(detectIscsidVersion({ ...peer1234, packageDbFallback: 'false' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_OPTION', name: 'IscsiValidationError' });
  });

  it('ISCSID_NOT_RUNNING stays an error unless the caller asked for the package database', async () => {
    const notRunning = { identify: async () => Promise.reject(Object.assign(new Error('not listening'), { code: 'ISCSID_NOT_RUNNING' })) };
    const status = dpkg(stanza('2.1.8-1'));
    await expect(detectIscsidVersion({ ...notRunning, dpkgStatusPath: status })).rejects.toMatchObject({ code: 'ISCSID_NOT_RUNNING' });
    expect(await detectIscsidVersion({ ...notRunning, packageDbFallback: true, dpkgStatusPath: status })).toMatchObject({ version: '2.1.8', source: 'dpkg' });
  });

  it.each(['ISCSID_PEER_UNTRUSTED', 'ISCSID_PEER_PID_HIDDEN'])('%s is never answered from the package database, even when asked', async (code) => {
    const refused = { identify: async () => Promise.reject(Object.assign(new Error(code), { code })) };
    await expect(detectIscsidVersion({ ...refused, packageDbFallback: true, dpkgStatusPath: dpkg(stanza('2.1.8-1')) })).rejects.toMatchObject({ code });
  });
});
