// open-iscsi 2.1.1 to 2.1.10 (identical at every tag): auth.chap_algs[5] added. The one family verified against
// a real iscsid: 2.1.8's captured LOGIN requests are reproduced byte for byte (test/native/record-golden.test.ts)
// and the lab logs in with it. Its JS name is "2.1.1", the first release of the family.
#pragma once
#include "ipc/layout_common.h"

namespace openiscsi::ipc {

// session_rec_t of 2.1.1 to 2.1.10
struct SessionRec_2_1_1 {
  int initial_cmdsn;
  int reopen_max;
  int xmit_thread_priority;
  int cmds_max;
  int queue_depth;
  int initial_login_retry_max;
  int nr_sessions;
  int scan;
  AuthRec_2_1 auth;
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
  static constexpr bool kHasChapAlgs = true;
  static constexpr bool kHasReopenLogFreq = false;
};

namespace layout_check::session_2_1_8 {
using S = SessionRec_2_1_1;
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
}  // namespace layout_check::session_2_1_8

// 2.1.1 to 2.1.10 (request 16104 bytes)
struct Abi_2_1_8 {
  using Session = SessionRec_2_1_1;
  using Conn = ConnRec;
  using Iface = IfaceRec;
  static constexpr const char* kName = "2.1.1";
};

namespace layout_check::abi_2_1_8 {
using N = NodeRec<Abi_2_1_8>;
static_assert(sizeof(N) == 16088 && sizeof(Request<Abi_2_1_8>) == 16104 && offsetof(Request<Abi_2_1_8>, u.session.rec) == 16);
static_assert(sizeof(N::session) == 1944 && sizeof(N::conn[0]) == 1092 && sizeof(N::iface) == 11720);
static_assert(offsetof(N, list) == 0 && offsetof(N, name) == 16 && offsetof(N, tpgt) == 272);
static_assert(offsetof(N, startup) == 276 && offsetof(N, leading_login) == 280 && offsetof(N, session) == 288);
static_assert(offsetof(N, conn) == 2232 && offsetof(N, iface) == 3328 && offsetof(N, disc_type) == 15048);
static_assert(offsetof(N, disc_address) == 15052 && offsetof(N, disc_port) == 16080);
}  // namespace layout_check::abi_2_1_8

}  // namespace openiscsi::ipc
