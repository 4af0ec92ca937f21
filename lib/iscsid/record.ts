// The node record iscsid receives with LOGIN, built the way iscsiadm builds it (openiscsi-internals §2.4):
// hard-coded defaults, then iscsid.conf's node.* keys, then the iface, then the caller's options.
import { IscsiUnsupportedError, IscsiValidationError } from '../errors';
import { checkAuth, checkFits } from '../validate';
import { CHAP_ALGORITHM_IDS as CHAP_ALGORITHMS, type ChapAlgorithm } from '../chap-algorithms';
import { ABI_FAMILIES, discoveryRenumbered, type AbiFamily } from './version';
import type { IfaceFields } from '../files/iface-file';

export interface RecordIface {
  name: string;
  ifaceNum: number;
  netdev: string;
  ipaddress: string;
  subnetMask: string;
  gateway: string;
  bootproto: string;
  prefixLen: number;
  vlanId: number;
  vlanPriority: number;
  mtu: number;
  port: number;
  hwaddress: string;
  transportName: string;
  alias: string;
  iname: string;
}

/** Exactly the shape native/ipc/record.cc packs. */
export interface LoginRecord {
  name: string;
  tpgt: number;
  startup: number;
  leadingLogin: number;
  session: {
    initialCmdsn: number;
    reopenMax: number;
    xmitThreadPriority: number;
    cmdsMax: number;
    queueDepth: number;
    initialLoginRetryMax: number;
    /** 2.1.13 and later only: how many login redirects iscsid follows (0: no limit, as before 2.1.13). */
    loginRedirectMax: number;
    nrSessions: number;
    scan: number;
    /** 2.1.11 and later only: log every Nth reconnect attempt (iscsid treats < 1 as 1). */
    connReopenLogFreq: number;
    auth: { authmethod: number; username: string; password: string; usernameIn: string; passwordIn: string; chapAlgs: number[] };
    replacementTimeout: number;
    errTimeo: { abort: number; hostReset: number; luReset: number; tgtReset: number };
    iscsi: {
      DataPDUInOrder: number; DataSequenceInOrder: number; protocol: number; InitialR2T: number; ImmediateData: number;
      FirstBurstLength: number; MaxBurstLength: number; DefaultTime2Wait: number; DefaultTime2Retain: number;
      MaxConnections: number; MaxOutstandingR2T: number; ERL: number; FastAbort: number;
    };
    multiple: number;
  };
  conn: {
    startup: number; address: string; port: number; windowSize: number; typeOfService: number;
    /** 2.1.12 (and git builds after 2.1.11) on: the TCP congestion control algorithm, '' for the system default. */
    congestionControl: string;
    loginTimeout: number; logoutTimeout: number; authTimeout: number; activeTimeout: number;
    noopOutInterval: number; noopOutTimeout: number;
    MaxRecvDataSegmentLength: number; MaxXmitDataSegmentLength: number; HeaderDigest: number; DataDigest: number;
    IFMarker: number; OFMarker: number;
  };
  iface: RecordIface;
  /**
   * How the node was found, in the numbering of every release up to 2.1.11 (0 sendtargets, 1 iSNS, 2 offload
   * sendtargets, 3 SLP, 4 static, 5 firmware). From 2.1.11 on only 0..2 are sent (see wireDiscType).
   */
  discType: number;
  discAddress: string;
  discPort: number;
}

export { CHAP_ALGORITHM_IDS as CHAP_ALGORITHMS, type ChapAlgorithm } from '../chap-algorithms';

