// open-iscsi 2.0.876 to 2.1.0: as 2.0.875 but iface_rec has prefix_len, which moves everything after it (the
// request size stays 16088, so the size alone cannot tell 2.0.875 from 2.0.876). Offsets measured against the
// 2.0.876, 2.0.877, 2.0.878 and 2.1.0 tags (identical); never verified against a running iscsid.
#pragma once
#include "ipc/layout_common.h"
#include "ipc/layout_2_0_875.h"

namespace openiscsi::ipc {

// 2.0.876 to 2.1.0 (request 16088 bytes)
struct Abi_2_0_876 {
  using Session = SessionRec_2_0_875;
  using Conn = ConnRec;
  using Iface = IfaceRec;
  static constexpr const char* kName = "2.0.876";
};

namespace layout_check::abi_2_0_876 {
using N = NodeRec<Abi_2_0_876>;
static_assert(sizeof(N) == 16072 && sizeof(Request<Abi_2_0_876>) == 16088 && offsetof(Request<Abi_2_0_876>, u.session.rec) == 16);
static_assert(sizeof(N::session) == 1928 && sizeof(N::conn[0]) == 1092 && sizeof(N::iface) == 11720);
static_assert(offsetof(N, list) == 0 && offsetof(N, name) == 16 && offsetof(N, tpgt) == 272);
static_assert(offsetof(N, startup) == 276 && offsetof(N, leading_login) == 280 && offsetof(N, session) == 288);
static_assert(offsetof(N, conn) == 2216 && offsetof(N, iface) == 3312 && offsetof(N, disc_type) == 15032);
static_assert(offsetof(N, disc_address) == 15036 && offsetof(N, disc_port) == 16064);
}  // namespace layout_check::abi_2_0_876

}  // namespace openiscsi::ipc
