// iscsid.conf and initiatorname.iscsi, and the record built from them the way iscsiadm builds it (§2.4):
// hard-coded defaults, then iscsid.conf's node.* keys, then the iface, then the caller's options.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConf, readIscsidConf, readInitiatorNameFile, ConfFile } from '../../lib/iscsid/config';
import { applyConf, applyIface, applyOptions, defaultRecord, type LoginRecord } from '../../lib/iscsid/record';

const fixtures = path.resolve(__dirname, '../fixtures/etc-iscsi');
const read = (f: string) => fs.readFileSync(path.join(fixtures, f), 'utf8');
const tmp = (name: string, text: string) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'openiscsi-conf-')), name);
  fs.writeFileSync(file, text);
  return file;
};

describe('iscsid.conf', () => {
  it('is parsed once while unchanged, even by concurrent readers, and again once it changes', async () => {
    const file = tmp('iscsid.conf', 'node.session.timeo.replacement_timeout = 20\n');
    const [a, b] = await Promise.all([readIscsidConf(file), readIscsidConf(file)]);
    expect(a).toBe(b);
    expect(await readIscsidConf(file)).toBe(a);
    fs.writeFileSync(file, 'node.session.timeo.replacement_timeout = 45\n');
    const c = await readIscsidConf(file);
    expect(c).not.toBe(a);
    expect(c.get('node.session.timeo.replacement_timeout')).toBe('45');
    fs.writeFileSync(file, 'this is wrong\n');
    await expect(readIscsidConf(file)).rejects.toMatchObject({ code: 'CONFIG_PARSE_ERROR' });
  });

  it('names file and line on a parse error', () => {
    expect(() => parseConf('a = 1\nthis is wrong\n', '/etc/iscsi/iscsid.conf')).toThrow('/etc/iscsi/iscsid.conf:2: expected "key = value"');
    expect(() => parseConf('= 1\n', 'f')).toThrow(expect.objectContaining({ code: 'CONFIG_PARSE_ERROR', details: { file: 'f', line: 1 } }));
  });

  it('names file and line of a value that is not valid for its key', () => {
    const file = tmp('iscsid.conf', '# comment\nnode.session.scan = auto\n\nnode.session.cmds_max = lots\n');
    return readIscsidConf(file).then((conf) => {
      expect(() => applyConf(defaultRecord(), conf)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID_VALUE', message: expect.stringContaining(`${file}:4: node.session.cmds_max must be an integer`) }));
    });
  });

  it('skips comments, blank lines and indentation; the last line for a key wins', () => {
    const c = parseConf('  # x = 1\n\n\tnode.startup = automatic  \nnode.startup = manual\n', 'f');
    expect([...c]).toEqual([['node.startup', 'manual']]);
    expect(c.where('node.startup')).toBe('f:4');
  });

  it('parses the installed Debian iscsid.conf (test/setup.sh installs open-iscsi) into the record of the golden vectors', async () => {
    const installed = defaultRecord();
    applyConf(installed, await readIscsidConf());
    const golden = defaultRecord();
    applyConf(golden, parseConf(read('iscsid.conf'), 'iscsid.conf'));
    expect(installed).toEqual(golden);
    expect([golden.session.initialLoginRetryMax, golden.conn.loginTimeout]).toEqual([8, 15]);
  });

  it('treats a missing iscsid.conf as "no overrides", and an unreadable one as an error naming it', async () => {
    const missing = await readIscsidConf('/nonexistent/iscsid.conf');
    expect(missing.size).toBe(0);
    expect(missing).toBeInstanceOf(ConfFile);
    await expect(readIscsidConf(os.tmpdir())).rejects.toMatchObject({ code: 'CONFIG_READ_ERROR', details: { file: os.tmpdir() } });
  });

  it("applies the conf's CHAP keys as iscsiadm copies them into records, and ignores keys that are not for node records", () => {
    const r = defaultRecord();
    applyConf(r, parseConf('node.session.auth.authmethod = CHAP\nnode.session.auth.username = u\nnode.session.auth.password = secret-secret\niscsid.startup = /bin/true\ndiscovery.sendtargets.auth.authmethod = CHAP\n', 'f'));
    expect(r.session.auth).toEqual({ ...defaultRecord().session.auth, authmethod: 1, username: 'u', password: 'secret-secret' });
    expect({ ...r, session: { ...r.session, auth: defaultRecord().session.auth } }).toEqual(defaultRecord());
    const mutual = defaultRecord();
    applyConf(mutual, parseConf('node.session.auth.authmethod = CHAP\nnode.session.auth.username = u\nnode.session.auth.password = secret-secret\nnode.session.auth.username_in = t\nnode.session.auth.password_in = target-secret\nnode.session.auth.chap_algs = SHA256,MD5\n', 'f'));
    expect(mutual.session.auth).toEqual({ authmethod: 1, username: 'u', password: 'secret-secret', usernameIn: 't', passwordIn: 'target-secret', chapAlgs: [7, 5] });
  });

  it.each([
    ['node.session.auth.authmethod = CHAP\nnode.session.auth.username = u\nnode.session.auth.password = short\n', 'f:3', 'node.session.auth.password must be 12 to 255 bytes'],
    ['node.session.auth.authmethod = CHAP\nnode.session.auth.password = secret-secret\n', 'f', 'node.session.auth.username must not be empty'],
    ['node.session.auth.username = u\nnode.session.auth.password = secret-secret\n', 'f:1', 'authmethod is not CHAP'],
    ['node.session.auth.authmethod = CHAP\nnode.session.auth.username = u\nnode.session.auth.password = secret-secret\nnode.session.auth.username_in = t\n', 'f:4', 'mutual CHAP needs both node.session.auth.username_in and node.session.auth.password_in'],
    ['node.session.auth.authmethod = CHAP\nnode.session.auth.username = u\nnode.session.auth.password = secret-secret\nnode.session.auth.username_in = t\nnode.session.auth.password_in = secret-secret\n', 'f:5', 'must differ'],
    ['node.session.auth.authmethod = Kerberos\n', 'f:1', 'must be None or CHAP'],
  ])('refuses CHAP keys it cannot apply, loudly, naming file and line and never the secret (%#)', (text, where, why) => {
    let err: unknown;
    try {
      applyConf(defaultRecord(), parseConf(text, 'f'));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'IscsiValidationError', code: 'CONFIG_INVALID_VALUE' });
    expect((err as Error).message).toContain(where);
    expect((err as Error).message).toContain(why);
    expect((err as Error).message).not.toMatch(/secret-secret|short\b/);
  });
});

