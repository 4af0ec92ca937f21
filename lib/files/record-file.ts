// Reader for iscsiadm's record files (ifaces and nodes): `key = value` lines, `#` comments, blank lines.
// Tolerant like iscsiadm's own reader (unknown keys are kept), unlike libopeniscsiusr's; checkRecord() says
// what libopeniscsiusr 2.1.8 would refuse in a file, so a fallback listing can skip and name that file.

/** The `key = value` lines of a record file, in order (duplicates kept). */
export function recordLines(text: string): Array<[key: string, value: string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.length >= 2048) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (/\s/.test(key) || value === '') continue;
    out.push([key, value]);
  }
  return out;
}

export function parseRecordFile(text: string): Map<string, string> {
  return new Map(recordLines(text));
}

/** The file libopeniscsiusr named in its "config file X invalid" log line, if any. */
export function rejectedFileFrom(message: string): string | undefined {
  return /config file (\S+) invalid/.exec(message)?.[1];
}

// ---- what libopeniscsiusr 2.1.8 accepts --------------------------------------------------------------
// Numbers and strings are taken as they are (strtoul, strncpy); only unknown keys, enum values outside
// their list and booleans other than Yes/No make it fail. Key names: open-iscsi's idbm_fields.h.

type KeyRule = 'any' | readonly string[];
const YES_NO = ['Yes', 'No'] as const;
const STARTUP = ['manual', 'automatic', 'onboot'] as const;
const DIGEST = ['None', 'CRC32C', 'CRC32C,None', 'None,CRC32C'] as const;

const iface = (names: string[]): Array<[string, KeyRule]> => names.map((n) => [`iface.${n}`, 'any']);

const IFACE_ANY_FAMILY = iface([
  'iscsi_ifacename', 'net_ifacename', 'ipaddress', 'prefix_len', 'hwaddress', 'transport_name', 'initiatorname',
  'state', 'vlan_id', 'vlan_priority', 'vlan_state', 'iface_num', 'mtu', 'port',
  'delayed_ack', 'tcp_nagle', 'tcp_wsf_state', 'tcp_wsf', 'tcp_timer_scale', 'tcp_timestamp', 'redirect',
  'def_task_mgmt_timeout', 'header_digest', 'data_digest', 'immediate_data', 'initial_r2t', 'data_seq_inorder',
  'data_pdu_inorder', 'erl', 'max_receive_data_len', 'first_burst_len', 'max_outstanding_r2t', 'max_burst_len',
  'chap_auth', 'bidi_chap', 'strict_login_compliance', 'discovery_auth', 'discovery_logout',
]);
const IFACE_IPV4_ONLY = iface([
  'bootproto', 'subnet_mask', 'gateway', 'dhcp_alt_client_id_state', 'dhcp_alt_client_id', 'dhcp_dns',
  'dhcp_learn_iqn', 'dhcp_req_vendor_id_state', 'dhcp_vendor_id_state', 'dhcp_vendor_id', 'dhcp_slp_da',
  'fragmentation', 'gratuitous_arp', 'incoming_forwarding', 'tos_state', 'tos', 'ttl',
]);
const IFACE_IPV6_ONLY = iface([
  'ipv6_autocfg', 'linklocal_autocfg', 'router_autocfg', 'ipv6_linklocal', 'ipv6_router', 'dup_addr_detect_cnt',
  'flow_label', 'gratuitous_neighbor_adv', 'hop_limit', 'mld', 'nd_reachable_tmo', 'nd_rexmit_time', 'nd_stale_tmo',
  'router_adv_link_mtu', 'traffic_class',
]);

const NODE_ONLY: Array<[string, KeyRule]> = [
  ['node.name', 'any'],
  ['node.tpgt', 'any'],
  ['node.startup', STARTUP],
  ['node.leading_login', YES_NO],
  ['node.discovery_address', 'any'],
  ['node.discovery_port', 'any'],
  ['node.discovery_type', ['send_targets', 'isns', 'offload_send_targets', 'slp', 'static', 'fw']],
  ...[
    'initial_cmdsn', 'initial_login_retry_max', 'xmit_thread_priority', 'cmds_max', 'queue_depth', 'nr_sessions',
    'auth.username', 'auth.password', 'auth.password_length', 'auth.username_in', 'auth.password_in',
    'auth.password_in_length', 'auth.chap_algs', 'timeo.replacement_timeout', 'err_timeo.abort_timeout',
    'err_timeo.lu_reset_timeout', 'err_timeo.tgt_reset_timeout', 'err_timeo.host_reset_timeout',
    'iscsi.FirstBurstLength', 'iscsi.MaxBurstLength', 'iscsi.DefaultTime2Retain', 'iscsi.DefaultTime2Wait',
    'iscsi.MaxConnections', 'iscsi.MaxOutstandingR2T', 'iscsi.ERL', 'reopen_max',
  ].map((n): [string, KeyRule] => [`node.session.${n}`, 'any']),
  ['node.session.auth.authmethod', ['None', 'CHAP']],
  ['node.session.iscsi.FastAbort', YES_NO],
  ['node.session.iscsi.InitialR2T', YES_NO],
  ['node.session.iscsi.ImmediateData', YES_NO],
  ['node.session.scan', ['manual', 'auto']],
  ...[
    'address', 'port', 'tcp.window_size', 'tcp.type_of_service', 'timeo.logout_timeout', 'timeo.login_timeout',
    'timeo.auth_timeout', 'timeo.noop_out_interval', 'timeo.noop_out_timeout', 'iscsi.MaxXmitDataSegmentLength',
    'iscsi.MaxRecvDataSegmentLength',
  ].map((n): [string, KeyRule] => [`node.conn[0].${n}`, 'any']),
  ['node.conn[0].startup', STARTUP],
  ['node.conn[0].iscsi.HeaderDigest', DIGEST],
  ['node.conn[0].iscsi.DataDigest', DIGEST],
  ['node.conn[0].iscsi.IFMarker', YES_NO],
  ['node.conn[0].iscsi.OFMarker', YES_NO],
];

const RULES = {
  iface: { v4: new Map([...IFACE_ANY_FAMILY, ...IFACE_IPV4_ONLY]), v6: new Map([...IFACE_ANY_FAMILY, ...IFACE_IPV6_ONLY]) },
  node: {
    v4: new Map([...NODE_ONLY, ...IFACE_ANY_FAMILY, ...IFACE_IPV4_ONLY]),
    v6: new Map([...NODE_ONLY, ...IFACE_ANY_FAMILY, ...IFACE_IPV6_ONLY]),
  },
};

export interface RecordProblem {
  key: string;
  value: string;
  reason: 'unknown key' | 'unknown value';
}

/**
 * The first line libopeniscsiusr 2.1.8 would refuse in an iface or node file, or undefined when it would
 * read the whole file. `ifaceName` is the iface the record is for (the iface file's name; for a node file,
 * the file's own name in the new layout): the IPv6-only iface keys are accepted only when it contains "ipv6".
 */
export function checkRecord(text: string, kind: 'iface' | 'node', ifaceName: string): RecordProblem | undefined {
  const rules = RULES[kind][ifaceName.includes('ipv6') ? 'v6' : 'v4'];
  // libopeniscsiusr skips a last line without a newline (as "too long"), so it cannot fail on it.
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  for (const [key, value] of recordLines(complete)) {
    const rule = rules.get(key);
    if (rule === undefined) return { key, value, reason: 'unknown key' };
    if (rule !== 'any' && !rule.includes(value)) return { key, value, reason: 'unknown value' };
  }
  return undefined;
}