/** open-iscsi's hard-coded defaults (idbm_node_setup_defaults), before any iscsid.conf. */
export function defaultRecord(): LoginRecord {
  return {
    name: '', tpgt: -1, startup: 0, leadingLogin: 0,
    session: {
      initialCmdsn: 0, reopenMax: 0, xmitThreadPriority: -20, cmdsMax: 128, queueDepth: 32, initialLoginRetryMax: 4, loginRedirectMax: 8,
      nrSessions: 1, scan: 1, connReopenLogFreq: 1,
      auth: { authmethod: 0, username: '', password: '', usernameIn: '', passwordIn: '', chapAlgs: [5] },
      replacementTimeout: 120,
      errTimeo: { abort: 15, hostReset: 60, luReset: 30, tgtReset: 30 },
      iscsi: {
        DataPDUInOrder: 0, DataSequenceInOrder: 0, protocol: 0, InitialR2T: 0, ImmediateData: 1, FirstBurstLength: 262144,
        MaxBurstLength: 16776192, DefaultTime2Wait: 2, DefaultTime2Retain: 0, MaxConnections: 1, MaxOutstandingR2T: 1, ERL: 0, FastAbort: 1,
      },
      multiple: 0,
    },
    conn: {
      startup: 0, address: '', port: 3260, windowSize: 524288, typeOfService: 0, congestionControl: '', loginTimeout: 30, logoutTimeout: 15,
      authTimeout: 45, activeTimeout: 0, noopOutInterval: 5, noopOutTimeout: 5, MaxRecvDataSegmentLength: 262144,
      MaxXmitDataSegmentLength: 0, HeaderDigest: 0, DataDigest: 0, IFMarker: 0, OFMarker: 0,
    },
    iface: {
      name: 'default', ifaceNum: 0, netdev: '', ipaddress: '', subnetMask: '', gateway: '', bootproto: '', prefixLen: 0,
      vlanId: 0, vlanPriority: 0, mtu: 0, port: 0, hwaddress: '', transportName: 'tcp', alias: '', iname: '',
    },
    discType: 4, // STATIC in 2.1.x (iscsid ignores it)
    discAddress: '',
    discPort: 0,
  };
}

type Setter = (r: LoginRecord, value: string, key: string) => void;

