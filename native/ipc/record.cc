#include "ipc/record.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "errors.h"
#include "ipc/layout.h"

namespace openiscsi::ipc {

namespace {

// Reads typed fields from a JS object, naming the full path of any bad field in its TypeError.
class Fields {
 public:
  Fields(Napi::Env env, const Napi::Value& v, std::string path) : env_(env), path_(std::move(path)) {
    if (!v.IsObject() || v.IsArray()) ThrowTypeError(env_, path_ + " must be an object");
    obj_ = v.As<Napi::Object>();
  }

  Fields Sub(const char* key) const { return Fields(env_, Get(key), path_ + "." + key); }

  int64_t Int(const char* key, int64_t min, int64_t max) const {
    Napi::Value v = Get(key);
    if (!v.IsNumber()) ThrowTypeError(env_, Name(key) + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max)) {
      ThrowTypeError(env_, Name(key) + " must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return static_cast<int64_t>(d);
  }

  template <size_t N>
  void Str(const char* key, char (&dst)[N]) const {
    Napi::Value v = Get(key);
    if (!v.IsString()) ThrowTypeError(env_, Name(key) + " must be a string");
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) ThrowTypeError(env_, Name(key) + " must not contain NUL");
    // Secrets are never echoed: the message names the field and the limit only.
    if (s.size() + 1 > N) ThrowTypeError(env_, Name(key) + " is " + std::to_string(s.size()) + " bytes; at most " + std::to_string(N - 1) + " fit");
    std::memcpy(dst, s.data(), s.size());
  }

  template <typename T>
  void Set(const char* key, T& dst) const {
    static_assert(std::is_integral_v<T>);
    dst = static_cast<T>(Int(key, std::is_signed_v<T> ? static_cast<int64_t>(INT32_MIN) : 0,
                             sizeof(T) >= 4 ? static_cast<int64_t>(std::is_signed_v<T> ? INT32_MAX : UINT32_MAX)
                                            : static_cast<int64_t>((1LL << (8 * sizeof(T))) - 1)));
  }

  Napi::Value Get(const char* key) const {
    if (!obj_.Has(key)) ThrowTypeError(env_, Name(key) + " is required");
    return obj_.Get(key);
  }

