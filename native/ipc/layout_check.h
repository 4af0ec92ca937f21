// Every family's sizes and offsets, measured by compiling each release's own headers (offsetof; the tags
// for 2.0.874 .. 2.1.11, commit bc23614 for git after 2.1.11 = 2.1.12, Debian's 2.1.13 source) and checked
// again with test/tools/abi-crosscheck.py. The part templates below are instantiated for every family that
// shares that part; a family that gets one wrong does not compile. Included by layout.h only.
#pragma once
#include <cstddef>

namespace openiscsi::ipc::layout_check {

// iface_rec_t of 2.0.874 and 2.0.875 (no prefix_len)
template <typename I>
struct IfaceAt_2_0_874 {
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
  static constexpr bool ok = true;
};

// iface_rec_t from 2.0.876: prefix_len moves vlan_id..iname, the size stays 11720
template <typename I>
struct IfaceAt_2_0_876 {
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
  static constexpr bool ok = true;
};

// session_rec_t of 2.0.874
template <typename S>
struct SessionAt_2_0_874 {
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
  static constexpr bool ok = true;
};

// session_rec_t of 2.0.875 .. 2.1.0: scan
template <typename S>
struct SessionAt_2_0_875 {
  static_assert(sizeof(S) == 1928);
  static_assert(offsetof(S, initial_cmdsn) == 0 && offsetof(S, reopen_max) == 4);
  static_assert(offsetof(S, xmit_thread_priority) == 8 && offsetof(S, cmds_max) == 12);
  static_assert(offsetof(S, queue_depth) == 16 && offsetof(S, initial_login_retry_max) == 20);
  static_assert(offsetof(S, nr_sessions) == 24 && offsetof(S, scan) == 28 && offsetof(S, auth) == 32);
  static_assert(offsetof(S, auth.authmethod) == 32 && offsetof(S, auth.username) == 36);
  static_assert(offsetof(S, auth.password) == 292 && offsetof(S, auth.password_length) == 548);
  static_assert(offsetof(S, auth.username_in) == 552 && offsetof(S, auth.password_in) == 808);
  static_assert(offsetof(S, auth.password_in_length) == 1064 && offsetof(S, timeo.replacement_timeout) == 1068);
  static_assert(offsetof(S, err_timeo.abort_timeout) == 1072 && offsetof(S, err_timeo.host_reset_timeout) == 1076);
  static_assert(offsetof(S, err_timeo.lu_reset_timeout) == 1080 && offsetof(S, err_timeo.tgt_reset_timeout) == 1084);
  static_assert(offsetof(S, iscsi.DataPDUInOrder) == 1088 && offsetof(S, iscsi.DataSequenceInOrder) == 1092);
  static_assert(offsetof(S, iscsi.protocol) == 1096 && offsetof(S, iscsi.InitialR2T) == 1100);
  static_assert(offsetof(S, iscsi.ImmediateData) == 1104 && offsetof(S, iscsi.FirstBurstLength) == 1108);
  static_assert(offsetof(S, iscsi.MaxBurstLength) == 1112 && offsetof(S, iscsi.DefaultTime2Wait) == 1116);
  static_assert(offsetof(S, iscsi.DefaultTime2Retain) == 1120 && offsetof(S, iscsi.MaxConnections) == 1124);
  static_assert(offsetof(S, iscsi.MaxOutstandingR2T) == 1128 && offsetof(S, iscsi.ERL) == 1132);
  static_assert(offsetof(S, iscsi.FastAbort) == 1136 && offsetof(S, info) == 1144 && offsetof(S, sid) == 1152);
  static_assert(offsetof(S, multiple) == 1156 && offsetof(S, boot_root) == 1157 && offsetof(S, boot_nic) == 1413);
  static_assert(offsetof(S, boot_target) == 1669);
  static constexpr bool ok = true;
};

// session_rec_t of 2.1.1 .. 2.1.10: auth.chap_algs
template <typename S>
struct SessionAt_2_1_1 {
  static_assert(sizeof(S) == 1944);
  static_assert(offsetof(S, initial_cmdsn) == 0 && offsetof(S, reopen_max) == 4);
  static_assert(offsetof(S, xmit_thread_priority) == 8 && offsetof(S, cmds_max) == 12);
  static_assert(offsetof(S, queue_depth) == 16 && offsetof(S, initial_login_retry_max) == 20);
  static_assert(offsetof(S, nr_sessions) == 24 && offsetof(S, scan) == 28 && offsetof(S, auth) == 32);
  static_assert(offsetof(S, auth.authmethod) == 32 && offsetof(S, auth.username) == 36);
  static_assert(offsetof(S, auth.password) == 292 && offsetof(S, auth.password_length) == 548);
  static_assert(offsetof(S, auth.username_in) == 552 && offsetof(S, auth.password_in) == 808);
  static_assert(offsetof(S, auth.password_in_length) == 1064 && offsetof(S, auth.chap_algs) == 1068);
  static_assert(offsetof(S, timeo.replacement_timeout) == 1088 && offsetof(S, err_timeo.abort_timeout) == 1092);
  static_assert(offsetof(S, err_timeo.host_reset_timeout) == 1096 && offsetof(S, err_timeo.lu_reset_timeout) == 1100);
  static_assert(offsetof(S, err_timeo.tgt_reset_timeout) == 1104 && offsetof(S, iscsi.DataPDUInOrder) == 1108);
  static_assert(offsetof(S, iscsi.DataSequenceInOrder) == 1112 && offsetof(S, iscsi.protocol) == 1116);
  static_assert(offsetof(S, iscsi.InitialR2T) == 1120 && offsetof(S, iscsi.ImmediateData) == 1124);
  static_assert(offsetof(S, iscsi.FirstBurstLength) == 1128 && offsetof(S, iscsi.MaxBurstLength) == 1132);
  static_assert(offsetof(S, iscsi.DefaultTime2Wait) == 1136 && offsetof(S, iscsi.DefaultTime2Retain) == 1140);
  static_assert(offsetof(S, iscsi.MaxConnections) == 1144 && offsetof(S, iscsi.MaxOutstandingR2T) == 1148);
  static_assert(offsetof(S, iscsi.ERL) == 1152 && offsetof(S, iscsi.FastAbort) == 1156 && offsetof(S, info) == 1160);
  static_assert(offsetof(S, sid) == 1168 && offsetof(S, multiple) == 1172 && offsetof(S, boot_root) == 1173);
  static_assert(offsetof(S, boot_nic) == 1429 && offsetof(S, boot_target) == 1685);
  static constexpr bool ok = true;
};

// session_rec_t of 2.1.11 and 2.1.12: reopen_log_freq appended
template <typename S>
struct SessionAt_2_1_11 {
  static_assert(sizeof(S) == 1952);
  static_assert(offsetof(S, initial_cmdsn) == 0 && offsetof(S, reopen_max) == 4);
  static_assert(offsetof(S, xmit_thread_priority) == 8 && offsetof(S, cmds_max) == 12);
  static_assert(offsetof(S, queue_depth) == 16 && offsetof(S, initial_login_retry_max) == 20);
  static_assert(offsetof(S, nr_sessions) == 24 && offsetof(S, scan) == 28 && offsetof(S, auth) == 32);
  static_assert(offsetof(S, auth.authmethod) == 32 && offsetof(S, auth.username) == 36);
  static_assert(offsetof(S, auth.password) == 292 && offsetof(S, auth.password_length) == 548);
  static_assert(offsetof(S, auth.username_in) == 552 && offsetof(S, auth.password_in) == 808);
  static_assert(offsetof(S, auth.password_in_length) == 1064 && offsetof(S, auth.chap_algs) == 1068);
  static_assert(offsetof(S, timeo.replacement_timeout) == 1088 && offsetof(S, err_timeo.abort_timeout) == 1092);
  static_assert(offsetof(S, err_timeo.host_reset_timeout) == 1096 && offsetof(S, err_timeo.lu_reset_timeout) == 1100);
  static_assert(offsetof(S, err_timeo.tgt_reset_timeout) == 1104 && offsetof(S, iscsi.DataPDUInOrder) == 1108);
  static_assert(offsetof(S, iscsi.DataSequenceInOrder) == 1112 && offsetof(S, iscsi.protocol) == 1116);
  static_assert(offsetof(S, iscsi.InitialR2T) == 1120 && offsetof(S, iscsi.ImmediateData) == 1124);
  static_assert(offsetof(S, iscsi.FirstBurstLength) == 1128 && offsetof(S, iscsi.MaxBurstLength) == 1132);
  static_assert(offsetof(S, iscsi.DefaultTime2Wait) == 1136 && offsetof(S, iscsi.DefaultTime2Retain) == 1140);
  static_assert(offsetof(S, iscsi.MaxConnections) == 1144 && offsetof(S, iscsi.MaxOutstandingR2T) == 1148);
  static_assert(offsetof(S, iscsi.ERL) == 1152 && offsetof(S, iscsi.FastAbort) == 1156 && offsetof(S, info) == 1160);
  static_assert(offsetof(S, sid) == 1168 && offsetof(S, multiple) == 1172 && offsetof(S, boot_root) == 1173);
  static_assert(offsetof(S, boot_nic) == 1429 && offsetof(S, boot_target) == 1685);
  static_assert(offsetof(S, reopen_log_freq) == 1944);
  static constexpr bool ok = true;
};

// session_rec_t of 2.1.13: login_redirect_max after initial_login_retry_max
template <typename S>
struct SessionAt_2_1_13 {
  static_assert(sizeof(S) == 1960);
  static_assert(offsetof(S, initial_cmdsn) == 0 && offsetof(S, reopen_max) == 4);
  static_assert(offsetof(S, xmit_thread_priority) == 8 && offsetof(S, cmds_max) == 12);
  static_assert(offsetof(S, queue_depth) == 16 && offsetof(S, initial_login_retry_max) == 20);
  static_assert(offsetof(S, login_redirect_max) == 24 && offsetof(S, nr_sessions) == 28 && offsetof(S, scan) == 32);
  static_assert(offsetof(S, auth) == 36 && offsetof(S, auth.authmethod) == 36 && offsetof(S, auth.username) == 40);
  static_assert(offsetof(S, auth.password) == 296 && offsetof(S, auth.password_length) == 552);
  static_assert(offsetof(S, auth.username_in) == 556 && offsetof(S, auth.password_in) == 812);
  static_assert(offsetof(S, auth.password_in_length) == 1068 && offsetof(S, auth.chap_algs) == 1072);
  static_assert(offsetof(S, timeo.replacement_timeout) == 1092 && offsetof(S, err_timeo.abort_timeout) == 1096);
  static_assert(offsetof(S, err_timeo.host_reset_timeout) == 1100 && offsetof(S, err_timeo.lu_reset_timeout) == 1104);
  static_assert(offsetof(S, err_timeo.tgt_reset_timeout) == 1108 && offsetof(S, iscsi.DataPDUInOrder) == 1112);
  static_assert(offsetof(S, iscsi.DataSequenceInOrder) == 1116 && offsetof(S, iscsi.protocol) == 1120);
  static_assert(offsetof(S, iscsi.InitialR2T) == 1124 && offsetof(S, iscsi.ImmediateData) == 1128);
  static_assert(offsetof(S, iscsi.FirstBurstLength) == 1132 && offsetof(S, iscsi.MaxBurstLength) == 1136);
  static_assert(offsetof(S, iscsi.DefaultTime2Wait) == 1140 && offsetof(S, iscsi.DefaultTime2Retain) == 1144);
  static_assert(offsetof(S, iscsi.MaxConnections) == 1148 && offsetof(S, iscsi.MaxOutstandingR2T) == 1152);
  static_assert(offsetof(S, iscsi.ERL) == 1156 && offsetof(S, iscsi.FastAbort) == 1160);
  static_assert(offsetof(S, info) == 1168 && offsetof(S, sid) == 1176);  // info's alignment absorbs the new int
  static_assert(offsetof(S, multiple) == 1180 && offsetof(S, boot_root) == 1181 && offsetof(S, boot_nic) == 1437);
  static_assert(offsetof(S, boot_target) == 1693 && offsetof(S, reopen_log_freq) == 1952);
  static constexpr bool ok = true;
};

// node_rec_t and iscsiadm_req_t of one family: where its parts start, and the sizes.
template <typename A, size_t kNode, size_t kSession, size_t kConnSize, size_t kConn, size_t kIface>
struct NodeAt {
  using N = NodeRec<A>;
  static_assert(sizeof(N) == kNode && sizeof(Request<A>) == kNode + 16 && offsetof(Request<A>, u.session.rec) == 16);
  static_assert(sizeof(N::session) == kSession && sizeof(N::conn[0]) == kConnSize && sizeof(N::iface) == 11720);
  static_assert(offsetof(N, list) == 0 && offsetof(N, name) == 16 && offsetof(N, tpgt) == 272);
  static_assert(offsetof(N, startup) == 276 && offsetof(N, leading_login) == 280 && offsetof(N, session) == 288);
  static_assert(offsetof(N, conn) == kConn && offsetof(N, iface) == kIface && offsetof(N, disc_type) == kIface + 11720);
  static_assert(offsetof(N, disc_address) == kIface + 11724 && offsetof(N, disc_port) == kNode - 8);
  static constexpr bool ok = true;
};

// NodeAt<family, sizeof node_rec, sizeof session_rec, sizeof conn_rec, offset of conn, offset of iface>
static_assert(NodeAt<Abi_2_0_874, 16064, 1920, 1092, 2208, 3304>::ok);
static_assert(NodeAt<Abi_2_0_875, 16072, 1928, 1092, 2216, 3312>::ok);
static_assert(NodeAt<Abi_2_0_876, 16072, 1928, 1092, 2216, 3312>::ok);
static_assert(NodeAt<Abi_2_1_1, 16088, 1944, 1092, 2232, 3328>::ok);
static_assert(NodeAt<Abi_2_1_11, 16096, 1952, 1092, 2240, 3336>::ok);
static_assert(NodeAt<Abi_2_1_12, 16112, 1952, 1108, 2240, 3352>::ok);
static_assert(NodeAt<Abi_2_1_13, 16120, 1960, 1108, 2248, 3360>::ok);

static_assert(SessionAt_2_0_874<Abi_2_0_874::Session>::ok && IfaceAt_2_0_874<Abi_2_0_874::Iface>::ok);
static_assert(SessionAt_2_0_875<Abi_2_0_875::Session>::ok && IfaceAt_2_0_874<Abi_2_0_875::Iface>::ok);
static_assert(SessionAt_2_0_875<Abi_2_0_876::Session>::ok && IfaceAt_2_0_876<Abi_2_0_876::Iface>::ok);
static_assert(SessionAt_2_1_1<Abi_2_1_1::Session>::ok && IfaceAt_2_0_876<Abi_2_1_1::Iface>::ok);
static_assert(SessionAt_2_1_11<Abi_2_1_11::Session>::ok && IfaceAt_2_0_876<Abi_2_1_11::Iface>::ok);
static_assert(SessionAt_2_1_11<Abi_2_1_12::Session>::ok && IfaceAt_2_0_876<Abi_2_1_12::Iface>::ok);
static_assert(SessionAt_2_1_13<Abi_2_1_13::Session>::ok && IfaceAt_2_0_876<Abi_2_1_13::Iface>::ok);
static_assert(!Abi_2_1_11::Conn::kHasCongestion && Abi_2_1_12::Conn::kHasCongestion && Abi_2_1_13::Conn::kHasCongestion);

}  // namespace openiscsi::ipc::layout_check
