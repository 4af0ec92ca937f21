// open-iscsi 2.0.874: no session.scan, no CHAP algorithm list, iface_rec without prefix_len. Offsets measured
// against the 2.0.874 tag's headers; never verified against a running iscsid, so refused unless overridden.
#pragma once
#include "ipc/layout_common.h"

namespace openiscsi::ipc {

// iface_rec_t of 2.0.874 and 2.0.875: as IfaceRec without prefix_len, so everything from vlan_id on sits
// 2 bytes earlier (transport_name at 11186, not 11190) in a struct of the same size.
struct IfaceRec_2_0_874 {
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
  static constexpr bool kHasPrefixLen = false;
};

namespace layout_check::iface_2_0_874 {
using I = IfaceRec_2_0_874;
static_assert(sizeof(I) == 11720);
static_assert(offsetof(I, list) == 0 && offsetof(I, name) == 16 && offsetof(I, iface_num) == 84);
static_assert(offsetof(I, netdev) == 88 && offsetof(I, ipaddress) == 104 && offsetof(I, subnet_mask) == 1129);
static_assert(offsetof(I, gateway) == 2154 && offsetof(I, bootproto) == 3179 && offsetof(I, ipv6_linklocal) == 3259);
static_assert(offsetof(I, ipv6_router) == 4284 && offsetof(I, ipv6_autocfg) == 5309);
static_assert(offsetof(I, linklocal_autocfg) == 6334 && offsetof(I, router_autocfg) == 7359);
static_assert(offsetof(I, vlan_id) == 8384 && offsetof(I, vlan_priority) == 8386 && offsetof(I, vlan_state) == 8387);
static_assert(offsetof(I, state) == 8467 && offsetof(I, mtu) == 8548 && offsetof(I, port) == 8550);
static_assert(offsetof(I, delayed_ack) == 8552 && offsetof(I, nagle) == 8632 && offsetof(I, tcp_wsf_state) == 8712);
static_assert(offsetof(I, tcp_wsf) == 8792 && offsetof(I, tcp_timer_scale) == 8793);
static_assert(offsetof(I, tcp_timestamp) == 8794 && offsetof(I, dhcp_dns) == 8874);
static_assert(offsetof(I, dhcp_slp_da) == 8954 && offsetof(I, tos_state) == 9034 && offsetof(I, tos) == 9114);
static_assert(offsetof(I, gratuitous_arp) == 9115 && offsetof(I, dhcp_alt_client_id_state) == 9195);
static_assert(offsetof(I, dhcp_alt_client_id) == 9275 && offsetof(I, dhcp_req_vendor_id_state) == 9355);
static_assert(offsetof(I, dhcp_vendor_id_state) == 9435 && offsetof(I, dhcp_vendor_id) == 9515);
static_assert(offsetof(I, dhcp_learn_iqn) == 9595 && offsetof(I, fragmentation) == 9675);
static_assert(offsetof(I, incoming_forwarding) == 9755 && offsetof(I, ttl) == 9835);
static_assert(offsetof(I, gratuitous_neighbor_adv) == 9836 && offsetof(I, redirect) == 9916);
static_assert(offsetof(I, mld) == 9996 && offsetof(I, flow_label) == 10076 && offsetof(I, traffic_class) == 10080);
static_assert(offsetof(I, hop_limit) == 10084 && offsetof(I, nd_reachable_tmo) == 10088);
static_assert(offsetof(I, nd_rexmit_time) == 10092 && offsetof(I, nd_stale_tmo) == 10096);
static_assert(offsetof(I, dup_addr_detect_cnt) == 10100 && offsetof(I, router_adv_link_mtu) == 10104);
static_assert(offsetof(I, def_task_mgmt_tmo) == 10108 && offsetof(I, header_digest) == 10110);
static_assert(offsetof(I, data_digest) == 10190 && offsetof(I, immediate_data) == 10270);
static_assert(offsetof(I, initial_r2t) == 10350 && offsetof(I, data_seq_inorder) == 10430);
static_assert(offsetof(I, data_pdu_inorder) == 10510 && offsetof(I, erl) == 10590);
static_assert(offsetof(I, max_recv_dlength) == 10592 && offsetof(I, first_burst_len) == 10596);
static_assert(offsetof(I, max_out_r2t) == 10600 && offsetof(I, max_burst_len) == 10604);
static_assert(offsetof(I, chap_auth) == 10608 && offsetof(I, bidi_chap) == 10688);
static_assert(offsetof(I, strict_login_comp) == 10768 && offsetof(I, discovery_auth) == 10848);
static_assert(offsetof(I, discovery_logout) == 10928 && offsetof(I, port_state) == 11008);
static_assert(offsetof(I, port_speed) == 11088 && offsetof(I, hwaddress) == 11168);
static_assert(offsetof(I, transport_name) == 11186 && offsetof(I, alias) == 11202 && offsetof(I, iname) == 11458);
}  // namespace layout_check::iface_2_0_874

// session_rec_t of 2.0.874
struct SessionRec_2_0_874 {
  int initial_cmdsn;
  int reopen_max;
  int xmit_thread_priority;
  int cmds_max;
  int queue_depth;
  int initial_login_retry_max;
  int nr_sessions;
  AuthRec_2_0 auth;
  SessionTimeo timeo;
  ErrTimeo err_timeo;
  SessionIscsi iscsi;
  void* info;  // a pointer iscsid ignores; sent as zero
  unsigned sid;
  uint8_t multiple;
  char boot_root[kBootNameMax];
  char boot_nic[kBootNameMax];
  char boot_target[kBootNameMax];
  static constexpr bool kHasScan = false;
  static constexpr bool kHasChapAlgs = false;
  static constexpr bool kHasReopenLogFreq = false;
};

namespace layout_check::session_2_0_874 {
using S = SessionRec_2_0_874;
static_assert(sizeof(S) == 1920);
static_assert(offsetof(S, initial_cmdsn) == 0 && offsetof(S, reopen_max) == 4);
static_assert(offsetof(S, xmit_thread_priority) == 8 && offsetof(S, cmds_max) == 12);
static_assert(offsetof(S, queue_depth) == 16 && offsetof(S, initial_login_retry_max) == 20);
static_assert(offsetof(S, nr_sessions) == 24 && offsetof(S, auth) == 28 && offsetof(S, auth.authmethod) == 28);
static_assert(offsetof(S, auth.username) == 32 && offsetof(S, auth.password) == 288);
static_assert(offsetof(S, auth.password_length) == 544 && offsetof(S, auth.username_in) == 548);
static_assert(offsetof(S, auth.password_in) == 804 && offsetof(S, auth.password_in_length) == 1060);
static_assert(offsetof(S, timeo.replacement_timeout) == 1064 && offsetof(S, err_timeo.abort_timeout) == 1068);
static_assert(offsetof(S, err_timeo.host_reset_timeout) == 1072 && offsetof(S, err_timeo.lu_reset_timeout) == 1076);
static_assert(offsetof(S, err_timeo.tgt_reset_timeout) == 1080 && offsetof(S, iscsi.DataPDUInOrder) == 1084);
static_assert(offsetof(S, iscsi.DataSequenceInOrder) == 1088 && offsetof(S, iscsi.protocol) == 1092);
static_assert(offsetof(S, iscsi.InitialR2T) == 1096 && offsetof(S, iscsi.ImmediateData) == 1100);
static_assert(offsetof(S, iscsi.FirstBurstLength) == 1104 && offsetof(S, iscsi.MaxBurstLength) == 1108);
static_assert(offsetof(S, iscsi.DefaultTime2Wait) == 1112 && offsetof(S, iscsi.DefaultTime2Retain) == 1116);
static_assert(offsetof(S, iscsi.MaxConnections) == 1120 && offsetof(S, iscsi.MaxOutstandingR2T) == 1124);
static_assert(offsetof(S, iscsi.ERL) == 1128 && offsetof(S, iscsi.FastAbort) == 1132 && offsetof(S, info) == 1136);
static_assert(offsetof(S, sid) == 1144 && offsetof(S, multiple) == 1148 && offsetof(S, boot_root) == 1149);
static_assert(offsetof(S, boot_nic) == 1405 && offsetof(S, boot_target) == 1661);
}  // namespace layout_check::session_2_0_874

// 2.0.874 (request 16080 bytes)
struct Abi_2_0_874 {
  using Session = SessionRec_2_0_874;
  using Conn = ConnRec;
  using Iface = IfaceRec_2_0_874;
  static constexpr const char* kName = "2.0.874";
};

namespace layout_check::abi_2_0_874 {
using N = NodeRec<Abi_2_0_874>;
static_assert(sizeof(N) == 16064 && sizeof(Request<Abi_2_0_874>) == 16080 && offsetof(Request<Abi_2_0_874>, u.session.rec) == 16);
static_assert(sizeof(N::session) == 1920 && sizeof(N::conn[0]) == 1092 && sizeof(N::iface) == 11720);
static_assert(offsetof(N, list) == 0 && offsetof(N, name) == 16 && offsetof(N, tpgt) == 272);
static_assert(offsetof(N, startup) == 276 && offsetof(N, leading_login) == 280 && offsetof(N, session) == 288);
static_assert(offsetof(N, conn) == 2208 && offsetof(N, iface) == 3304 && offsetof(N, disc_type) == 15024);
static_assert(offsetof(N, disc_address) == 15028 && offsetof(N, disc_port) == 16056);
}  // namespace layout_check::abi_2_0_874

}  // namespace openiscsi::ipc
