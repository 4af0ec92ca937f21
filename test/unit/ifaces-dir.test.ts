// Iface files are looked for where the running iscsid keeps its database: resolveIface, checkHardware and
// createIface agree on it (on Debian 13+ that is /var/lib/iscsi/ifaces, not /etc/iscsi/ifaces).
import { describe, expect, it } from 'vitest';
import { ifacesDirFor } from '../../lib/attach/ifaces-dir';
import type { IscsidVersion } from '../../lib/iscsid/version';

const daemon = (dbRoot: string | undefined) => async () => ({ version: '2.1.11', family: '2.1.11', source: 'exe', ...(dbRoot ? { dbRoot } : {}) }) as unknown as IscsidVersion;

describe('ifacesDirFor', () => {
  it('the caller\'s directory wins', async () => {
    expect(await ifacesDirFor('/tmp/x', daemon('/var/lib/iscsi'))).toBe('/tmp/x');
  });
  it('else the running daemon\'s database root', async () => {
    expect(await ifacesDirFor(undefined, daemon('/var/lib/iscsi'))).toBe('/var/lib/iscsi/ifaces');
    expect(await ifacesDirFor(undefined, daemon('/etc/iscsi'))).toBe('/etc/iscsi/ifaces');
  });
  it('else /etc/iscsi/ifaces (no iscsid identified, or it cannot be)', async () => {
    expect(await ifacesDirFor(undefined, async () => undefined)).toBe('/etc/iscsi/ifaces');
    expect(await ifacesDirFor(undefined, () => Promise.reject(new Error('ISCSID_NOT_RUNNING')))).toBe('/etc/iscsi/ifaces');
  });
});