const int = (set: (r: LoginRecord, n: number) => void, min = -2147483648, max = 2147483647): Setter => (r, v, key) => {
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new IscsiValidationError('INVALID_OPTION', `${key} must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  set(r, Number(v));
};
const words = (table: Record<string, number>, set: (r: LoginRecord, n: number) => void): Setter => (r, v, key) => {
  const n = table[v];
  if (n === undefined) throw new IscsiValidationError('INVALID_OPTION', `${key} must be one of ${Object.keys(table).join(', ')}, got ${JSON.stringify(v)}`);
  set(r, n);
};
const yesNo = (set: (r: LoginRecord, n: number) => void) => words({ Yes: 1, No: 0 }, set);
const digest = (set: (r: LoginRecord, n: number) => void) => words({ None: 0, CRC32C: 1, 'CRC32C,None': 2, 'None,CRC32C': 3 }, set);

/** The node.* keys of iscsid.conf (and of `options`) and where they go; the names are iscsiadm's. */
export const NODE_KEYS: Record<string, Setter> = {
  'node.startup': words({ manual: 0, automatic: 1, onboot: 2 }, (r, n) => (r.startup = n)),
  'node.leading_login': yesNo((r, n) => (r.leadingLogin = n)),
  'node.session.initial_cmdsn': int((r, n) => (r.session.initialCmdsn = n)),
  'node.session.reopen_max': int((r, n) => (r.session.reopenMax = n), 0),
  'node.session.xmit_thread_priority': int((r, n) => (r.session.xmitThreadPriority = n), -20, 19),
  'node.session.cmds_max': int((r, n) => (r.session.cmdsMax = n), 2, 2048),
  'node.session.queue_depth': int((r, n) => (r.session.queueDepth = n), 1, 1024),
  'node.session.initial_login_retry_max': int((r, n) => (r.session.initialLoginRetryMax = n), 0),
  'node.session.login_redirect_max': int((r, n) => (r.session.loginRedirectMax = n), 0), // 2.1.13
  'node.session.nr_sessions': int((r, n) => (r.session.nrSessions = n), 1, 1),
  'node.session.scan': words({ manual: 0, auto: 1 }, (r, n) => (r.session.scan = n)),
  'node.session.conn_reopen_log_freq': int((r, n) => (r.session.connReopenLogFreq = n), 0), // 2.1.11
  'node.session.sess_reopen_log_freq': int((r, n) => (r.session.connReopenLogFreq = n), 0), // 2.1.12 (git after 2.1.11)
  'node.session.auth.chap_algs': (r, v, key) => {
    const algs = v.split(',').map((s) => s.trim());
    const nums = algs.map((a) => CHAP_ALGORITHMS[a as ChapAlgorithm]);
    if (nums.length === 0 || nums.length > 5 || nums.some((n) => n === undefined)) {
      throw new IscsiValidationError('INVALID_OPTION', `${key} must list 1..5 of ${Object.keys(CHAP_ALGORITHMS).join(', ')}`);
    }
    r.session.auth.chapAlgs = nums as number[];
  },
  'node.session.timeo.replacement_timeout': int((r, n) => (r.session.replacementTimeout = n), -1),
  'node.session.err_timeo.abort_timeout': int((r, n) => (r.session.errTimeo.abort = n), 0),
  'node.session.err_timeo.lu_reset_timeout': int((r, n) => (r.session.errTimeo.luReset = n), 0),
  'node.session.err_timeo.tgt_reset_timeout': int((r, n) => (r.session.errTimeo.tgtReset = n), 0),
  'node.session.err_timeo.host_reset_timeout': int((r, n) => (r.session.errTimeo.hostReset = n), 0),
  'node.session.iscsi.FastAbort': yesNo((r, n) => (r.session.iscsi.FastAbort = n)),
  'node.session.iscsi.InitialR2T': yesNo((r, n) => (r.session.iscsi.InitialR2T = n)),
  'node.session.iscsi.ImmediateData': yesNo((r, n) => (r.session.iscsi.ImmediateData = n)),
  'node.session.iscsi.FirstBurstLength': int((r, n) => (r.session.iscsi.FirstBurstLength = n), 512, 16777215),
  'node.session.iscsi.MaxBurstLength': int((r, n) => (r.session.iscsi.MaxBurstLength = n), 512, 16777215),
  'node.session.iscsi.DefaultTime2Retain': int((r, n) => (r.session.iscsi.DefaultTime2Retain = n), 0, 3600),
  'node.session.iscsi.DefaultTime2Wait': int((r, n) => (r.session.iscsi.DefaultTime2Wait = n), 0, 3600),
  'node.session.iscsi.MaxConnections': int((r, n) => (r.session.iscsi.MaxConnections = n), 1, 65535),
  'node.session.iscsi.MaxOutstandingR2T': int((r, n) => (r.session.iscsi.MaxOutstandingR2T = n), 1, 65535),
  'node.session.iscsi.ERL': int((r, n) => (r.session.iscsi.ERL = n), 0, 2),
  'node.conn[0].startup': words({ manual: 0, automatic: 1, onboot: 2 }, (r, n) => (r.conn.startup = n)),
  'node.conn[0].tcp.window_size': int((r, n) => (r.conn.windowSize = n), 0),
  'node.conn[0].tcp.type_of_service': int((r, n) => (r.conn.typeOfService = n), 0, 255),
  'node.conn[0].tcp.congestion_control': (r, v, key) => {
    if (!/^[A-Za-z0-9_-]{1,15}$/.test(v)) throw new IscsiValidationError('INVALID_OPTION', `${key} must be a kernel congestion control name (1..15 of letters, digits, _ -), got ${JSON.stringify(v)}`);
    r.conn.congestionControl = v;
  },
  'node.conn[0].timeo.login_timeout': int((r, n) => (r.conn.loginTimeout = n), 0),
  'node.conn[0].timeo.logout_timeout': int((r, n) => (r.conn.logoutTimeout = n), 0),
  'node.conn[0].timeo.auth_timeout': int((r, n) => (r.conn.authTimeout = n), 0),
  'node.conn[0].timeo.noop_out_interval': int((r, n) => (r.conn.noopOutInterval = n), 0),
  'node.conn[0].timeo.noop_out_timeout': int((r, n) => (r.conn.noopOutTimeout = n), 0),
  'node.conn[0].iscsi.MaxRecvDataSegmentLength': int((r, n) => (r.conn.MaxRecvDataSegmentLength = n), 512, 16777215),
  'node.conn[0].iscsi.MaxXmitDataSegmentLength': int((r, n) => (r.conn.MaxXmitDataSegmentLength = n), 0, 16777215),
  'node.conn[0].iscsi.HeaderDigest': digest((r, n) => (r.conn.HeaderDigest = n)),
  'node.conn[0].iscsi.DataDigest': digest((r, n) => (r.conn.DataDigest = n)),
  'node.conn[0].iscsi.IFMarker': yesNo((r, n) => (r.conn.IFMarker = n)),
  'node.conn[0].iscsi.OFMarker': yesNo((r, n) => (r.conn.OFMarker = n)),
};

/**
 * iscsid.conf's CHAP keys. iscsiadm copies them into every record it creates, so a login without `auth`
 * uses them, as `iscsiadm -m node -l` on a record made from that conf would; a login's `auth` replaces them
 * all. They are not login options (`options` never carries identity or secrets). Values are checked by the
 * one CHAP rule (checkAuth) once the whole file is applied; a refusal names the file and line, never a secret.
 */
const CONF_AUTH_KEYS: Record<string, (a: LoginRecord['session']['auth'], v: string, key: string) => void> = {
  'node.session.auth.authmethod': (a, v, key) => {
    if (v !== 'None' && v !== 'CHAP') throw new IscsiValidationError('INVALID_OPTION', `${key} must be None or CHAP`);
    a.authmethod = v === 'CHAP' ? 1 : 0;
  },
  'node.session.auth.username': (a, v) => (a.username = v),
  'node.session.auth.password': (a, v) => (a.password = v),
  'node.session.auth.username_in': (a, v) => (a.usernameIn = v),
  'node.session.auth.password_in': (a, v) => (a.passwordIn = v),
};

/** Applies iscsid.conf: every node.* key iscsiadm would apply; other keys (iscsid.*, discovery.*) are not for records. */
export function applyConf(r: LoginRecord, conf: Map<string, string> & { where?: (key: string) => string }): void {
  const where = (key: string) => conf.where?.(key) ?? key;
  for (const [key, value] of conf) {
    try {
      const auth = CONF_AUTH_KEYS[key];
      if (auth) auth(r.session.auth, value, key);
      else NODE_KEYS[key]?.(r, value, key);
    } catch (e) {
      // A bad value in a file names the file and the line.
      if (!(e instanceof IscsiValidationError) || !conf.where) throw e;
      throw new IscsiValidationError('CONFIG_INVALID_VALUE', `${conf.where(key)}: ${e.message}`, { cause: e, details: { key } });
    }
  }
  const a = r.session.auth;
  const set = (['username', 'password', 'usernameIn', 'passwordIn'] as const).filter((k) => a[k] !== '');
  if (a.authmethod === 0) {
    if (set.length === 0) return;
    const key = `node.session.auth.${set[0] === 'usernameIn' ? 'username_in' : set[0] === 'passwordIn' ? 'password_in' : set[0]}`;
    throw new IscsiValidationError('CONFIG_INVALID_VALUE', `${where(key)}: CHAP credentials are set but node.session.auth.authmethod is not CHAP`, {
      details: { key },
      hint: 'set node.session.auth.authmethod = CHAP to use them, or remove them',
    });
  }
  try {
    checkAuth(
      { username: a.username, password: a.password, ...(a.usernameIn !== '' || a.passwordIn !== '' ? { usernameIn: a.usernameIn || undefined, passwordIn: a.passwordIn || undefined } : {}) },
      Object.keys(CHAP_ALGORITHMS),
      'node.session.auth',
    );
  } catch (e) {
    if (!(e instanceof IscsiValidationError)) throw e;
    const key = /node\.session\.auth\.(\w+)/.exec(e.message)?.[1];
    const confKey = `node.session.auth.${key === 'usernameIn' ? 'username_in' : key === 'passwordIn' ? 'password_in' : key ?? 'authmethod'}`;
    throw new IscsiValidationError('CONFIG_INVALID_VALUE', `${where(confKey)}: ${e.message.replace(/node\.session\.auth\.(usernameIn|passwordIn)/g, (_m, k: string) => `node.session.auth.${k === 'usernameIn' ? 'username_in' : 'password_in'}`)}`, {
      cause: e,
      details: { key: confKey },
    });
  }
}

/** The caller's options, with iscsiadm's key names. Unknown keys are an error (nothing is sent). */
export function applyOptions(r: LoginRecord, options: Record<string, string | number | boolean>): void {
  for (const [key, raw] of Object.entries(options)) {
    const set = NODE_KEYS[key];
    if (!set) throw new IscsiValidationError('UNKNOWN_OPTION', `unknown login option ${JSON.stringify(key)}; use iscsiadm's node.* key names`);
    set(r, typeof raw === 'boolean' ? (raw ? 'Yes' : 'No') : String(raw), key);
  }
}

