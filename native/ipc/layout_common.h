// Building blocks shared by every open-iscsi ABI family (the per-family headers assemble them into node_rec
// and iscsiadm_req mirrors). Natural alignment, no packing, exactly as iscsid is compiled. Every offset below
// was measured (offsetof, compiled against each release tag's own headers) and is asserted; the 2.1.8 values
// are also the ones in openiscsi-internals.md §2.2. Only LP64 (x86_64, aarch64) is mirrored: pointer sizes
// change the layout elsewhere.
#pragma once
#include <cstddef>
#include <cstdint>

namespace openiscsi::ipc {

static_assert(sizeof(void*) == 8, "iscsid record layouts are only mirrored for LP64");

constexpr size_t kTargetNameMax = 255;  // TARGET_NAME_MAXLEN (node_rec.name has no room for a 256th byte)
constexpr size_t kHostMax = 1025;       // NI_MAXHOST
constexpr size_t kIfNameSize = 16;      // IFNAMSIZ
constexpr size_t kAuthStrMax = 256;     // AUTH_STR_MAX_LEN
constexpr size_t kChapAlgMax = 5;       // AUTH_CHAP_ALG_MAX_COUNT
constexpr size_t kIfaceNameMax = 65;    // ISCSI_MAX_IFACE_LEN
constexpr size_t kStrMax = 80;          // ISCSI_MAX_STR_LEN
constexpr size_t kTransportNameMax = 16;
constexpr size_t kHwAddressMax = 18;
constexpr size_t kBootNameMax = 256;
constexpr size_t kCongestionMax = 16;   // tcp.congestion_control, git builds after 2.1.11 only

struct ListHead {
  void* next;
  void* prev;
};

// iscsi_auth_config before 2.1.1 (MD5 only).
struct AuthRec_2_0 {
  uint32_t authmethod;
  char username[kAuthStrMax];
  char password[kAuthStrMax];
  uint32_t password_length;
  char username_in[kAuthStrMax];
  char password_in[kAuthStrMax];
  uint32_t password_in_length;
};

// iscsi_auth_config from 2.1.1: the CHAP algorithms to offer, unused slots 0xFFFFFFFF.
struct AuthRec_2_1 {
  uint32_t authmethod;
  char username[kAuthStrMax];
  char password[kAuthStrMax];
  uint32_t password_length;
  char username_in[kAuthStrMax];
  char password_in[kAuthStrMax];
  uint32_t password_in_length;
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
  int DataPDUInOrder;
  int DataSequenceInOrder;
  int protocol;
  int InitialR2T;
  int ImmediateData;
  int FirstBurstLength;
  int MaxBurstLength;
  int DefaultTime2Wait;
  int DefaultTime2Retain;
  int MaxConnections;
  int MaxOutstandingR2T;
  int ERL;
  int FastAbort;
};

struct ConnTimeo {
  int login_timeout;
  int logout_timeout;
  int auth_timeout;
  int active_timeout;
  int noop_out_interval;
  int noop_out_timeout;
};

struct ConnIscsi {
  int MaxRecvDataSegmentLength;
  int MaxXmitDataSegmentLength;
  int HeaderDigest;
  int DataDigest;
  int IFMarker;
  int OFMarker;
};

struct ConnTcp {
  int window_size;
  int type_of_service;
};

struct ConnTcpCongestion {
  int window_size;
  int type_of_service;
  char congestion_control[kCongestionMax];
};

// conn_rec_t. kHasCongestion tells the record builder whether tcp.congestion_control exists.
template <typename Tcp>
struct ConnRecT {
  int startup;
  char address[kHostMax];
  int port;
  Tcp tcp;
  ConnTimeo timeo;
  ConnIscsi iscsi;
  static constexpr bool kHasCongestion = sizeof(Tcp) > sizeof(ConnTcp);
};

using ConnRec = ConnRecT<ConnTcp>;                      // every release up to 2.1.11
using ConnRecCongestion = ConnRecT<ConnTcpCongestion>;  // git after 2.1.11 (commit 82ebd51)

// iface_rec_t from 2.0.876 on (prefix_len was added after router_autocfg; the size stayed 11720).
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
  static constexpr bool kHasPrefixLen = true;
};

// node_rec_t, assembled from one family's parts. startup, leading_login and disc_* are ignored by iscsid.
template <typename Abi>
struct NodeRec {
  ListHead list;
  char name[kTargetNameMax];
  int tpgt;
  int startup;
  int leading_login;
  typename Abi::Session session;
  typename Abi::Conn conn[1];
  typename Abi::Iface iface;
  int disc_type;
  char disc_address[kHostMax];
  int disc_port;
};

