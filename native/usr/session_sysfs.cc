#include "usr/session_sysfs.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <unistd.h>

#include "usr/host_sysfs.h"
#include "usr/records.h"
#include "usr/session_fds.h"
#include "usr/sysfs_names.h"

namespace openiscsi {

namespace {

// Attribute slots of each kind of kept directory (kept_dir.h).
enum SessionSlot : size_t { kTargetName, kUsername, kUsernameIn, kRecoveryTmo, kLuResetTmo, kTgtResetTmo, kAbortTmo, kTpgt, kSessionIname, kIfaceName, kSessionState, kTargetId };
enum ConnSlot : size_t { kPersistentAddress, kPersistentPort, kAddress, kPort, kConnState };
enum LunSlot : size_t { kLunState, kType, kVendor, kModel, kRev, kWwid, kVpd83 };
enum BlockSlot : size_t { kSize };

std::string Attr(KeptDir& dir, size_t slot, const char* name) {
  std::string v;
  dir.Read(slot, name, &v);
  return v;
}

std::optional<int64_t> ParseInt(const std::string& v) {
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  long long x = strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0') return std::nullopt;
  return x;
}

std::optional<int64_t> IntAttr(KeptDir& dir, size_t slot, const char* name) { return ParseInt(Attr(dir, slot, name)); }

// An integer attribute that fits in 32 bits.
std::optional<int32_t> Int32Attr(KeptDir& dir, size_t slot, const char* name) {
  auto v = IntAttr(dir, slot, name);
  if (!v || *v < INT32_MIN || *v > INT32_MAX) return std::nullopt;
  return static_cast<int32_t>(*v);
}

int32_t IntOr(KeptDir& dir, size_t slot, const char* name, int32_t fallback) { return Int32Attr(dir, slot, name).value_or(fallback); }

// libopeniscsiusr's rule (2.1.8) for a host attribute with a default: a missing file or "(null)" gives the default.
std::string HostAttrOr(KeptDir& iscsi_host, HostSlot slot, const char* fallback) {
  const HostAttr a = ReadHostAttr(iscsi_host, slot);
  return a.err == ENOENT || a.null ? fallback : a.value;
}

// H:C:T:L with four decimal fields (no sscanf: under emulation its setup costs more than the read).
bool ParseHctl(const std::string& s, LunRecord* l) {
  uint32_t f[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (int k = 0; k < 4; ++k) {
    const size_t start = i;
    uint64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v <= UINT32_MAX) v = v * 10 + static_cast<uint64_t>(s[i++] - '0');
    if (i == start || v > UINT32_MAX) return false;
    f[k] = static_cast<uint32_t>(v);
    if (k < 3) {
      if (i >= s.size() || s[i] != ':') return false;
      ++i;
    }
  }
  if (i != s.size()) return false;
  l->host = f[0], l->channel = f[1], l->target = f[2], l->lun = f[3];
  return true;
}

// The last "/hostN" path component.
std::optional<int32_t> HostNoFromPath(const std::string& p) {
  std::optional<int32_t> found;
  size_t pos = 0;
  while ((pos = p.find("/host", pos)) != std::string::npos) {
    size_t start = pos + 5, end = start;
    while (end < p.size() && p[end] >= '0' && p[end] <= '9') ++end;
    if (end > start && (end == p.size() || p[end] == '/')) found = std::atoi(p.substr(start, end - start).c_str());
    pos = start;
  }
  return found;
}

// `link` (a class symlink's target, relative to `base`) joined to `base`, with ".." removed lexically:
// sysfs class directories are real directories, so this equals realpath() without a readlink per component.
std::string JoinLink(const std::string& base, const std::string& link) {
  if (!link.empty() && link[0] == '/') return link;
  std::string out = base;
  size_t i = 0;
  while (i < link.size()) {
    size_t j = link.find('/', i);
    if (j == std::string::npos) j = link.size();
    const std::string part = link.substr(i, j - i);
    if (part == "..") {
      out = Dirname(out);
    } else if (!part.empty() && part != ".") {
      out += (out.size() > 1 ? "/" : "") + part;
    }
    i = j + 1;
  }
  return out;
}

// Resolves the session's paths once (its class symlink): false when the session does not exist.
bool Resolve(const std::string& root, uint32_t sid, SessionFds& f) {
  if (f.resolved) return true;
  const std::string base = root + "/class/iscsi_session";
  char link[PATH_MAX];
  ssize_t n = readlink((base + "/session" + std::to_string(sid)).c_str(), link, sizeof link - 1);
  if (n <= 0) return false;
  // <hostdev>/sessionS/iscsi_session/sessionS
  f.class_dir = JoinLink(base, std::string(link, static_cast<size_t>(n)));
  f.session_dev = Dirname(Dirname(f.class_dir));
  f.session.Reset(f.class_dir);
  f.conn.Reset(root + "/class/iscsi_connection/connection" + std::to_string(sid) + ":0");
  f.dev.Reset(f.session_dev);
  f.host_no = HostNoFromPath(Dirname(f.session_dev));
  if (f.host_no) {
    f.iscsi_host.Reset(root + "/class/iscsi_host/host" + std::to_string(*f.host_no));
    f.scsi_host.Reset(root + "/class/scsi_host/host" + std::to_string(*f.host_no));
  }
  f.resolved = true;
  return true;
}

// Only two SCSI drivers make block devices: sd (direct access, optical memory, RBC and zoned: peripheral
// types 0x00, 0x07, 0x0e, 0x14) and sr (CD/DVD and WORM: 0x05, 0x04). Any other type (a controller LUN
// 0x0c, an enclosure 0x0d, a tape 0x01, ...) never has a block/ directory, so it is not looked for;
// a type that could not be read is.
bool MayHaveBlockDevice(const std::optional<int32_t>& type) {
  if (!type) return true;
  switch (*type) {
    case 0x00: case 0x04: case 0x05: case 0x07: case 0x0e: case 0x14: return true;
    default: return false;
  }
}

bool ReadLun(LunFds& f, const std::string& hctl, LunRecord* out) {
  LunRecord& l = *out;
  if (!ParseHctl(hctl, &l)) return false;
  l.hctl = hctl;
  l.state = Attr(f.lun, kLunState, "state");
  l.type = Int32Attr(f.lun, kType, "type");
  l.vendor = Attr(f.lun, kVendor, "vendor");
  l.model = Attr(f.lun, kModel, "model");
  l.revision = Attr(f.lun, kRev, "rev");
  l.wwid = Attr(f.lun, kWwid, "wwid");
  if (l.wwid.empty()) {
    std::string page;
    if (f.lun.ReadRaw(kVpd83, "vpd_pg83", &page, 8192) == 0) l.wwid = WwidFromVpdPage83(page);
  }
  if (!MayHaveBlockDevice(l.type)) return true;
  // A LUN has at most one block device (sd or sr).
  auto blocks = f.block_list.List(f.lun, "block");
  if (blocks.empty()) return true;
  l.block_device = blocks.front();
  f.block_dev.Reset(f.block_list.path() + "/" + l.block_device);
  std::string sectors;
  if (f.block_dev.Read(kSize, "size", &sectors) == 0) {
    if (auto v = ParseInt(sectors)) l.size_bytes = static_cast<double>(*v) * 512.0;
  }
  return true;
}

// Under f.m, with f resolved.
SessionSysfsRecord ReadSysfsPart(SessionFds& f) {
  SessionSysfsRecord r;
  std::string state;
  if (f.session.Read(kSessionState, "state", &state) == ENOENT) return r;
  r.present = true;
  r.state = state;
  r.iface_name = Attr(f.session, kIfaceName, "ifacename");
  if (auto v = IntAttr(f.session, kTargetId, "target_id")) r.target_id = static_cast<int32_t>(*v);
  r.connection_state = Attr(f.conn, kConnState, "state");
  r.host_no = f.host_no;
  // Mark and sweep: what this walk does not see is gone, and its descriptors go too.
  for (auto& [name, t] : f.targets) t->seen = false;
  for (auto& [hctl, l] : f.luns) l->seen = false;
  for (const auto& t : f.dev.List()) {
    if (t.rfind("target", 0) != 0) continue;
    auto& tdir = f.targets[t];
    if (!tdir) tdir = std::make_unique<TargetFds>(f.session_dev + "/" + t);
    tdir->seen = true;
    const size_t first = r.devices.size();
    for (const auto& hctl : tdir->dir.List()) {
      if (hctl.empty() || hctl[0] < '0' || hctl[0] > '9') continue;  // power, subsystem, uevent
      auto& lf = f.luns[hctl];
      if (!lf) {
        lf = std::make_unique<LunFds>();
        const std::string lun_path = tdir->dir.path() + "/" + hctl;
        lf->lun.Reset(lun_path);
        lf->block_list.Reset(lun_path + "/block");
      }
      LunRecord l;
      if (!ReadLun(*lf, hctl, &l)) continue;
      lf->seen = true;
      r.devices.push_back(std::move(l));
    }
    std::sort(r.devices.begin() + static_cast<long>(first), r.devices.end(), [](const LunRecord& a, const LunRecord& b) { return a.lun < b.lun; });
  }
  for (auto it = f.luns.begin(); it != f.luns.end();) it = it->second->seen ? std::next(it) : f.luns.erase(it);
  for (auto it = f.targets.begin(); it != f.targets.end();) it = it->second->seen ? std::next(it) : f.targets.erase(it);
  return r;
}

}  // namespace

std::vector<uint32_t> ListSessionIds(const std::string& root) {
  std::vector<uint32_t> ids;
  for (const auto& n : ListSessionClass(root)) {
    if (n.rfind("session", 0) == 0 && IsDigits(n, 7)) ids.push_back(static_cast<uint32_t>(std::strtoul(n.c_str() + 7, nullptr, 10)));
  }
  std::sort(ids.begin(), ids.end());
  KeepOnlySessionFds(root, ids);  // what is not listed is gone: its descriptors go too
  return ids;
}

std::string ReadSessionTargetName(const std::string& root, uint32_t sid) {
  auto f = SessionFdsFor(root, sid);
  std::lock_guard<std::mutex> g(f->m);
  if (!Resolve(root, sid, *f)) return {};
  return Attr(f->session, kTargetName, "targetname");
}

SessionSysfsRecord ReadSessionSysfs(const std::string& root, uint32_t sid) {
  auto f = SessionFdsFor(root, sid);
  std::lock_guard<std::mutex> g(f->m);
  if (!Resolve(root, sid, *f)) return {};
  return ReadSysfsPart(*f);
}

namespace {

int ReadSessionRecordOnce(const std::string& root, uint32_t sid, SessionRecord* out, std::string* why) {
  auto fp = SessionFdsFor(root, sid);
  SessionFds& f = *fp;
  std::lock_guard<std::mutex> g(f.m);
  const std::string id = std::to_string(sid);
  if (!Resolve(root, sid, f)) {
    ForgetSessionFds(root, sid);
    *why = "session " + id + " does not exist";
    return kSessionNotFound;
  }
  std::string name, user, user_in;
  int name_err = f.session.Read(kTargetName, "targetname", &name);
  if (name_err == ENOENT || name_err == ENODEV) {
    ForgetSessionFds(root, sid);
    *why = "session " + id + " does not exist";
    return kSessionNotFound;
  }
  // The kernel (>= 5.12) refuses the CHAP attributes to callers without CAP_SYS_ADMIN; libopeniscsiusr
  // then drops the session, and so do we (the caller turns that into a permission error). The secrets
  // themselves are never read.
  int user_err = f.session.Read(kUsername, "username", &user);
  int user_in_err = f.session.Read(kUsernameIn, "username_in", &user_in);
  for (int e : {name_err, user_err, user_in_err}) {
    if (e == EACCES || e == EPERM) {
      *why = "reading session " + id + ": permission denied";
      return kSessionAccess;
    }
  }
  if (name_err != 0) {
    *why = "reading session " + id + ": targetname: error " + std::to_string(name_err);
    return kSessionLookup;
  }
  SessionRecord& s = *out;
  s.sid = sid;
  s.target_name = name;
  s.username = user;
  s.username_in = user_in;
  s.recovery_tmo = IntOr(f.session, kRecoveryTmo, "recovery_tmo", -1);
  s.lu_reset_tmo = IntOr(f.session, kLuResetTmo, "lu_reset_tmo", -1);
  s.tgt_reset_tmo = IntOr(f.session, kTgtResetTmo, "tgt_reset_tmo", -1);
  s.abort_tmo = IntOr(f.session, kAbortTmo, "abort_tmo", -1);
  s.tpgt = IntOr(f.session, kTpgt, "tpgt", -1);
  s.persistent_address = Attr(f.conn, kPersistentAddress, "persistent_address");
  s.persistent_port = IntOr(f.conn, kPersistentPort, "persistent_port", -1);
  s.address = Attr(f.conn, kAddress, "address");
  s.port = IntOr(f.conn, kPort, "port", -1);
  // One of the pair may be missing (offload drivers differ): each stands in for the other.
  if (s.persistent_address.empty()) s.persistent_address = s.address;
  if (s.address.empty()) s.address = s.persistent_address;
  if (s.persistent_port == -1) s.persistent_port = s.port;
  if (s.port == -1) s.port = s.persistent_port;

  s.sysfs = ReadSysfsPart(f);
  if (!s.sysfs.present) {
    ForgetSessionFds(root, sid);
    *why = "session " + id + " does not exist";
    return kSessionNotFound;
  }
  if (!s.sysfs.host_no) {
    *why = "session " + id + ": no SCSI host in its sysfs path";
    return kSessionLookup;
  }
  IfaceRecord& i = s.iface;
  i.transport = ReadHostTransport(f.scsi_host);
  i.hwaddress = HostAttrOr(f.iscsi_host, kHwaddress, "default");
  i.netdev = HostAttrOr(f.iscsi_host, kNetdev, "default");
  i.ipaddress = HostAttrOr(f.iscsi_host, kIpaddress, "default");
  i.initiator_name = Attr(f.session, kSessionIname, "initiatorname");
  if (i.initiator_name.empty()) i.initiator_name = ReadHostAttr(f.iscsi_host, kHostIname).value;
  i.port_state = HostAttrOr(f.iscsi_host, kPortState, "unknown");
  if (i.port_state == "Unknown!") i.port_state = "unknown";
  i.port_speed = HostAttrOr(f.iscsi_host, kPortSpeed, "unknown");
  if (i.port_speed.rfind("Unknown", 0) == 0) i.port_speed = "unknown";
  // libopeniscsiusr's naming: a host with a hardware address names the iface after it; otherwise the
  // kernel's ifacename, else "default". The kernel's ifacename is reported separately (sysfs.iface_name).
  const bool by_hw = i.hwaddress != "default";
  if (by_hw) {
    const bool v6 = std::count(i.ipaddress.begin(), i.ipaddress.end(), ':') >= 2;
    i.name = i.transport + "." + i.hwaddress + "." + (v6 ? "ipv6" : "ipv4") + ".0";
  } else {
    i.name = s.sysfs.iface_name.empty() ? "default" : s.sysfs.iface_name;
  }
  i.is_default = i.name == "default" || i.name == "iser";
  return 0;
}

}  // namespace

int ReadSessionRecord(const std::string& root, uint32_t sid, SessionRecord* out, std::string* why) {
  int rc = ReadSessionRecordOnce(root, sid, out, why);
  // Sids restart when scsi_transport_iscsi is reloaded: a sid whose kept paths are gone may be a new
  // session elsewhere. Its entry was forgotten, so one more try resolves it afresh.
  if (rc == kSessionNotFound) rc = ReadSessionRecordOnce(root, sid, out, why);
  return rc;
}

}  // namespace openiscsi