/** An iface's values for a login: its file's fields (files/iface-file.ts), and its name. */
export interface IfaceValues extends IfaceFields {
  name: string;
}

/** iscsiadm's iface_copy: only non-empty values overwrite. */
export function applyIface(r: LoginRecord, i: IfaceValues): void {
  r.iface.name = checkFits(i.name, 64, 'iface name');
  r.iface.transportName = checkFits(i.transport, 15, 'iface transport');
  const set = (v: string | undefined, max: number, what: string, put: (s: string) => void) => {
    if (v && v !== 'default') put(checkFits(v, max, what));
  };
  set(i.hwaddress, 17, 'iface hwaddress', (s) => (r.iface.hwaddress = s));
  set(i.ipaddress, 1024, 'iface ipaddress', (s) => (r.iface.ipaddress = s));
  set(i.netdev, 15, 'iface netdev', (s) => (r.iface.netdev = s));
  set(i.initiatorName, 255, 'iface initiator name', (s) => (r.iface.iname = s));
  if (i.ifaceNum) r.iface.ifaceNum = i.ifaceNum;
}

/**
 * Settings a family's request has no room for must hold the value that family behaves as if it had; anything
 * else is refused before the addon is asked (which would refuse it too, with a TypeError).
 */
export function checkRecordFitsFamily(r: LoginRecord, family: AbiFamily): void {
  const no = (what: string, key: string, allowed: string) =>
    new IscsiValidationError('OPTION_NOT_SUPPORTED', `${what} (${key}) is not supported by the running iscsid's open-iscsi ${family}; it must be ${allowed}`, { details: { family, key } });
  const before = (f: AbiFamily) => ABI_FAMILIES.indexOf(family) < ABI_FAMILIES.indexOf(f);
  if (before('2.0.875') && r.session.scan !== 1) throw no('manual LUN scanning', 'node.session.scan', 'auto');
  if (before('2.1.1') && (r.session.auth.chapAlgs.length !== 1 || r.session.auth.chapAlgs[0] !== CHAP_ALGORITHMS.MD5)) {
    throw no('CHAP algorithms other than MD5', 'node.session.auth.chap_algs', 'MD5');
  }
  if (before('2.0.876') && r.iface.prefixLen !== 0) throw no('an iface prefix length', 'iface.prefix_len', '0');
  if (before('2.1.11') && r.session.connReopenLogFreq > 1) {
    throw no('a reconnect log frequency', 'node.session.conn_reopen_log_freq', '1');
  }
  if (before('2.1.12') && r.conn.congestionControl !== '') throw no('a TCP congestion control', 'node.conn[0].tcp.congestion_control', 'unset');
  if (before('2.1.13') && r.session.loginRedirectMax !== 8) throw no('a login redirect limit', 'node.session.login_redirect_max', '8 (the default)');
  wireDiscType(r.discType, family);
}

/** The discovery types whose numbers changed in 2.1.12 (and in Debian's 2.1.11-1+deb13u2, still "2.1.11"). */
const RENUMBERED_DISCOVERY = { 3: 'SLP', 4: 'static', 5: 'firmware' } as Record<number, string>;

/**
 * The disc_type a family's request carries. Up to 2.1.10 the record's own number. From 2.1.11 on, builds that
 * share a version string number static and firmware differently, so neither is ever sent: a static record
 * (every login without discovery) goes as 0, sendtargets, which every build numbers alike; iscsid's login path
 * never reads the field (iscsiadm and the node files do, and they keep "static"). Firmware and SLP have no
 * such harmless stand-in and are refused.
 */
export function wireDiscType(discType: number, family: AbiFamily): number {
  if (!discoveryRenumbered(family) || discType < 3) return discType;
  if (discType === 4) return 0;
  throw new IscsiUnsupportedError('DISCOVERY_TYPE_RENUMBERED', `a ${RENUMBERED_DISCOVERY[discType] ?? String(discType)} discovery type cannot be sent to open-iscsi ${family}: its number differs between builds of the same version`, {
    hint: 'nothing was sent; log in to the portal without the firmware/SLP discovery record',
    details: { family, discType },
  });
}
