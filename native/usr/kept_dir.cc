#include "usr/kept_dir.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace openiscsi {

namespace {

std::atomic<size_t> g_held{0};

constexpr int kMissing = -2;  // a fds_ entry: the attribute does not exist in this directory

bool Enabled() {
  static const bool on = [] {
    const char* v = std::getenv("OPENISCSI_SYSFS_FD_CACHE");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return on;
}

bool TryHold() {
  if (!Enabled()) return false;
  size_t cur = g_held.load(std::memory_order_relaxed);
  while (cur < FdBudget()) {
    if (g_held.compare_exchange_weak(cur, cur + 1)) return true;
  }
  return false;
}

void Unhold() { g_held.fetch_sub(1); }

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

size_t FdBudget() {
  static const size_t budget = [] {
    rlimit r{};
    size_t soft = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY ? static_cast<size_t>(r.rlim_cur) : 8192;
    return std::min<size_t>(2048, soft / 4);
  }();
  return budget;
}

size_t FdsHeld() { return g_held.load(); }

std::string TrimAttr(const char* p, size_t n, bool* null) {
  size_t b = 0;
  while (b < n && (p[b] == ' ' || p[b] == '\t' || p[b] == '\n')) ++b;
  while (n > b && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\0')) --n;
  const bool is_null = n - b == 6 && std::memcmp(p + b, "(null)", 6) == 0;
  if (null != nullptr) *null = is_null;
  return is_null ? std::string() : std::string(p + b, n - b);
}

KeptDir::~KeptDir() { CloseAll(); }

void KeptDir::CloseAll() {
  for (int& fd : fds_) {
    if (fd >= 0) {
      close(fd);
      Unhold();
    }
    fd = -1;
  }
  if (dir_ != nullptr) {
    closedir(dir_);
    Unhold();
    dir_ = nullptr;
  }
  if (self_ >= 0) {
    close(self_);
    Unhold();
    self_ = -1;
  }
}

int KeptDir::OpenAt(const char* name, int flags) {
  if (self_ < 0 && TryHold()) {
    self_ = open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (self_ < 0) Unhold();
  }
  if (self_ >= 0) return openat(self_, name, flags);
  return open((path_ + "/" + name).c_str(), flags);
}

// Only a directory that is known to exist (it has a kept attribute) may remember an absence: a missing
// attribute of a directory that is itself gone must stay a fresh lookup.
bool KeptDir::HasKeptFile() const {
  return std::any_of(fds_.begin(), fds_.end(), [](int fd) { return fd >= 0; });
}

void KeptDir::Reset(const std::string& path) {
  if (path == path_) return;
  CloseAll();
  path_ = path;
}

int KeptDir::ReadInto(size_t slot, const char* name, char* buf, size_t cap, size_t* len) {
  if (slot >= fds_.size()) fds_.resize(slot + 1, -1);
  if (fds_[slot] == kMissing) {
    *len = 0;
    return ENOENT;
  }
  if (fds_[slot] >= 0) {
    ssize_t n = pread(fds_[slot], buf, cap, 0);
    if (n >= 0) {
      *len = static_cast<size_t>(n);
      return 0;
    }
    // Stale (ENODEV: the directory was removed, and may be back) or unreadable: forget what this directory
    // kept and knew, then open afresh.
    if (errno == ENODEV) {
      CloseAll();
    } else {
      close(fds_[slot]);
      Unhold();
      fds_[slot] = -1;
    }
  }
  int& kept = fds_[slot];
  const std::string file = path_ + "/" + name;
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT && remember_missing_ && HasKeptFile()) kept = kMissing;
    *len = 0;
    return err;
  }
  ssize_t n = pread(fd, buf, cap, 0);
  int err = n < 0 ? errno : 0;
  if (err == 0 && TryHold()) {
    kept = fd;
  } else {
    close(fd);
  }
  *len = n < 0 ? 0 : static_cast<size_t>(n);
  return err;
}

int KeptDir::Read(size_t slot, const char* name, std::string* out, bool* null) {
  char buf[4096];
  size_t n = 0;
  int err = ReadInto(slot, name, buf, sizeof buf, &n);
  if (null != nullptr) *null = false;
  *out = err == 0 ? TrimAttr(buf, n, null) : std::string();
  return err;
}

int KeptDir::ReadRaw(size_t slot, const char* name, std::string* out, size_t max) {
  std::string buf(max, '\0');
  size_t n = 0;
  int err = ReadInto(slot, name, buf.data(), max, &n);
  buf.resize(err == 0 ? n : 0);
  *out = std::move(buf);
  return err;
}

std::vector<std::string> KeptDir::KeepListing(DIR* d) {
  std::vector<std::string> names = Names(d);
  if (!names.empty() && TryHold()) {
    dir_ = d;
  } else {
    closedir(d);
  }
  return names;
}

std::vector<std::string> KeptDir::List() {
  if (dir_ != nullptr) {
    std::vector<std::string> names = Names(dir_);
    if (!names.empty()) return names;
    closedir(dir_);  // a removed directory lists nothing: confirm through a fresh open
    Unhold();
    dir_ = nullptr;
  }
  DIR* d = opendir(path_.c_str());
  return d == nullptr ? std::vector<std::string>() : KeepListing(d);
}

std::vector<std::string> KeptDir::List(KeptDir& parent, const char* name) {
  if (dir_ != nullptr) {
    std::vector<std::string> names = Names(dir_);
    if (!names.empty()) return names;
    closedir(dir_);
    Unhold();
    dir_ = nullptr;
  }
  int fd = parent.OpenAt(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return {};
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    close(fd);
    return {};
  }
  return KeepListing(d);
}

}  // namespace openiscsi
