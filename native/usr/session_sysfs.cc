#include "usr/session_sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>

namespace openiscsi {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, DirCloser> d(opendir(dir.c_str()));
  if (!d) return out;
  while (dirent* e = readdir(d.get())) {
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A sysfs attribute, trimmed; "(null)" and unreadable attributes are empty.
std::string ReadAttr(const std::string& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n <= 0) return {};
  std::string v(buf, static_cast<size_t>(n));
  size_t b = v.find_first_not_of(" \t\n");
  size_t e = v.find_last_not_of(" \t\n");
  v = b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
  return v == "(null)" ? std::string() : v;
}

std::optional<int64_t> ReadInt(const std::string& file) {
  std::string v = ReadAttr(file);
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  long long x = strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0') return std::nullopt;
  return x;
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

// A binary sysfs attribute (vpd_pg83), up to `max` bytes.
std::string ReadBinary(const std::string& file, size_t max) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = read(fd, buf, std::min(sizeof buf, max - out.size()));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
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

LunRecord ReadLun(const std::string& dir, const std::string& hctl) {
  LunRecord l;
  l.hctl = hctl;
  ParseHctl(hctl, &l);
  l.state = ReadAttr(dir + "/state");
  if (auto t = ReadInt(dir + "/type")) l.type = static_cast<int32_t>(*t);
  l.vendor = ReadAttr(dir + "/vendor");
  l.model = ReadAttr(dir + "/model");
  l.revision = ReadAttr(dir + "/rev");
  l.wwid = ReadAttr(dir + "/wwid");
  if (l.wwid.empty()) l.wwid = WwidFromVpdPage83(ReadBinary(dir + "/vpd_pg83", 8192));
  auto blocks = ListDir(dir + "/block");
  if (!blocks.empty()) {
    l.block_device = blocks.front();
    if (auto sectors = ReadInt(dir + "/block/" + l.block_device + "/size")) l.size_bytes = static_cast<double>(*sectors) * 512.0;
  }
  return l;
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
  char resolved[PATH_MAX];
  if (realpath((root + "/class/iscsi_session/" + name).c_str(), resolved) == nullptr) return r;
  r.present = true;
  const std::string class_dir(resolved);
  r.state = ReadAttr(class_dir + "/state");
  r.iface_name = ReadAttr(class_dir + "/ifacename");
  if (auto v = ReadInt(class_dir + "/target_id")) r.target_id = static_cast<int32_t>(*v);
  if (auto v = ReadInt(class_dir + "/creator")) r.creator = static_cast<int32_t>(*v);
  r.connection_state = ReadAttr(root + "/class/iscsi_connection/connection" + std::to_string(sid) + ":0/state");
  // <hostdev>/sessionS/iscsi_session/sessionS
  const std::string session_dev = Dirname(Dirname(class_dir));
  r.host_no = HostNoFromPath(Dirname(session_dev));
  for (const auto& t : ListDir(session_dev)) {
    if (t.rfind("target", 0) != 0) continue;
    const std::string tdir = session_dev + "/" + t;
    std::vector<LunRecord> luns;
    for (const auto& hctl : ListDir(tdir)) {
      LunRecord probe;
      if (ParseHctl(hctl, &probe)) luns.push_back(ReadLun(tdir + "/" + hctl, hctl));
    }
    std::sort(luns.begin(), luns.end(), [](const LunRecord& a, const LunRecord& b) { return a.lun < b.lun; });
    for (auto& l : luns) r.devices.push_back(std::move(l));
  }
  return r;
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