 private:
  std::string Name(const char* key) const { return path_ + "." + key; }
  Napi::Env env_;
  std::string path_;
  Napi::Object obj_;
};

// The record is rejected, not trimmed, when it asks for something this family cannot carry.
[[noreturn]] void NotInFamily(Napi::Env env, const std::string& field, const char* family, const std::string& allowed) {
  ThrowTypeError(env, field + " cannot be expressed in the open-iscsi " + family + " request layout (it must be " + allowed + ")");
}

// DEF_LOGIN_REDIRECT_MAX, iscsiadm's default for node.session.login_redirect_max (2.1.13 on).
constexpr int64_t kDefaultLoginRedirectMax = 8;

template <typename Abi>
void FillAuth(Napi::Env env, const Fields& a, typename Abi::Session& s) {
  auto& out = s.auth;
  a.Set("authmethod", out.authmethod);
  a.Str("username", out.username);
  a.Str("password", out.password);
  out.password_length = static_cast<uint32_t>(strnlen(out.password, sizeof out.password));
  a.Str("usernameIn", out.username_in);
  a.Str("passwordIn", out.password_in);
  out.password_in_length = static_cast<uint32_t>(strnlen(out.password_in, sizeof out.password_in));

  Napi::Value v = a.Get("chapAlgs");
  if (!v.IsArray()) ThrowTypeError(env, "record.session.auth.chapAlgs must be an array");
  Napi::Array arr = v.As<Napi::Array>();
  if (arr.Length() == 0 || arr.Length() > kChapAlgMax) ThrowTypeError(env, "record.session.auth.chapAlgs must hold 1 to 5 algorithms");
  uint32_t algs[kChapAlgMax];
  for (size_t i = 0; i < kChapAlgMax; ++i) algs[i] = 0xFFFFFFFFu;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value x = arr.Get(i);
    if (!x.IsNumber()) ThrowTypeError(env, "record.session.auth.chapAlgs entries must be numbers (MD5=5, SHA1=6, SHA256=7, SHA3-256=8)");
    double n = x.As<Napi::Number>().DoubleValue();
    if (n != 5 && n != 6 && n != 7 && n != 8) ThrowTypeError(env, "record.session.auth.chapAlgs entries must be 5..8 (MD5, SHA1, SHA256, SHA3-256)");
    algs[i] = static_cast<uint32_t>(n);
  }
  if constexpr (Abi::Session::kHasChapAlgs) {
    std::memcpy(out.chap_algs, algs, sizeof algs);
  } else if (arr.Length() != 1 || algs[0] != 5) {
    NotInFamily(env, "record.session.auth.chapAlgs", Abi::kName, "[5]: MD5 only");
  }
}

template <typename Abi>
void FillSession(Napi::Env env, const Fields& s, typename Abi::Session& out) {
  s.Set("initialCmdsn", out.initial_cmdsn);
  s.Set("reopenMax", out.reopen_max);
  s.Set("xmitThreadPriority", out.xmit_thread_priority);
  s.Set("cmdsMax", out.cmds_max);
  s.Set("queueDepth", out.queue_depth);
  s.Set("initialLoginRetryMax", out.initial_login_retry_max);
  if constexpr (Abi::Session::kHasLoginRedirectMax) {
    s.Set("loginRedirectMax", out.login_redirect_max);
  } else if (s.Int("loginRedirectMax", INT32_MIN, INT32_MAX) != kDefaultLoginRedirectMax) {
    NotInFamily(env, "record.session.loginRedirectMax", Abi::kName, "8, the default: before 2.1.13 iscsid has no such setting");
  }
  s.Set("nrSessions", out.nr_sessions);
  if constexpr (Abi::Session::kHasScan) {
    s.Set("scan", out.scan);
  } else if (s.Int("scan", 0, 1) != 1) {
    NotInFamily(env, "record.session.scan", Abi::kName, "1: iscsid always scans");
  }
  if constexpr (Abi::Session::kHasReopenLogFreq) {
    s.Set("connReopenLogFreq", out.reopen_log_freq);
  } else {
    int64_t freq = s.Int("connReopenLogFreq", INT32_MIN, INT32_MAX);
    if (freq < 0 || freq > 1) NotInFamily(env, "record.session.connReopenLogFreq", Abi::kName, "0 or 1: every reopen is logged");
  }
  FillAuth<Abi>(env, s.Sub("auth"), out);
  s.Set("replacementTimeout", out.timeo.replacement_timeout);
  Fields e = s.Sub("errTimeo");
  e.Set("abort", out.err_timeo.abort_timeout);
  e.Set("hostReset", out.err_timeo.host_reset_timeout);
  e.Set("luReset", out.err_timeo.lu_reset_timeout);
  e.Set("tgtReset", out.err_timeo.tgt_reset_timeout);
  Fields i = s.Sub("iscsi");
  i.Set("DataPDUInOrder", out.iscsi.DataPDUInOrder);
  i.Set("DataSequenceInOrder", out.iscsi.DataSequenceInOrder);
  i.Set("protocol", out.iscsi.protocol);
  i.Set("InitialR2T", out.iscsi.InitialR2T);
  i.Set("ImmediateData", out.iscsi.ImmediateData);
  i.Set("FirstBurstLength", out.iscsi.FirstBurstLength);
  i.Set("MaxBurstLength", out.iscsi.MaxBurstLength);
  i.Set("DefaultTime2Wait", out.iscsi.DefaultTime2Wait);
  i.Set("DefaultTime2Retain", out.iscsi.DefaultTime2Retain);
  i.Set("MaxConnections", out.iscsi.MaxConnections);
  i.Set("MaxOutstandingR2T", out.iscsi.MaxOutstandingR2T);
  i.Set("ERL", out.iscsi.ERL);
  i.Set("FastAbort", out.iscsi.FastAbort);
  s.Set("multiple", out.multiple);
}

template <typename Abi>
void FillConn(Napi::Env env, const Fields& c, typename Abi::Conn& out) {
  c.Set("startup", out.startup);
  c.Str("address", out.address);
  c.Set("port", out.port);
  c.Set("windowSize", out.tcp.window_size);
  c.Set("typeOfService", out.tcp.type_of_service);
  if constexpr (Abi::Conn::kHasCongestion) {
    c.Str("congestionControl", out.tcp.congestion_control);
  } else {
    char probe[kCongestionMax] = {};
    c.Str("congestionControl", probe);
    if (probe[0] != '\0') NotInFamily(env, "record.conn.congestionControl", Abi::kName, "\"\": the system default");
  }
  c.Set("loginTimeout", out.timeo.login_timeout);
  c.Set("logoutTimeout", out.timeo.logout_timeout);
  c.Set("authTimeout", out.timeo.auth_timeout);
  c.Set("activeTimeout", out.timeo.active_timeout);
  c.Set("noopOutInterval", out.timeo.noop_out_interval);
  c.Set("noopOutTimeout", out.timeo.noop_out_timeout);
  c.Set("MaxRecvDataSegmentLength", out.iscsi.MaxRecvDataSegmentLength);
  c.Set("MaxXmitDataSegmentLength", out.iscsi.MaxXmitDataSegmentLength);
  c.Set("HeaderDigest", out.iscsi.HeaderDigest);
  c.Set("DataDigest", out.iscsi.DataDigest);
  c.Set("IFMarker", out.iscsi.IFMarker);
  c.Set("OFMarker", out.iscsi.OFMarker);
}

// The iface fields iscsid uses for binding and offload host setup; the rest stay zero as in iscsiadm's.
template <typename Abi>
void FillIface(Napi::Env env, const Fields& i, typename Abi::Iface& out) {
  i.Str("name", out.name);
  i.Set("ifaceNum", out.iface_num);
  i.Str("netdev", out.netdev);
  i.Str("ipaddress", out.ipaddress);
  i.Str("subnetMask", out.subnet_mask);
  i.Str("gateway", out.gateway);
  i.Str("bootproto", out.bootproto);
  if constexpr (Abi::Iface::kHasPrefixLen) {
    i.Set("prefixLen", out.prefix_len);
  } else if (i.Int("prefixLen", 0, 255) != 0) {
    NotInFamily(env, "record.iface.prefixLen", Abi::kName, "0");
  }
  i.Set("vlanId", out.vlan_id);
  i.Set("vlanPriority", out.vlan_priority);
  i.Set("mtu", out.mtu);
  i.Set("port", out.port);
  i.Str("hwaddress", out.hwaddress);
  i.Str("transportName", out.transport_name);
  i.Str("alias", out.alias);
  i.Str("iname", out.iname);
}

template <typename Abi>
std::vector<uint8_t> Build(Napi::Env env, uint32_t command, int32_t sid, const Napi::Value& recv) {
  std::vector<uint8_t> bytes(sizeof(Request<Abi>), 0);  // every hole zero, as iscsiadm's calloc'd record
  auto* req = reinterpret_cast<Request<Abi>*>(bytes.data());
  req->command = command;
  req->u.session.sid = sid;
  if (!recv.IsUndefined() && !recv.IsNull()) {
    Fields r(env, recv, "record");
    NodeRec<Abi>& rec = req->u.session.rec;
    r.Str("name", rec.name);
    r.Set("tpgt", rec.tpgt);
    r.Set("startup", rec.startup);
    r.Set("leadingLogin", rec.leading_login);
    FillSession<Abi>(env, r.Sub("session"), rec.session);
    FillConn<Abi>(env, r.Sub("conn"), rec.conn[0]);
    FillIface<Abi>(env, r.Sub("iface"), rec.iface);
    r.Set("discType", rec.disc_type);
    // STATIC and FW were renumbered in 2.1.12 (and in Debian's 2.1.11-1+deb13u2, which still calls itself
    // 2.1.11): from 2.1.11 on only the types numbered alike in every build are ever sent.
    if (Abi::kLayout >= 21011 && (rec.disc_type < 0 || rec.disc_type > Abi::kDiscoveryTypeMax)) {
      NotInFamily(env, "record.discType", Abi::kName, "0..2: STATIC and FW are numbered differently by builds that share this version");
    }
    r.Str("discAddress", rec.disc_address);
    r.Set("discPort", rec.disc_port);
  }
  return bytes;
}

}  // namespace