describe('initiatorname.iscsi', () => {
  it('reads InitiatorName and InitiatorAlias', async () => {
    const file = tmp('initiatorname.iscsi', '## generated\nInitiatorName=iqn.1993-08.org.debian:01:6b7e3bc0d1d9\nInitiatorAlias=host1\n');
    expect(await readInitiatorNameFile(file)).toEqual({ name: 'iqn.1993-08.org.debian:01:6b7e3bc0d1d9', alias: 'host1' });
  });

  it('a missing file has neither; a malformed one is an error naming the line', async () => {
    expect(await readInitiatorNameFile('/nonexistent/initiatorname.iscsi')).toEqual({});
    await expect(readInitiatorNameFile(tmp('initiatorname.iscsi', 'InitiatorName=iqn.2003-01.x:y\ngarbage\n'))).rejects.toThrow(/initiatorname\.iscsi:2/);
  });
});

describe('the LOGIN record, layered as iscsiadm layers it', () => {
  /** The values iscsiadm 2.1.8 wrote into the node file for the eth-bound record (test/fixtures/etc-iscsi). */
  function fromNodeFile(): LoginRecord {
    const file = parseConf(read('node_record_eth-bound.txt'), 'node_record_eth-bound.txt');
    const r = defaultRecord();
    applyConf(r, file);
    applyIface(r, { name: file.get('iface.iscsi_ifacename')!, transport: file.get('iface.transport_name')!, netdev: file.get('iface.net_ifacename'), initiatorName: file.get('iface.initiatorname') });
    return r;
  }

  it('defaults, then iscsid.conf, then the iface give what iscsiadm itself resolved into its node file', () => {
    const r = defaultRecord();
    applyConf(r, parseConf(read('iscsid.conf'), 'iscsid.conf'));
    const iface = parseConf(read('iface_eth-bound.txt'), 'iface_eth-bound.txt');
    applyIface(r, { name: iface.get('iface.iscsi_ifacename')!, transport: iface.get('iface.transport_name')!, netdev: iface.get('iface.net_ifacename'), initiatorName: iface.get('iface.initiatorname') });
    expect(r).toEqual(fromNodeFile());
    expect(r.iface).toMatchObject({ name: 'eth-bound', netdev: 'eth1', transportName: 'tcp', iname: 'iqn.2024-01.org.example:custom' });
  });

  it('the iface overwrites only what it sets ("default" means unbound), and the caller\'s options come last', () => {
    const r = defaultRecord();
    applyConf(r, parseConf('node.conn[0].timeo.login_timeout = 15\n', 'f'));
    applyIface(r, { name: 'bnx2i.00:11:22:33:44:55', transport: 'bnx2i', hwaddress: '00:11:22:33:44:55', ipaddress: 'default', netdev: '' });
    applyOptions(r, { 'node.conn[0].timeo.login_timeout': 5 });
    expect(r.iface).toMatchObject({ name: 'bnx2i.00:11:22:33:44:55', transportName: 'bnx2i', hwaddress: '00:11:22:33:44:55', ipaddress: '', netdev: '' });
    expect(r.conn.loginTimeout).toBe(5);
  });

  it('refuses iface values that do not fit the record\'s buffers, never truncating', () => {
    expect(() => applyIface(defaultRecord(), { name: 'x'.repeat(65), transport: 'tcp' })).toThrow(expect.objectContaining({ code: 'VALUE_TOO_LONG' }));
    expect(() => applyIface(defaultRecord(), { name: 'i', transport: 'tcp', netdev: 'a-very-long-netdev' })).toThrow(/iface netdev is 18 bytes; at most 15 fit/);
    expect(() => applyIface(defaultRecord(), { name: 'i', transport: 'tcp', hwaddress: '00:11:22:33:44:55:66' })).toThrow(/at most 17 fit/);
    expect(() => applyIface(defaultRecord(), { name: 'i', transport: 'a'.repeat(16) })).toThrow(/at most 15 fit/);
  });
});
