// `iscsiadm -m session -P 3`, parsed, and the check that a Session from sessions() says the same: shared by the
// read-path lab files (bookworm's kernel in read.lab.test.ts, trixie's in kernel.lab.test.ts).
import { expect } from 'vitest';
import type { Session } from '../../lib/read/sessions';

/** One session of `iscsiadm -m session -P 3`: its target, every "Key: value" of it, and its LUN lines. */
export interface P3Session {
  target: string;
  fields: Map<string, string>;
  luns: string[];
}

export function parseP3(text: string): Map<number, P3Session> {
  const out = new Map<number, P3Session>();
  let target = '';
  let cur: P3Session | undefined;
  for (const line of text.split('\n').map((l) => l.trim())) {
    let m: RegExpExecArray | null;
    if ((m = /^Target: (\S+)/.exec(line))) [target, cur] = [m[1]!, undefined];
    else if ((m = /^(Current|Persistent) Portal: (\S+)/.exec(line))) {
      // each session starts with its portals, before its SID line
      if (m[1] === 'Current' || !cur) cur = { target, fields: new Map(), luns: [] };
      cur.fields.set(`${m[1]} Portal`, m[2]!);
    } else if (!cur) continue;
    else if ((m = /^SID: (\d+)/.exec(line))) out.set(Number(m[1]), cur);
    else if ((m = /^Host Number: (\d+)\s+State: (\S+)/.exec(line))) cur.fields.set('Host Number', m[1]!);
    else if ((m = /^scsi(\d+) Channel (\d+) Id (\d+) Lun: (\d+)/.exec(line))) cur.luns.push(`${Number(m[1])}:${Number(m[2])}:${m[3]}:${m[4]}`);
    else if ((m = /^Attached scsi disk (\S+)\s+State: (\S+)/.exec(line))) cur.luns[cur.luns.length - 1] += ` ${m[1]} ${m[2]}`;
    else if ((m = /^([A-Za-z][A-Za-z ]+): (.*)$/.exec(line))) cur.fields.set(m[1]!, m[2]!);
  }
  return out;
}

/** Target, portals, iface, state, host, timeouts, and LUNs (H:C:T:L, disk and SCSI state, in iscsiadm's order). */
export function expectSessionEqualsP3(s: Session, theirs: P3Session): void {
  const f = (k: string) => theirs.fields.get(k);
  expect(s.targetName).toBe(theirs.target);
  expect(`${s.address}:${s.port},${s.tpgt}`).toBe(f('Current Portal'));
  expect(`${s.persistentAddress}:${s.persistentPort},${s.tpgt}`).toBe(f('Persistent Portal'));
  expect([s.iface.name, s.iface.transport, s.initiatorName, s.iface.ipaddress, s.iface.hwaddress, s.iface.netdev]).toEqual(
    ['Iface Name', 'Iface Transport', 'Iface Initiatorname', 'Iface IPaddress', 'Iface HWaddress', 'Iface Netdev'].map(f),
  );
  expect(s.state).toBe(f('iSCSI Session State'));
  expect(String(s.hostNo)).toBe(f('Host Number'));
  expect([s.timeouts.recovery, s.timeouts.tgtReset, s.timeouts.luReset, s.timeouts.abort].map(String)).toEqual(
    ['Recovery Timeout', 'Target Reset Timeout', 'LUN Reset Timeout', 'Abort Timeout'].map(f),
  );
  expect(s.devices.map((d) => (d.blockDevice ? `${d.hctl} ${d.blockDevice} ${d.state}` : d.hctl))).toEqual(theirs.luns);
}
