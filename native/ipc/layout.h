// Byte-exact mirrors of open-iscsi's node_rec_t and the iscsiadm request/response structs, one per ABI
// family (open-iscsi has no version field in its IPC: the size is the only contract). Natural alignment,
// no packing, exactly as iscsid is compiled; every size and offset from the measured tables is asserted.
// Only x86_64/aarch64 LP64 is supported: on other ABIs pointer sizes change the layout.
#pragma once
#include <cstddef>
#include <cstdint>

namespace openiscsi::ipc {

static_assert(sizeof(void*) == 8, "iscsid record layouts are only mirrored for LP64");

constexpr size_t kTargetNameMax = 255;  // TARGET_NAME_MAXLEN
constexpr size_t kHostMax = 1025;       // NI_MAXHOST
constexpr size_t kIfNameSize = 16;      // IFNAMSIZ
constexpr size_t kAuthStrMax = 256;     // AUTH_STR_MAX_LEN
constexpr size_t kChapAlgMax = 5;       // AUTH_CHAP_ALG_MAX_COUNT
constexpr size_t kIfaceNameMax = 65;    // ISCSI_MAX_IFACE_LEN
constexpr size_t kStrMax = 80;          // ISCSI_MAX_STR_LEN
constexpr size_t kTransportNameMax = 16;
constexpr size_t kHwAddressMax = 18;
constexpr size_t kBootNameMax = 256;

struct ListHead {
  void* next;
  void* prev;
};

struct AuthBase {
  uint32_t authmethod;
  char username[kAuthStrMax];
  char password[kAuthStrMax];
  uint32_t password_length;
  char username_in[kAuthStrMax];
  char password_in[kAuthStrMax];
  uint32_t password_in_length;
};

struct AuthWithAlgs {
  AuthBase base;
  uint32_t chap_algs[kChapAlgMax];
};

struct SessionTimeo {
  int replacement_timeout;
};

// Declaration order differs from the ini key order: abort, host_reset, lu_reset, tgt_reset.
struct ErrTimeo {
  int abort_timeout;
  int host_reset_timeout;
  int lu_reset_timeout;
  int tgt_reset_timeout;
};

struct SessionIscsi {
  int DataPDUInOrder, DataSequenceInOrder, protocol, InitialR2T, ImmediateData, FirstBurstLength,
      MaxBurstLength, DefaultTime2Wait, DefaultTime2Retain, MaxConnections, MaxOutstandingR2T, ERL, FastAbort;
};

struct SessionBoot {
  void* info;
  unsigned sid;
  uint8_t multiple;
  char boot_root[kBootNameMax];
  char boot_nic[kBootNameMax];
  char boot_target[kBootNameMax];
};

// session_rec_t, by family. The members differ only in `scan`, `chap_algs` and a trailing int.
struct SessionRec_2_0_874 {
  int initial_cmdsn, reopen_max, xmit_thread_priority, cmds_max, queue_depth, initial_login_retry_max, nr_sessions;
  AuthBase auth;
  SessionTimeo timeo;
  ErrTimeo err_timeo;
  SessionIscsi iscsi;
  SessionBoot boot;
};

struct SessionRec_2_0_875 {
  int initial_cmdsn, reopen_max, xmit_thread_priority, cmds_max, queue_depth, initial_login_retry_max, nr_sessions, scan;
  AuthBase auth;
  SessionTimeo timeo;
  ErrTimeo err_timeo;
  SessionIscsi iscsi;
  SessionBoot boot;
};

struct SessionRec_2_1_1 {
  int initial_cmdsn, reopen_max, xmit_thread_priority, cmds_max, queue_depth, initial_login_retry_max, nr_sessions, scan;
  AuthWithAlgs auth;
  SessionTimeo timeo;
  ErrTimeo err_timeo;
  SessionIscsi iscsi;
  SessionBoot boot;
};

struct SessionRec_2_1_11 {
  SessionRec_2_1_1 base;
  int conn_reopen_log_freq;
};

struct ConnRec {
  int startup;
  char address[kHostMax];
  int port;
  struct {
    int window_size, type_of_service;
  } tcp;
  struct {
    int login_timeout, logout_timeout, auth_timeout, active_timeout, noop_out_interval, noop_out_timeout;
  } timeo;
  struct {
    int MaxRecvDataSegmentLength, MaxXmitDataSegmentLength, HeaderDigest, DataDigest, IFMarker, OFMarker;
  } iscsi;
};

struct IfaceRec {
  ListHead list;
  char name[kIfaceNameMax];
  uint32_t iface_num;
  char netdev[kIfNameSize];
  char ipaddress[kHostMax];
  char subnet_mask[kHostMax];
  char gateway[kHostMax];
  char bootproto[kStrMax];
  char ipv6_linklocal[kHostMax];
  char ipv6_router[kHostMax];
  char ipv6_autocfg[kHostMax];
  char linklocal_autocfg[kHostMax];
  char router_autocfg[kHostMax];
  uint8_t prefix_len;
  uint16_t vlan_id;
  uint8_t vlan_priority;
  char vlan_state[kStrMax];
  char state[kStrMax];
  uint16_t mtu;
  uint16_t port;
  char delayed_ack[kStrMax];
  char nagle[kStrMax];
  char tcp_wsf_state[kStrMax];
  uint8_t tcp_wsf;
  uint8_t tcp_timer_scale;
  char tcp_timestamp[kStrMax];
  char dhcp_dns[kStrMax];
  char dhcp_slp_da[kStrMax];
  char tos_state[kStrMax];
  uint8_t tos;
  char gratuitous_arp[kStrMax];
  char dhcp_alt_client_id_state[kStrMax];
  char dhcp_alt_client_id[kStrMax];
  char dhcp_req_vendor_id_state[kStrMax];
  char dhcp_vendor_id_state[kStrMax];
  char dhcp_vendor_id[kStrMax];
  char dhcp_learn_iqn[kStrMax];
  char fragmentation[kStrMax];
  char incoming_forwarding[kStrMax];
  uint8_t ttl;
  char gratuitous_neighbor_adv[kStrMax];
  char redirect[kStrMax];
  char mld[kStrMax];
  uint32_t flow_label;
  uint32_t traffic_class;
  uint8_t hop_limit;
  uint32_t nd_reachable_tmo;
  uint32_t nd_rexmit_time;
  uint32_t nd_stale_tmo;
  uint8_t dup_addr_detect_cnt;
  uint32_t router_adv_link_mtu;
  uint16_t def_task_mgmt_tmo;
  char header_digest[kStrMax];
  char data_digest[kStrMax];
  char immediate_data[kStrMax];
  char initial_r2t[kStrMax];
  char data_seq_inorder[kStrMax];
  char data_pdu_inorder[kStrMax];
  uint8_t erl;
  uint32_t max_recv_dlength;
  uint32_t first_burst_len;
  uint16_t max_out_r2t;
  uint32_t max_burst_len;
  char chap_auth[kStrMax];
  char bidi_chap[kStrMax];
  char strict_login_comp[kStrMax];
  char discovery_auth[kStrMax];
  char discovery_logout[kStrMax];
  char port_state[kStrMax];
  char port_speed[kStrMax];
  char hwaddress[kHwAddressMax];
  char transport_name[kTransportNameMax];
  char alias[kTargetNameMax + 1];
  char iname[kTargetNameMax + 1];
};

template <typename Session>
struct NodeRec {
  ListHead list;
  char name[kTargetNameMax];
  int tpgt;
  int startup;
  int leading_login;
  Session session;
  ConnRec conn[1];
  IfaceRec iface;
  int disc_type;
  char disc_address[kHostMax];
  int disc_port;
};

template <typename Session>
struct Request {
  uint32_t command;
  uint32_t payload_len;
  union {
    struct {
      int sid;
      NodeRec<Session> rec;
    } session;
    struct {
      int sid;
      int cid;
    } conn;
  } u;
};

struct IscsiStats {
  uint64_t txdata_octets, rxdata_octets;
  uint32_t noptx_pdus, scsicmd_pdus, tmfcmd_pdus, login_pdus, text_pdus, dataout_pdus, logout_pdus, snack_pdus,
      noprx_pdus, scsirsp_pdus, tmfrsp_pdus, textrsp_pdus, datain_pdus, logoutrsp_pdus, r2t_pdus, async_pdus,
      rjt_pdus, digest_err, timeout_err, custom_length;
};

struct IscsiStatsCustom {
  char desc[64];
  uint64_t value;
};

constexpr size_t kMaxCustomStats = 32;
constexpr size_t kUeventSize = 56;  // struct iscsi_uevent, opaque here

struct Response {
  uint32_t command;
  int32_t err;
  union {
    struct {
      unsigned char ev[kUeventSize];
      IscsiStats stats;
      IscsiStatsCustom custom[kMaxCustomStats];
    } getstats;
    struct {
      char var[kTargetNameMax];
    } config;
    struct {
      int session_state;
      int conn_state;
    } session_state;
  } u;
};

// ---- the measured tables (openiscsi-internals.md §1.4, §2.2, §2.3) -------------------------------------
static_assert(sizeof(ConnRec) == 1092);
static_assert(offsetof(ConnRec, address) == 4 && offsetof(ConnRec, port) == 1032 && offsetof(ConnRec, tcp) == 1036);
static_assert(offsetof(ConnRec, timeo) == 1044 && offsetof(ConnRec, iscsi) == 1068);

static_assert(sizeof(IfaceRec) == 11720);
static_assert(offsetof(IfaceRec, name) == 16 && offsetof(IfaceRec, iface_num) == 84 && offsetof(IfaceRec, netdev) == 88);
static_assert(offsetof(IfaceRec, ipaddress) == 104 && offsetof(IfaceRec, subnet_mask) == 1129 && offsetof(IfaceRec, gateway) == 2154);
static_assert(offsetof(IfaceRec, bootproto) == 3179 && offsetof(IfaceRec, ipv6_linklocal) == 3259 && offsetof(IfaceRec, router_autocfg) == 7359);
static_assert(offsetof(IfaceRec, prefix_len) == 8384 && offsetof(IfaceRec, vlan_id) == 8386 && offsetof(IfaceRec, vlan_priority) == 8388);
static_assert(offsetof(IfaceRec, vlan_state) == 8389 && offsetof(IfaceRec, state) == 8469 && offsetof(IfaceRec, mtu) == 8550);
static_assert(offsetof(IfaceRec, port) == 8552 && offsetof(IfaceRec, delayed_ack) == 8554 && offsetof(IfaceRec, tcp_wsf) == 8794);
static_assert(offsetof(IfaceRec, tcp_timestamp) == 8796 && offsetof(IfaceRec, tos) == 9116 && offsetof(IfaceRec, ttl) == 9837);
static_assert(offsetof(IfaceRec, flow_label) == 10080 && offsetof(IfaceRec, hop_limit) == 10088 && offsetof(IfaceRec, nd_reachable_tmo) == 10092);
static_assert(offsetof(IfaceRec, dup_addr_detect_cnt) == 10104 && offsetof(IfaceRec, router_adv_link_mtu) == 10108);
static_assert(offsetof(IfaceRec, def_task_mgmt_tmo) == 10112 && offsetof(IfaceRec, header_digest) == 10114 && offsetof(IfaceRec, erl) == 10594);
static_assert(offsetof(IfaceRec, max_recv_dlength) == 10596 && offsetof(IfaceRec, max_out_r2t) == 10604 && offsetof(IfaceRec, max_burst_len) == 10608);
static_assert(offsetof(IfaceRec, chap_auth) == 10612 && offsetof(IfaceRec, port_state) == 11012 && offsetof(IfaceRec, port_speed) == 11092);
static_assert(offsetof(IfaceRec, hwaddress) == 11172 && offsetof(IfaceRec, transport_name) == 11190);
static_assert(offsetof(IfaceRec, alias) == 11206 && offsetof(IfaceRec, iname) == 11462);

static_assert(sizeof(AuthWithAlgs) == 1056 && offsetof(AuthBase, password_length) == 516 && offsetof(AuthWithAlgs, chap_algs) == 1036);

static_assert(sizeof(SessionRec_2_1_1) == 1944);
static_assert(offsetof(SessionRec_2_1_1, scan) == 28 && offsetof(SessionRec_2_1_1, auth) == 32 && offsetof(SessionRec_2_1_1, timeo) == 1088);
static_assert(offsetof(SessionRec_2_1_1, err_timeo) == 1092 && offsetof(SessionRec_2_1_1, iscsi) == 1108 && offsetof(SessionRec_2_1_1, boot) == 1160);
static_assert(offsetof(SessionBoot, sid) == 8 && offsetof(SessionBoot, multiple) == 12 && offsetof(SessionBoot, boot_root) == 13);

using NodeRec_2_0_874 = NodeRec<SessionRec_2_0_874>;
using NodeRec_2_0_875 = NodeRec<SessionRec_2_0_875>;
using NodeRec_2_1_1 = NodeRec<SessionRec_2_1_1>;
using NodeRec_2_1_11 = NodeRec<SessionRec_2_1_11>;

static_assert(sizeof(NodeRec_2_1_1) == 16088);
static_assert(offsetof(NodeRec_2_1_1, name) == 16 && offsetof(NodeRec_2_1_1, tpgt) == 272 && offsetof(NodeRec_2_1_1, startup) == 276);
static_assert(offsetof(NodeRec_2_1_1, leading_login) == 280 && offsetof(NodeRec_2_1_1, session) == 288 && offsetof(NodeRec_2_1_1, conn) == 2232);
static_assert(offsetof(NodeRec_2_1_1, iface) == 3328 && offsetof(NodeRec_2_1_1, disc_type) == 15048);
static_assert(offsetof(NodeRec_2_1_1, disc_address) == 15052 && offsetof(NodeRec_2_1_1, disc_port) == 16080);

// Other families: the sizes measured on their tags. Not verified against a running iscsid: refused at run
// time unless the caller overrides (see lib/version.ts).
static_assert(sizeof(SessionRec_2_0_874) == 1920 && sizeof(NodeRec_2_0_874) == 16064 && sizeof(Request<SessionRec_2_0_874>) == 16080);
static_assert(sizeof(SessionRec_2_0_875) == 1928 && sizeof(NodeRec_2_0_875) == 16072 && sizeof(Request<SessionRec_2_0_875>) == 16088);
static_assert(sizeof(Request<SessionRec_2_1_1>) == 16104 && offsetof(Request<SessionRec_2_1_1>, u.session.rec) == 16);
static_assert(sizeof(SessionRec_2_1_11) == 1952 && sizeof(NodeRec_2_1_11) == 16096 && sizeof(Request<SessionRec_2_1_11>) == 16112);

static_assert(sizeof(Response) == 2464 && offsetof(Response, u) == 8);
static_assert(offsetof(Response, u.getstats.stats) == 64 && offsetof(Response, u.getstats.custom) == 160);
static_assert(offsetof(IscsiStats, custom_length) == 92 && sizeof(IscsiStatsCustom) == 72);

}  // namespace openiscsi::ipc
