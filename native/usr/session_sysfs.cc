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
