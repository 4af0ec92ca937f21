#include "usr/session_sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>

#include "unique_fd.h"

namespace openiscsi {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

// Entries of the directory `dirfd` refers to (without "." names), sorted; `dirfd` stays open and usable.
std::vector<std::string> ListDirAt(int dirfd) {
  std::vector<std::string> out;
  int dup_fd = dirfd < 0 ? -1 : fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return out;
  std::unique_ptr<DIR, DirCloser> d(fdopendir(dup_fd));
  if (!d) {
    close(dup_fd);
    return out;
  }
  while (dirent* e = readdir(d.get())) {
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ListDir(const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return ListDirAt(fd.get());
}

UniqueFd OpenDirAt(int dirfd, const std::string& name) {
  return UniqueFd(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

// A sysfs attribute relative to an open directory, trimmed; "(null)" and unreadable attributes are empty.
// Relative opens matter under emulation: every path component the kernel walks is a trapped lookup.
std::string ReadAttrAt(int dirfd, const char* name) {
  UniqueFd fd(openat(dirfd, name, O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  char buf[4096];
  ssize_t n = read(fd.get(), buf, sizeof buf);
  if (n <= 0) return {};
  std::string v(buf, static_cast<size_t>(n));
  size_t b = v.find_first_not_of(" \t\n");
  size_t e = v.find_last_not_of(" \t\n");
  v = b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
  return v == "(null)" ? std::string() : v;
}

std::string ReadAttr(const std::string& file) { return ReadAttrAt(AT_FDCWD, file.c_str()); }

std::optional<int64_t> ParseInt(const std::string& v) {
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  long long x = strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0') return std::nullopt;
  return x;
}

std::optional<int64_t> ReadIntAt(int dirfd, const char* name) { return ParseInt(ReadAttrAt(dirfd, name)); }

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

// A binary sysfs attribute (vpd_pg83), up to `max` bytes.
std::string ReadBinaryAt(int dirfd, const char* name, size_t max) {
  UniqueFd fd(openat(dirfd, name, O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = read(fd.get(), buf, std::min(sizeof buf, max - out.size()));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string Hex(const uint8_t* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 0xf]);
  }
  return s;
}

// Printable ASCII of a designator, without trailing blanks and NULs.
std::string Ascii(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && p[i] != 0; ++i) s.push_back(p[i] >= 0x20 && p[i] < 0x7f ? static_cast<char>(p[i]) : '.');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

// The LUN's identifier from VPD page 0x83 (Device Identification), as the kernel's `wwid` attribute gives it:
// "naa.<hex>", "eui.<hex>", "t10.<ascii>", or a SCSI name string as it is. Only designators of the logical
// unit itself count. Preference, best first: a SCSI name string longer than 16 bytes, NAA Registered
// Extended (16 bytes), EUI-64 of 16 then 12 bytes, NAA Registered (8), NAA Extended or Locally assigned (8),
// EUI-64 of 8 bytes, T10 vendor id.
std::string WwidFromVpdPage83(const std::string& page) {
  const auto* b = reinterpret_cast<const uint8_t*>(page.data());
  if (page.size() < 4 || b[1] != 0x83) return {};
  const size_t end = std::min(page.size(), size_t{4} + (static_cast<size_t>(b[2]) << 8 | b[3]));
  int best_rank = 0;
  std::string best;
  for (size_t off = 4; off + 4 <= end;) {
    const uint8_t* d = b + off;
    const size_t len = d[3];
    if (off + 4 + len > end) break;
    off += 4 + len;
    if (((d[1] >> 4) & 0x3) != 0 || len == 0) continue;  // association: the logical unit
    const uint8_t* v = d + 4;
    const uint8_t code_set = d[0] & 0x0f;
    int rank = 0;
    std::string id;
    switch (d[1] & 0x0f) {
      case 0x1:  // T10 vendor id
        rank = 1, id = "t10." + Ascii(v, len);
        break;
      case 0x2:  // EUI-64 based
        rank = len == 16 ? 6 : len == 12 ? 5 : len == 8 ? 2 : 0, id = "eui." + Hex(v, len);
        break;
      case 0x3: {  // NAA
        const uint8_t naa = v[0] >> 4;
        rank = naa == 6 && len == 16 ? 7 : naa == 5 && len == 8 ? 4 : (naa == 2 || naa == 3) && len == 8 ? 3 : 0;
        id = "naa." + Hex(v, len);
        break;
      }
      case 0x8:  // SCSI name string (UTF-8), already prefixed ("iqn.", "naa.", "eui.")
        if (code_set == 0x3) rank = len > 16 ? 8 : 1, id = Ascii(v, len);
        break;
      default:
        break;
    }
    if (rank > best_rank && !id.empty()) best_rank = rank, best = std::move(id);
  }
  return best;
}

namespace {

LunRecord ReadLun(int lun_dir, const std::string& hctl) {
  LunRecord l;
  l.hctl = hctl;
  ParseHctl(hctl, &l);
  l.state = ReadAttrAt(lun_dir, "state");
  if (auto t = ReadIntAt(lun_dir, "type")) l.type = static_cast<int32_t>(*t);
  l.vendor = ReadAttrAt(lun_dir, "vendor");
  l.model = ReadAttrAt(lun_dir, "model");
  l.revision = ReadAttrAt(lun_dir, "rev");
  l.wwid = ReadAttrAt(lun_dir, "wwid");
  if (l.wwid.empty()) l.wwid = WwidFromVpdPage83(ReadBinaryAt(lun_dir, "vpd_pg83", 8192));
  UniqueFd block_dir = OpenDirAt(lun_dir, "block");
  auto blocks = ListDirAt(block_dir.get());
  if (!blocks.empty()) {
    l.block_device = blocks.front();
    if (auto sectors = ReadIntAt(block_dir.get(), (l.block_device + "/size").c_str())) l.size_bytes = static_cast<double>(*sectors) * 512.0;
  }
  return l;
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

}  // namespace

std::vector<uint32_t> ListSessionIds(const std::string& root) {
  std::vector<uint32_t> ids;
  for (const auto& n : ListDir(root + "/class/iscsi_session")) {
    if (n.rfind("session", 0) == 0 && IsDigits(n, 7)) ids.push_back(static_cast<uint32_t>(std::strtoul(n.c_str() + 7, nullptr, 10)));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

SessionSysfsRecord ReadSessionSysfs(const std::string& root, uint32_t sid) {
  SessionSysfsRecord r;
  const std::string name = "session" + std::to_string(sid);
  const std::string class_base = root + "/class/iscsi_session";
  char link[PATH_MAX];
  ssize_t n = readlink((class_base + "/" + name).c_str(), link, sizeof link - 1);
  if (n <= 0) return r;
  // <hostdev>/sessionS/iscsi_session/sessionS
  const std::string class_dir = JoinLink(class_base, std::string(link, static_cast<size_t>(n)));
  UniqueFd class_fd(open(class_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!class_fd) return r;
  r.present = true;
  r.state = ReadAttrAt(class_fd.get(), "state");
  r.iface_name = ReadAttrAt(class_fd.get(), "ifacename");
  if (auto v = ReadIntAt(class_fd.get(), "target_id")) r.target_id = static_cast<int32_t>(*v);
  if (auto v = ReadIntAt(class_fd.get(), "creator")) r.creator = static_cast<int32_t>(*v);
  r.connection_state = ReadAttr(root + "/class/iscsi_connection/connection" + std::to_string(sid) + ":0/state");
  const std::string session_dev = Dirname(Dirname(class_dir));
  r.host_no = HostNoFromPath(Dirname(session_dev));
  UniqueFd session_fd(open(session_dev.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (const auto& t : ListDirAt(session_fd.get())) {
    if (t.rfind("target", 0) != 0) continue;
    UniqueFd target_fd = OpenDirAt(session_fd.get(), t);
    std::vector<LunRecord> luns;
    for (const auto& hctl : ListDirAt(target_fd.get())) {
      LunRecord probe;
      if (!ParseHctl(hctl, &probe)) continue;
      UniqueFd lun_fd = OpenDirAt(target_fd.get(), hctl);
      if (lun_fd) luns.push_back(ReadLun(lun_fd.get(), hctl));
    }
    std::sort(luns.begin(), luns.end(), [](const LunRecord& a, const LunRecord& b) { return a.lun < b.lun; });
    for (auto& l : luns) r.devices.push_back(std::move(l));
  }
  return r;
}

std::string ReadSessionTargetName(const std::string& root, uint32_t sid) {
  return ReadAttr(root + "/class/iscsi_session/session" + std::to_string(sid) + "/targetname");
}

namespace {
void SetIf(Napi::Object& o, const char* k, const std::string& v) {
  if (!v.empty()) o.Set(k, v);
}
}  // namespace

Napi::Object ToJs(Napi::Env env, const SessionSysfsRecord& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("present", r.present);
  SetIf(o, "state", r.state);
  SetIf(o, "connectionState", r.connection_state);
  SetIf(o, "ifaceName", r.iface_name);
  if (r.host_no) o.Set("hostNo", *r.host_no);
  if (r.target_id) o.Set("targetId", *r.target_id);
  if (r.creator) o.Set("creator", *r.creator);
  Napi::Array devs = Napi::Array::New(env, r.devices.size());
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const LunRecord& l = r.devices[i];
    Napi::Object d = Napi::Object::New(env);
    d.Set("hctl", l.hctl);
    d.Set("host", l.host);
    d.Set("channel", l.channel);
    d.Set("target", l.target);
    d.Set("lun", l.lun);
    SetIf(d, "state", l.state);
    if (l.type) d.Set("type", *l.type);
    SetIf(d, "vendor", l.vendor);
    SetIf(d, "model", l.model);
    SetIf(d, "revision", l.revision);
    SetIf(d, "blockDevice", l.block_device);
    if (l.size_bytes) d.Set("sizeBytes", *l.size_bytes);
    SetIf(d, "wwid", l.wwid);
    devs.Set(static_cast<uint32_t>(i), d);
  }
  o.Set("devices", devs);
  return o;
}

}  // namespace openiscsi
