// Where iface files live for the iscsid that will use them: the caller's directory when given, else the
// running daemon's database root (its build decides: /etc/iscsi on Debian <= 12, /var/lib/iscsi on 13+, the
// same root login's `persist` writes node records under), else /etc/iscsi/ifaces when no iscsid can be identified.
import { ifacesDirOf } from '../files/iface-file';
import { detectIscsidVersion, type IscsidVersion } from '../iscsid/version';

export async function ifacesDirFor(dir: string | undefined, detect: () => Promise<IscsidVersion | undefined> = detectIscsidVersion): Promise<string> {
  if (dir !== undefined) return dir;
  const v = await detect().catch(() => undefined);
  return ifacesDirOf(v?.dbRoot);
}
