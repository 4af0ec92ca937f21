// Building blocks shared by every open-iscsi ABI family: the parts no release changed, and the node_rec /
// iscsiadm_req templates that layout_fields.inc's per-family parts are assembled into. Natural alignment, no
// packing, exactly as iscsid is compiled. Every offset was measured (offsetof, compiled against each release
// tag's own headers) and is asserted here or in layout_check.h; the 2.1.8 values are also the ones in
// openiscsi-internals.md §2.2. Only LP64 (x86_64, aarch64) is mirrored: pointer sizes change the layout.
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
constexpr size_t kCongestionMax = 16;   // tcp.congestion_control, from 2.1.12 (git after 2.1.11)

struct ListHead {
  void* next;
  void* prev;
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
using ConnRecCongestion = ConnRecT<ConnTcpCongestion>;  // 2.1.12 on (git after 2.1.11, commit 82ebd51)

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

// iscsiadm_rsp_t: 2464 bytes and the same offsets in every release from 2.0.874 to 2.1.13.
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

// conn_rec_t from 2.1.12 (1108 bytes): tcp.congestion_control[16] moves timeo and iscsi by 16
namespace congestion {
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
}  // namespace congestion

static_assert(sizeof(Response) == 2464 && offsetof(Response, u) == 8 && offsetof(Response, u.config.var) == 8);
static_assert(offsetof(Response, u.session_state.session_state) == 8 && offsetof(Response, u.session_state.conn_state) == 12);
static_assert(offsetof(Response, u.getstats.stats) == 64 && offsetof(Response, u.getstats.custom) == 160);
static_assert(sizeof(IscsiStats) == 96 && offsetof(IscsiStats, custom_length) == 92 && sizeof(IscsiStatsCustom) == 72);

}  // namespace layout_check

}  // namespace openiscsi::ipc
