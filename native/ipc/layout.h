// Byte-exact mirrors of open-iscsi's node_rec_t and the iscsiadm request/response structs, one ABI family
// per layout (open-iscsi's IPC has no version field: the size and the offsets are the only contract).
//
//   family (JS name)  releases                                  request  differs from the previous by
//   "2.0.874"         2.0.874                                   16080    (oldest mirrored)
//   "2.0.875"         2.0.875                                   16088    session.scan
//   "2.0.876"         2.0.876 .. 2.1.0                          16088    iface.prefix_len (same size, iface moves)
//   "2.1.1"           2.1.1 .. 2.1.10                           16104    auth.chap_algs[5]
//   "2.1.11"          2.1.11 (both Debian numberings)           16112    session.conn_reopen_log_freq at the end
//   "2.1.12"          git after 2.1.11 (82ebd51 on), 2.1.12     16128    conn.tcp.congestion_control[16]
//   "2.1.13"          2.1.13                                    16136    session.login_redirect_max, mid-struct
//
// The fields live in one list, layout_fields.inc, each guarded by the release that brought it; this file
// instantiates that list once per family, and layout_check.h asserts every family's sizes and offsets.
// Adding a family: its guards in layout_fields.inc, one block below, one X(...) line, its asserts.
// The response (2464 bytes) is the same in all of them (layout_common.h).
#pragma once
#include "ipc/layout_common.h"

#define OPENISCSI_LAYOUT 20874
#define OPENISCSI_ABI Abi_2_0_874
#define OPENISCSI_NAME "2.0.874"
#include "ipc/layout_fields.inc"

#define OPENISCSI_LAYOUT 20875
#define OPENISCSI_ABI Abi_2_0_875
#define OPENISCSI_NAME "2.0.875"
#include "ipc/layout_fields.inc"

#define OPENISCSI_LAYOUT 20876
#define OPENISCSI_ABI Abi_2_0_876
#define OPENISCSI_NAME "2.0.876"
#include "ipc/layout_fields.inc"

#define OPENISCSI_LAYOUT 21001
#define OPENISCSI_ABI Abi_2_1_1
#define OPENISCSI_NAME "2.1.1"
#include "ipc/layout_fields.inc"

#define OPENISCSI_LAYOUT 21011
#define OPENISCSI_ABI Abi_2_1_11
#define OPENISCSI_NAME "2.1.11"
#include "ipc/layout_fields.inc"

#define OPENISCSI_LAYOUT 21012
#define OPENISCSI_ABI Abi_2_1_12
#define OPENISCSI_NAME "2.1.12"
#include "ipc/layout_fields.inc"

#define OPENISCSI_LAYOUT 21013
#define OPENISCSI_ABI Abi_2_1_13
#define OPENISCSI_NAME "2.1.13"
#include "ipc/layout_fields.inc"

// Every family, oldest first: X(enum constant, Abi struct). record.h's Family enum, the JS names and the
// request builder's dispatch all come from this list.
#define OPENISCSI_FAMILIES(X) \
  X(k2_0_874, Abi_2_0_874)    \
  X(k2_0_875, Abi_2_0_875)    \
  X(k2_0_876, Abi_2_0_876)    \
  X(k2_1_1, Abi_2_1_1)        \
  X(k2_1_11, Abi_2_1_11)      \
  X(k2_1_12, Abi_2_1_12)      \
  X(k2_1_13, Abi_2_1_13)

#include "ipc/layout_check.h"