// iscsiadm_req_t (the send-targets and set-host-param members of the union are never built here).
template <typename Abi>
struct Request {
  uint32_t command;
  uint32_t payload_len;
  union {
    struct {
      int sid;
      NodeRec<Abi> rec;
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

// iscsiadm_rsp_t: 2464 bytes and the same offsets in every release from 2.0.874 to git after 2.1.11.
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

// ---- asserted offsets ---------------------------------------------------------------------------------------
namespace layout_check {

static_assert(sizeof(AuthRec_2_0) == 1036 && sizeof(AuthRec_2_1) == 1056 && offsetof(AuthRec_2_1, chap_algs) == 1036);
static_assert(offsetof(AuthRec_2_1, password_length) == 516 && offsetof(AuthRec_2_1, password_in_length) == 1032);
static_assert(sizeof(ErrTimeo) == 16 && sizeof(SessionIscsi) == 52 && sizeof(ConnTimeo) == 24 && sizeof(ConnIscsi) == 24);

// conn_rec_t, every release up to 2.1.11 (1092 bytes)
using C = ConnRec;
static_assert(sizeof(C) == 1092 && !C::kHasCongestion);
static_assert(offsetof(C, startup) == 0 && offsetof(C, address) == 4 && offsetof(C, port) == 1032);
static_assert(offsetof(C, tcp.window_size) == 1036 && offsetof(C, tcp.type_of_service) == 1040);
static_assert(offsetof(C, timeo.login_timeout) == 1044 && offsetof(C, timeo.logout_timeout) == 1048);
static_assert(offsetof(C, timeo.auth_timeout) == 1052 && offsetof(C, timeo.active_timeout) == 1056);
static_assert(offsetof(C, timeo.noop_out_interval) == 1060 && offsetof(C, timeo.noop_out_timeout) == 1064);
static_assert(offsetof(C, iscsi.MaxRecvDataSegmentLength) == 1068);
static_assert(offsetof(C, iscsi.MaxXmitDataSegmentLength) == 1072 && offsetof(C, iscsi.HeaderDigest) == 1076);
static_assert(offsetof(C, iscsi.DataDigest) == 1080 && offsetof(C, iscsi.IFMarker) == 1084);
static_assert(offsetof(C, iscsi.OFMarker) == 1088);

// conn_rec_t, git after 2.1.11 (1108 bytes): tcp.congestion_control[16] moves timeo and iscsi by 16
namespace git {
using C = ConnRecCongestion;
static_assert(sizeof(C) == 1108 && C::kHasCongestion);
static_assert(offsetof(C, startup) == 0 && offsetof(C, address) == 4 && offsetof(C, port) == 1032);
static_assert(offsetof(C, tcp.window_size) == 1036 && offsetof(C, tcp.type_of_service) == 1040);
static_assert(offsetof(C, tcp.congestion_control) == 1044 && offsetof(C, timeo.login_timeout) == 1060);
static_assert(offsetof(C, timeo.logout_timeout) == 1064 && offsetof(C, timeo.auth_timeout) == 1068);
static_assert(offsetof(C, timeo.active_timeout) == 1072 && offsetof(C, timeo.noop_out_interval) == 1076);
static_assert(offsetof(C, timeo.noop_out_timeout) == 1080 && offsetof(C, iscsi.MaxRecvDataSegmentLength) == 1084);
static_assert(offsetof(C, iscsi.MaxXmitDataSegmentLength) == 1088 && offsetof(C, iscsi.HeaderDigest) == 1092);
static_assert(offsetof(C, iscsi.DataDigest) == 1096 && offsetof(C, iscsi.IFMarker) == 1100);
static_assert(offsetof(C, iscsi.OFMarker) == 1104);
}  // namespace git

// iface_rec_t from 2.0.876 (11720 bytes)
using I = IfaceRec;
static_assert(sizeof(I) == 11720);
static_assert(offsetof(I, list) == 0 && offsetof(I, name) == 16 && offsetof(I, iface_num) == 84);
static_assert(offsetof(I, netdev) == 88 && offsetof(I, ipaddress) == 104 && offsetof(I, subnet_mask) == 1129);
static_assert(offsetof(I, gateway) == 2154 && offsetof(I, bootproto) == 3179 && offsetof(I, ipv6_linklocal) == 3259);
static_assert(offsetof(I, ipv6_router) == 4284 && offsetof(I, ipv6_autocfg) == 5309);
static_assert(offsetof(I, linklocal_autocfg) == 6334 && offsetof(I, router_autocfg) == 7359);
static_assert(offsetof(I, prefix_len) == 8384 && offsetof(I, vlan_id) == 8386 && offsetof(I, vlan_priority) == 8388);
static_assert(offsetof(I, vlan_state) == 8389 && offsetof(I, state) == 8469 && offsetof(I, mtu) == 8550);
static_assert(offsetof(I, port) == 8552 && offsetof(I, delayed_ack) == 8554 && offsetof(I, nagle) == 8634);
static_assert(offsetof(I, tcp_wsf_state) == 8714 && offsetof(I, tcp_wsf) == 8794);
static_assert(offsetof(I, tcp_timer_scale) == 8795 && offsetof(I, tcp_timestamp) == 8796);
static_assert(offsetof(I, dhcp_dns) == 8876 && offsetof(I, dhcp_slp_da) == 8956 && offsetof(I, tos_state) == 9036);
static_assert(offsetof(I, tos) == 9116 && offsetof(I, gratuitous_arp) == 9117);
static_assert(offsetof(I, dhcp_alt_client_id_state) == 9197 && offsetof(I, dhcp_alt_client_id) == 9277);
static_assert(offsetof(I, dhcp_req_vendor_id_state) == 9357 && offsetof(I, dhcp_vendor_id_state) == 9437);
static_assert(offsetof(I, dhcp_vendor_id) == 9517 && offsetof(I, dhcp_learn_iqn) == 9597);
static_assert(offsetof(I, fragmentation) == 9677 && offsetof(I, incoming_forwarding) == 9757);
static_assert(offsetof(I, ttl) == 9837 && offsetof(I, gratuitous_neighbor_adv) == 9838);
static_assert(offsetof(I, redirect) == 9918 && offsetof(I, mld) == 9998 && offsetof(I, flow_label) == 10080);
static_assert(offsetof(I, traffic_class) == 10084 && offsetof(I, hop_limit) == 10088);
static_assert(offsetof(I, nd_reachable_tmo) == 10092 && offsetof(I, nd_rexmit_time) == 10096);
static_assert(offsetof(I, nd_stale_tmo) == 10100 && offsetof(I, dup_addr_detect_cnt) == 10104);
static_assert(offsetof(I, router_adv_link_mtu) == 10108 && offsetof(I, def_task_mgmt_tmo) == 10112);
static_assert(offsetof(I, header_digest) == 10114 && offsetof(I, data_digest) == 10194);
static_assert(offsetof(I, immediate_data) == 10274 && offsetof(I, initial_r2t) == 10354);
static_assert(offsetof(I, data_seq_inorder) == 10434 && offsetof(I, data_pdu_inorder) == 10514);
static_assert(offsetof(I, erl) == 10594 && offsetof(I, max_recv_dlength) == 10596);
static_assert(offsetof(I, first_burst_len) == 10600 && offsetof(I, max_out_r2t) == 10604);
static_assert(offsetof(I, max_burst_len) == 10608 && offsetof(I, chap_auth) == 10612);
static_assert(offsetof(I, bidi_chap) == 10692 && offsetof(I, strict_login_comp) == 10772);
static_assert(offsetof(I, discovery_auth) == 10852 && offsetof(I, discovery_logout) == 10932);
static_assert(offsetof(I, port_state) == 11012 && offsetof(I, port_speed) == 11092);
static_assert(offsetof(I, hwaddress) == 11172 && offsetof(I, transport_name) == 11190 && offsetof(I, alias) == 11206);
static_assert(offsetof(I, iname) == 11462);

static_assert(sizeof(Response) == 2464 && offsetof(Response, u) == 8 && offsetof(Response, u.config.var) == 8);
static_assert(offsetof(Response, u.session_state.session_state) == 8 && offsetof(Response, u.session_state.conn_state) == 12);
static_assert(offsetof(Response, u.getstats.stats) == 64 && offsetof(Response, u.getstats.custom) == 160);
static_assert(sizeof(IscsiStats) == 96 && offsetof(IscsiStats, custom_length) == 92 && sizeof(IscsiStatsCustom) == 72);

}  // namespace layout_check

}  // namespace openiscsi::ipc
