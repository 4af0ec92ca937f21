// Node records on disk, in iscsiadm's own format and under its own lock, so `iscsiadm -m node` and boot-time
// logins see what persist: true wrote. Only written when a caller asks for it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { IscsiError } from '../errors';
import { withIscsiDbLock } from '../files/db-lock';
import { writeFileAtomic } from '../files/atomic-write';
import type { LoginRecord } from './record';
import { pathInside, recordLine } from '../validate';
import { chapAlgorithmById } from '../chap-algorithms';

export const NODES_DIR = '/etc/iscsi/nodes';

const yesNo = (n: number) => (n ? 'Yes' : 'No');
const startup = (n: number) => ['manual', 'automatic', 'onboot'][n] ?? 'manual';
const digest = (n: number) => ['None', 'CRC32C', 'CRC32C,None', 'None,CRC32C'][n] ?? 'None';
const DISC_TYPES: Record<number, string> = { 0: 'send_targets', 1: 'isns', 2: 'offload_send_targets', 3: 'slp', 4: 'static', 5: 'fw' };

/** The record as iscsiadm 2.1.8 writes it: fixed key order, empty strings left out. */
export function serializeNodeRecord(r: LoginRecord, version = '2.1.8'): string {
  const lines: Array<[string, string | number]> = [
    ['node.name', r.name],
    ['node.tpgt', r.tpgt],
    ['node.startup', startup(r.startup)],
    ['node.leading_login', yesNo(r.leadingLogin)],
    ['iface.iscsi_ifacename', r.iface.name],
    ['iface.net_ifacename', r.iface.netdev],
    ['iface.ipaddress', r.iface.ipaddress],
    ['iface.prefix_len', r.iface.prefixLen],
    ['iface.hwaddress', r.iface.hwaddress],
    ['iface.transport_name', r.iface.transportName],
    ['iface.initiatorname', r.iface.iname],
    ['iface.vlan_id', r.iface.vlanId],
    ['iface.vlan_priority', r.iface.vlanPriority],
    ['iface.iface_num', r.iface.ifaceNum],
    ['iface.mtu', r.iface.mtu],
    ['iface.port', r.iface.port],
    ['iface.tos', 0],
    ['iface.ttl', 0],
    ['iface.tcp_wsf', 0],
    ['iface.tcp_timer_scale', 0],
    ['iface.def_task_mgmt_timeout', 0],
    ['iface.erl', 0],
    ['iface.max_receive_data_len', 0],
    ['iface.first_burst_len', 0],
    ['iface.max_outstanding_r2t', 0],
    ['iface.max_burst_len', 0],
    ['node.discovery_address', r.discAddress],
    ['node.discovery_port', r.discPort],
    ['node.discovery_type', DISC_TYPES[r.discType] ?? 'static'],
    ['node.session.initial_cmdsn', r.session.initialCmdsn],
    ['node.session.initial_login_retry_max', r.session.initialLoginRetryMax],
    ['node.session.xmit_thread_priority', r.session.xmitThreadPriority],
    ['node.session.cmds_max', r.session.cmdsMax],
    ['node.session.queue_depth', r.session.queueDepth],
    ['node.session.nr_sessions', r.session.nrSessions],
    ['node.session.auth.authmethod', r.session.auth.authmethod ? 'CHAP' : 'None'],
    ['node.session.auth.username', r.session.auth.username],
    ['node.session.auth.password', r.session.auth.password],
    ['node.session.auth.username_in', r.session.auth.usernameIn],
    ['node.session.auth.password_in', r.session.auth.passwordIn],
    ['node.session.auth.chap_algs', r.session.auth.chapAlgs.map((a) => chapAlgorithmById(a)?.name ?? 'MD5').join(',')],
    ['node.session.timeo.replacement_timeout', r.session.replacementTimeout],
    ['node.session.err_timeo.abort_timeout', r.session.errTimeo.abort],
    ['node.session.err_timeo.lu_reset_timeout', r.session.errTimeo.luReset],
    ['node.session.err_timeo.tgt_reset_timeout', r.session.errTimeo.tgtReset],
    ['node.session.err_timeo.host_reset_timeout', r.session.errTimeo.hostReset],
    ['node.session.iscsi.FastAbort', yesNo(r.session.iscsi.FastAbort)],
    ['node.session.iscsi.InitialR2T', yesNo(r.session.iscsi.InitialR2T)],
    ['node.session.iscsi.ImmediateData', yesNo(r.session.iscsi.ImmediateData)],
    ['node.session.iscsi.FirstBurstLength', r.session.iscsi.FirstBurstLength],
    ['node.session.iscsi.MaxBurstLength', r.session.iscsi.MaxBurstLength],
    ['node.session.iscsi.DefaultTime2Retain', r.session.iscsi.DefaultTime2Retain],
    ['node.session.iscsi.DefaultTime2Wait', r.session.iscsi.DefaultTime2Wait],
    ['node.session.iscsi.MaxConnections', r.session.iscsi.MaxConnections],
    ['node.session.iscsi.MaxOutstandingR2T', r.session.iscsi.MaxOutstandingR2T],
    ['node.session.iscsi.ERL', r.session.iscsi.ERL],
    ['node.session.scan', r.session.scan ? 'auto' : 'manual'],
    ['node.session.reopen_max', r.session.reopenMax],
    ['node.conn[0].address', r.conn.address],
    ['node.conn[0].port', r.conn.port],
    ['node.conn[0].startup', startup(r.conn.startup)],
    ['node.conn[0].tcp.window_size', r.conn.windowSize],
    ['node.conn[0].tcp.type_of_service', r.conn.typeOfService],
    ['node.conn[0].timeo.logout_timeout', r.conn.logoutTimeout],
    ['node.conn[0].timeo.login_timeout', r.conn.loginTimeout],
    ['node.conn[0].timeo.auth_timeout', r.conn.authTimeout],
    ['node.conn[0].timeo.noop_out_interval', r.conn.noopOutInterval],
    ['node.conn[0].timeo.noop_out_timeout', r.conn.noopOutTimeout],
    ['node.conn[0].iscsi.MaxXmitDataSegmentLength', r.conn.MaxXmitDataSegmentLength],
    ['node.conn[0].iscsi.MaxRecvDataSegmentLength', r.conn.MaxRecvDataSegmentLength],
    ['node.conn[0].iscsi.HeaderDigest', digest(r.conn.HeaderDigest)],
    ['node.conn[0].iscsi.DataDigest', digest(r.conn.DataDigest)],
    ['node.conn[0].iscsi.IFMarker', yesNo(r.conn.IFMarker)],
    ['node.conn[0].iscsi.OFMarker', yesNo(r.conn.OFMarker)],
  ];
  const body = lines.filter(([, v]) => v !== '').map(([k, v]) => recordLine(k, v));
  return [`# BEGIN RECORD ${version}`, ...body, '# END RECORD', ''].join('\n');
}

/** Where iscsiadm keeps a record: nodes/<target>/<addr>,<port>,<tpgt>/<iface> (or the old-style file for tpgt -1). */
export function nodeRecordPath(r: LoginRecord, nodesDir = NODES_DIR): string {
  const portal = `${r.conn.address},${r.conn.port}`;
  return r.tpgt === -1 ? pathInside(nodesDir, r.name, portal) : pathInside(nodesDir, r.name, `${portal},${r.tpgt}`, r.iface.name);
}

/** Writes the node record atomically (temp file + rename, mode 0600: it may hold CHAP secrets). */
export async function writeNodeRecord(r: LoginRecord, o: { nodesDir?: string; lockDir?: string; timeoutMs?: number; signal?: AbortSignal | undefined } = {}): Promise<string> {
  const file = nodeRecordPath(r, o.nodesDir);
  await withIscsiDbLock(async () => {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o770 });
    const existing = await fs.stat(file).catch(() => undefined);
    if (existing?.isDirectory()) {
      throw new IscsiError('NODE_RECORD_CONFLICT', `${file} is a directory of new-style records; not overwriting it`);
    }
    await writeFileAtomic(file, serializeNodeRecord(r), 0o600);
  }, o);
  return file;
}
