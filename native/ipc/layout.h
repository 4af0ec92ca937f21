// Byte-exact mirrors of open-iscsi's node_rec_t and the iscsiadm request/response structs, one header per ABI
// family (open-iscsi's IPC has no version field: the size and the offsets are the only contract).
//
//   family (JS name)  releases                         request  header
//   "2.0.874"         2.0.874                          16080    layout_2_0_874.h
//   "2.0.875"         2.0.875                          16088    layout_2_0_875.h
//   "2.0.876"         2.0.876 .. 2.1.0                 16088    layout_2_0_876.h  (iface offsets differ from 2.0.875)
//   "2.1.1"           2.1.1 .. 2.1.10 (2.1.8 verified) 16104    layout_2_1_8.h
//   "2.1.11"          2.1.11                           16112    layout_2_1_11.h
//   "2.1.11-git"      git after 2.1.11 (82ebd51 on)    16128    layout_2_1_11_git.h
//
// Only "2.1.1" has been checked against a running iscsid; lib/iscsid/version.ts refuses the others unless the caller
// overrides the detection. The response (2464 bytes) is the same in all of them (layout_common.h).
#pragma once
#include "ipc/layout_2_0_874.h"
#include "ipc/layout_2_0_875.h"
#include "ipc/layout_2_0_876.h"
#include "ipc/layout_2_1_11.h"
#include "ipc/layout_2_1_11_git.h"
#include "ipc/layout_2_1_8.h"
#include "ipc/layout_common.h"
