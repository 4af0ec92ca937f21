#include "usr/session_sysfs.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <algorithm>

#include "usr/records.h"
#include "usr/sysfs_cache.h"

namespace openiscsi {

namespace {

SysfsCache& Fs() { return SysfsCache::Instance(); }

std::string Attr(const std::string& dir, const char* name) { return Trimmed(Fs().Read(dir + "/" + name)); }

std::optional<int64_t> ParseInt(const std::string& v) {
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  long long x = strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0') return std::nullopt;
  return x;
}

std::optional<int64_t> IntAttr(const std::string& dir, const char* name) { return ParseInt(Attr(dir, name)); }

int32_t IntOr(const std::string& dir, const char* name, int32_t fallback) {
  auto v = IntAttr(dir, name);
  return v && *v >= INT32_MIN && *v <= INT32_MAX ? static_cast<int32_t>(*v) : fallback;
}

// libopeniscsiusr's rule (2.1.8) for an attribute with a default: a missing file or "(null)" gives the default.
std::string AttrOr(const std::string& dir, const char* name, const char* fallback) {
  SysfsRead r = Fs().Read(dir + "/" + name);
  if (r.error == ENOENT) return fallback;
  std::string v = Trimmed(r);
  return r.error == 0 && v.empty() && r.value.find("(null)") != std::string::npos ? fallback : v;
}

std::string Dirname(const std::string& p) {
  size_t i = p.find_last_of('/');
  return i == std::string::npos || i == 0 ? std::string("/") : p.substr(0, i);
}

bool IsDigits(const std::string& s, size_t from) {
  return from < s.size() && std::all_of(s.begin() + static_cast<long>(from), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// H:C:T:L with four decimal fields.
bool ParseHctl(const std::string& s, LunRecord* l) {
  unsigned h, c, t, n;
  char tail;
  if (sscanf(s.c_str(), "%u:%u:%u:%u%c", &h, &c, &t, &n, &tail) != 4) return false;
  l->host = h, l->channel = c, l->target = t, l->lun = n;
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

LunRecord ReadLun(const std::string& dir, const std::string& hctl) {
  LunRecord l;
  l.hctl = hctl;
  ParseHctl(hctl, &l);
  l.state = Attr(dir, "state");
  if (auto t = IntAttr(dir, "type")) l.type = static_cast<int32_t>(*t);
  l.vendor = Attr(dir, "vendor");
  l.model = Attr(dir, "model");
  l.revision = Attr(dir, "rev");
  l.wwid = Attr(dir, "wwid");
  if (l.wwid.empty()) {
    SysfsRead page = Fs().Read(dir + "/vpd_pg83", 8192);
    if (page.error == 0) l.wwid = WwidFromVpdPage83(page.value);
  }
  auto blocks = Fs().List(dir + "/block");
  if (!blocks.empty()) {
    l.block_device = blocks.front();
    if (auto sectors = IntAttr(dir + "/block/" + l.block_device, "size")) l.size_bytes = static_cast<double>(*sectors) * 512.0;
  }
  return l;
}

std::string SessionClassDir(const std::string& root, uint32_t sid) {
  const std::string base = root + "/class/iscsi_session";
  const std::string link = Fs().Link(base + "/session" + std::to_string(sid));
  return link.empty() ? std::string() : JoinLink(base, link);
}

}  // namespace

std::vector<uint32_t> ListSessionIds(const std::string& root) {
  std::vector<uint32_t> ids;
  for (const auto& n : Fs().List(root + "/class/iscsi_session")) {
    if (n.rfind("session", 0) == 0 && IsDigits(n, 7)) ids.push_back(static_cast<uint32_t>(std::strtoul(n.c_str() + 7, nullptr, 10)));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string ReadSessionTargetName(const std::string& root, uint32_t sid) {
  return Attr(root + "/class/iscsi_session/session" + std::to_string(sid), "targetname");
}

SessionSysfsRecord ReadSessionSysfs(const std::string& root, uint32_t sid) {
  SessionSysfsRecord r;
  // <hostdev>/sessionS/iscsi_session/sessionS
  const std::string class_dir = SessionClassDir(root, sid);
  if (class_dir.empty()) return r;
  SysfsRead state = Fs().Read(class_dir + "/state");
  if (state.error == ENOENT) return r;
  r.present = true;
  r.state = Trimmed(state);
  r.iface_name = Attr(class_dir, "ifacename");
  if (auto v = IntAttr(class_dir, "target_id")) r.target_id = static_cast<int32_t>(*v);
  if (auto v = IntAttr(class_dir, "creator")) r.creator = static_cast<int32_t>(*v);
  r.connection_state = Attr(root + "/class/iscsi_connection/connection" + std::to_string(sid) + ":0", "state");
  const std::string session_dev = Dirname(Dirname(class_dir));
  r.host_no = HostNoFromPath(Dirname(session_dev));
  for (const auto& t : Fs().List(session_dev)) {
    if (t.rfind("target", 0) != 0) continue;
    const std::string tdir = session_dev + "/" + t;
    std::vector<LunRecord> luns;
    for (const auto& hctl : Fs().List(tdir)) {
      LunRecord probe;
      if (ParseHctl(hctl, &probe)) luns.push_back(ReadLun(tdir + "/" + hctl, hctl));
    }
    std::sort(luns.begin(), luns.end(), [](const LunRecord& a, const LunRecord& b) { return a.lun < b.lun; });
    for (auto& l : luns) r.devices.push_back(std::move(l));
  }
  return r;
}

int ReadSessionRecord(const std::string& root, uint32_t sid, SessionRecord* out, std::string* why) {
  const std::string sdir = root + "/class/iscsi_session/session" + std::to_string(sid);
  const std::string cdir = root + "/class/iscsi_connection/connection" + std::to_string(sid) + ":0";
  SysfsRead name = Fs().Read(sdir + "/targetname");
  if (name.error == ENOENT || name.error == ENODEV) {
    *why = "session " + std::to_string(sid) + " does not exist";
    return kSessionNotFound;
  }
  // The kernel (>= 5.12) refuses the CHAP attributes to callers without CAP_SYS_ADMIN; libopeniscsiusr
  // then drops the session, and so do we (the caller turns that into a permission error). The secrets
  // themselves are never read.
  SysfsRead user = Fs().Read(sdir + "/username");
  SysfsRead user_in = Fs().Read(sdir + "/username_in");
  if (name.error == EACCES || user.error == EACCES || user_in.error == EACCES || user.error == EPERM || user_in.error == EPERM) {
    *why = "reading session " + std::to_string(sid) + ": permission denied";
    return kSessionAccess;
  }
  if (name.error != 0) {
    *why = "reading session " + std::to_string(sid) + ": targetname: error " + std::to_string(name.error);
    return kSessionLookup;
  }
  SessionRecord& s = *out;
  s.sid = sid;
  s.target_name = Trimmed(name);
  s.username = Trimmed(user);
  s.username_in = Trimmed(user_in);
  s.recovery_tmo = IntOr(sdir, "recovery_tmo", -1);
  s.lu_reset_tmo = IntOr(sdir, "lu_reset_tmo", -1);
  s.tgt_reset_tmo = IntOr(sdir, "tgt_reset_tmo", -1);
  s.abort_tmo = IntOr(sdir, "abort_tmo", -1);
  s.tpgt = IntOr(sdir, "tpgt", -1);
  s.persistent_address = Attr(cdir, "persistent_address");
  s.persistent_port = IntOr(cdir, "persistent_port", -1);
  s.address = Attr(cdir, "address");
  s.port = IntOr(cdir, "port", -1);
  // One of the pair may be missing (offload drivers differ): each stands in for the other.
  if (s.persistent_address.empty()) s.persistent_address = s.address;
  if (s.address.empty()) s.address = s.persistent_address;
  if (s.persistent_port == -1) s.persistent_port = s.port;
  if (s.port == -1) s.port = s.persistent_port;

  s.sysfs = ReadSessionSysfs(root, sid);
  if (!s.sysfs.present) {
    *why = "session " + std::to_string(sid) + " does not exist";
    return kSessionNotFound;
  }
  if (!s.sysfs.host_no) {
    *why = "session " + std::to_string(sid) + ": no SCSI host in its sysfs path";
    return kSessionLookup;
  }
  const std::string host = "host" + std::to_string(*s.sysfs.host_no);
  const std::string hdir = root + "/class/iscsi_host/" + host;
  IfaceRecord& i = s.iface;
  const std::string proc = Attr(root + "/class/scsi_host/" + host, "proc_name");
  i.transport = proc.rfind("iscsi_", 0) == 0 ? proc.substr(6) : proc;
  i.hwaddress = AttrOr(hdir, "hwaddress", "default");
  i.netdev = AttrOr(hdir, "netdev", "default");
  i.ipaddress = AttrOr(hdir, "ipaddress", "default");
  i.initiator_name = Attr(sdir, "initiatorname");
  if (i.initiator_name.empty()) i.initiator_name = Attr(hdir, "initiatorname");
  i.port_state = AttrOr(hdir, "port_state", "unknown");
  if (i.port_state == "Unknown!") i.port_state = "unknown";
  i.port_speed = AttrOr(hdir, "port_speed", "unknown");
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

}  // namespace openiscsi
