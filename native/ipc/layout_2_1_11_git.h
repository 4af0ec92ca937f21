// open-iscsi from git after 2.1.11, from commit 82ebd51 on (checked up to bc23614): conn_rec.tcp gains
// congestion_control[16]. Such builds still call themselves 2.1.11 (the version string was not bumped), so
// lib/iscsid/version.ts tells them apart by the "tcp.congestion_control" key their iscsid embeds. Offsets measured
// against bc23614's headers; never verified against a running iscsid, so refused unless overridden.
#pragma once
#include "ipc/layout_common.h"
#include "ipc/layout_2_1_11.h"

namespace openiscsi::ipc {

// git after 2.1.11 (request 16128 bytes)
struct Abi_2_1_11_git {
  using Session = SessionRec_2_1_11;
  using Conn = ConnRecCongestion;
  using Iface = IfaceRec;
  static constexpr const char* kName = "2.1.11-git";
};

namespace layout_check::abi_2_1_11_git {
using N = NodeRec<Abi_2_1_11_git>;
static_assert(sizeof(N) == 16112 && sizeof(Request<Abi_2_1_11_git>) == 16128 && offsetof(Request<Abi_2_1_11_git>, u.session.rec) == 16);
static_assert(sizeof(N::session) == 1952 && sizeof(N::conn[0]) == 1108 && sizeof(N::iface) == 11720);
static_assert(offsetof(N, list) == 0 && offsetof(N, name) == 16 && offsetof(N, tpgt) == 272);
static_assert(offsetof(N, startup) == 276 && offsetof(N, leading_login) == 280 && offsetof(N, session) == 288);
static_assert(offsetof(N, conn) == 2240 && offsetof(N, iface) == 3352 && offsetof(N, disc_type) == 15072);
static_assert(offsetof(N, disc_address) == 15076 && offsetof(N, disc_port) == 16104);
}  // namespace layout_check::abi_2_1_11_git

}  // namespace openiscsi::ipc