Family ParseFamily(Napi::Env env, const Napi::Value& v) {
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
#define OPENISCSI_PARSE(k, Abi) \
  if (v.IsString() && s == Abi::kName) return Family::k;
  OPENISCSI_FAMILIES(OPENISCSI_PARSE)
#undef OPENISCSI_PARSE
  std::string names;
#define OPENISCSI_NAMES(k, Abi) names += std::string(names.empty() ? "" : ", ") + "\"" + Abi::kName + "\"";
  OPENISCSI_FAMILIES(OPENISCSI_NAMES)
#undef OPENISCSI_NAMES
  ThrowTypeError(env, "ABI family must be one of " + names);
}

size_t RequestSize(Family f) {
  switch (f) {
#define OPENISCSI_SIZE(k, Abi) \
  case Family::k:              \
    return sizeof(Request<Abi>);
    OPENISCSI_FAMILIES(OPENISCSI_SIZE)
#undef OPENISCSI_SIZE
  }
  return 0;
}

std::vector<uint8_t> BuildRequest(Napi::Env env, Family f, uint32_t command, int32_t sid, const Napi::Value& rec) {
  switch (f) {
#define OPENISCSI_BUILD(k, Abi) \
  case Family::k:               \
    return Build<Abi>(env, command, sid, rec);
    OPENISCSI_FAMILIES(OPENISCSI_BUILD)
#undef OPENISCSI_BUILD
  }
  ThrowTypeError(env, "unknown ABI family");
}

}  // namespace openiscsi::ipc
