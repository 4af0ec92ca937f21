#include "usr/sysfs_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "unique_fd.h"

namespace openiscsi {

namespace {

struct DirCloser {
  void operator()(DIR* d) const {
    if (d != nullptr) closedir(d);
  }
};

struct HeldDir {
  std::mutex m;  // rewinddir/readdir on one DIR* must not interleave
  std::unique_ptr<DIR, DirCloser> dir;
};

// Reads up to `max` bytes from offset 0; -errno on failure.
ssize_t ReadFrom(int fd, std::string* out, size_t max) {
  out->clear();
  char buf[4096];
  while (out->size() < max) {
    ssize_t n = pread(fd, buf, std::min(sizeof buf, max - out->size()), static_cast<off_t>(out->size()));
    if (n < 0) return -errno;
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buf) break;  // attributes are one page; a short read is the end
  }
  return static_cast<ssize_t>(out->size());
}

std::vector<std::string> Names(DIR* d) {
  std::vector<std::string> out;
  rewinddir(d);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

struct SysfsCache::Impl {
  mutable std::mutex m;
  std::unordered_map<std::string, std::shared_ptr<UniqueFd>> files;
  std::unordered_map<std::string, std::shared_ptr<HeldDir>> dirs;
  std::unordered_map<std::string, std::string> links;

  size_t held() const { return files.size() + dirs.size(); }
};

SysfsCache& SysfsCache::Instance() {
  static SysfsCache* cache = new SysfsCache();  // never destroyed: workers may still run at exit
  return *cache;
}

SysfsCache::Impl& SysfsCache::impl() {
  static Impl* i = new Impl();
  return *i;
}

bool SysfsCache::Enabled() {
  static const bool on = [] {
    const char* v = std::getenv("OPENISCSI_SYSFS_FD_CACHE");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return on;
}

size_t SysfsCache::Budget() {
  static const size_t budget = [] {
    rlimit r{};
    size_t soft = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY ? static_cast<size_t>(r.rlim_cur) : 8192;
    return std::min<size_t>(2048, soft / 4);
  }();
  return budget;
}

SysfsRead SysfsCache::Read(const std::string& path, size_t max) {
  SysfsRead r;
  Impl& i = impl();
  std::shared_ptr<UniqueFd> fd;
  if (Enabled()) {
    std::lock_guard<std::mutex> g(i.m);
    auto it = i.files.find(path);
    if (it != i.files.end()) fd = it->second;
  }
  if (fd) {
    if (ReadFrom(fd->get(), &r.value, max) >= 0) return r;
    std::lock_guard<std::mutex> g(i.m);  // stale (ENODEV after removal) or unreadable: forget it, open afresh
    auto it = i.files.find(path);
    if (it != i.files.end() && it->second == fd) i.files.erase(it);
  }
  auto fresh = std::make_shared<UniqueFd>(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!*fresh) {
    r.error = errno;
    return r;
  }
  ssize_t n = ReadFrom(fresh->get(), &r.value, max);
  if (n < 0) {
    r.error = static_cast<int>(-n);
    r.value.clear();
    return r;
  }
  if (Enabled()) {
    std::lock_guard<std::mutex> g(i.m);
    if (i.held() < Budget()) i.files.emplace(path, std::move(fresh));
  }
  return r;
}

std::vector<std::string> SysfsCache::List(const std::string& path) {
  Impl& i = impl();
  std::shared_ptr<HeldDir> held;
  if (Enabled()) {
    std::lock_guard<std::mutex> g(i.m);
    auto it = i.dirs.find(path);
    if (it != i.dirs.end()) held = it->second;
  }
  if (held) {
    std::vector<std::string> names;
    {
      std::lock_guard<std::mutex> g(held->m);
      names = Names(held->dir.get());
    }
    if (!names.empty()) return names;
    // A removed directory lists nothing: an empty answer is confirmed through a fresh open.
    std::lock_guard<std::mutex> g(i.m);
    auto it = i.dirs.find(path);
    if (it != i.dirs.end() && it->second == held) i.dirs.erase(it);
  }
  auto fresh = std::make_shared<HeldDir>();
  fresh->dir.reset(opendir(path.c_str()));
  if (!fresh->dir) return {};
  std::vector<std::string> names = Names(fresh->dir.get());
  if (Enabled() && !names.empty()) {
    std::lock_guard<std::mutex> g(i.m);
    if (i.held() < Budget()) i.dirs.emplace(path, std::move(fresh));
  }
  return names;
}

std::string SysfsCache::Link(const std::string& path) {
  Impl& i = impl();
  if (Enabled()) {
    std::lock_guard<std::mutex> g(i.m);
    auto it = i.links.find(path);
    if (it != i.links.end()) return it->second;
  }
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string target(buf, static_cast<size_t>(n));
  if (Enabled()) {
    std::lock_guard<std::mutex> g(i.m);
    if (i.links.size() < 4096) i.links.emplace(path, target);
  }
  return target;
}

void SysfsCache::Release() {
  Impl& i = impl();
  std::unordered_map<std::string, std::shared_ptr<UniqueFd>> files;
  std::unordered_map<std::string, std::shared_ptr<HeldDir>> dirs;
  {
    std::lock_guard<std::mutex> g(i.m);
    files.swap(i.files);
    dirs.swap(i.dirs);
    i.links.clear();
  }
  // closed here, outside the lock (or later, by a reader still holding one)
}

size_t SysfsCache::Held() const {
  Impl& i = impl();
  std::lock_guard<std::mutex> g(i.m);
  return i.held();
}

std::string Trimmed(const SysfsRead& r) {
  if (r.error != 0) return {};
  const std::string& v = r.value;
  size_t b = v.find_first_not_of(" \t\n");
  if (b == std::string::npos) return {};
  size_t e = v.find_last_not_of(" \t\n");
  std::string t = v.substr(b, e - b + 1);
  return t == "(null)" ? std::string() : t;
}

}  // namespace openiscsi
