// open-iscsi 2.0.875: session.scan added; iface_rec still without prefix_len. Offsets measured against the
// 2.0.875 tag's headers; never verified against a running iscsid, so refused unless overridden.
#pragma once
#include "ipc/layout_common.h"
#include "ipc/layout_2_0_874.h"

namespace openiscsi::ipc {

// session_rec_t of 2.0.875 to 2.1.0
struct SessionRec_2_0_875 {
  int initial_cmdsn;
  int reopen_max;
  int xmit_thread_priority;
  int cmds_max;
  int queue_depth;
  int initial_login_retry_max;
  int nr_sessions;
  int scan;
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
  static constexpr bool kHasScan = true;
  static constexpr bool kHasChapAlgs = false;
  static constexpr bool kHasReopenLogFreq = false;
};

namespace layout_check::session_2_0_875 {
using S = SessionRec_2_0_875;
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
}  // namespace layout_check::session_2_0_875

// 2.0.875 exactly (request 16088 bytes)
struct Abi_2_0_875 {
  using Session = SessionRec_2_0_875;
  using Conn = ConnRec;
  using Iface = IfaceRec_2_0_874;
  static constexpr const char* kName = "2.0.875";
};

namespace layout_check::abi_2_0_875 {
using N = NodeRec<Abi_2_0_875>;
static_assert(sizeof(N) == 16072 && sizeof(Request<Abi_2_0_875>) == 16088 && offsetof(Request<Abi_2_0_875>, u.session.rec) == 16);
static_assert(sizeof(N::session) == 1928 && sizeof(N::conn[0]) == 1092 && sizeof(N::iface) == 11720);
static_assert(offsetof(N, list) == 0 && offsetof(N, name) == 16 && offsetof(N, tpgt) == 272);
static_assert(offsetof(N, startup) == 276 && offsetof(N, leading_login) == 280 && offsetof(N, session) == 288);
static_assert(offsetof(N, conn) == 2216 && offsetof(N, iface) == 3312 && offsetof(N, disc_type) == 15032);
static_assert(offsetof(N, disc_address) == 15036 && offsetof(N, disc_port) == 16064);
}  // namespace layout_check::abi_2_0_875

}  // namespace openiscsi::ipc
