#include "usr/kept_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace openiscsi {

namespace {

std::atomic<size_t> g_held{0};

bool TryHold() {
  size_t cur = g_held.load(std::memory_order_relaxed);
  while (cur < FdBudget()) {
    if (g_held.compare_exchange_weak(cur, cur + 1)) return true;
  }
  return false;
}

void Unhold() { g_held.fetch_sub(1); }

// A directory's entries (without "."-names), sorted, read with getdents64 into one buffer until it
// returns 0. (A short answer does not mean the end: the kernel stops early when a signal is pending.)
// On sysfs the call that returns 0 is not needed: kernfs ends a listing by setting the position to
// INT_MAX, which it never gives an entry (fs/kernfs/dir.c reserves it), and getdents64 reports the final
// position as the last entry's d_off.
std::vector<std::string> Names(int fd, bool sysfs) {
  constexpr size_t kBuf = 16384;
  alignas(8) char buf[kBuf];
  std::vector<std::string> out;
  if (lseek(fd, 0, SEEK_SET) != 0) return out;
  for (;;) {
    const ssize_t n = getdents64(fd, buf, kBuf);
    if (n <= 0) break;
    int64_t end = 0;
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const dirent64*>(buf + off);
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
      end = e->d_off;
      off += e->d_reclen;
    }
    if (sysfs && end == INT_MAX) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool OnSysfs(int fd) {
  struct statfs s {};
  return fstatfs(fd, &s) == 0 && s.f_type == SYSFS_MAGIC;
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

HeldFd& HeldFd::operator=(HeldFd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

bool HeldFd::Adopt(UniqueFd& fd) {
  if (!fd || !TryHold()) return false;
  reset();
  fd_ = fd.release();
  return true;
}

void HeldFd::reset() {
  if (fd_ >= 0) {
    close(fd_);
    Unhold();
  }
  fd_ = -1;
}

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
  for (HeldFd& fd : fds_) fd.reset();
  dir_.reset();
  self_.reset();
}

// The O_PATH descriptor is only kept while an attribute of the same directory is: that attribute's ENODEV
// is what tells a removed (and perhaps re-created) directory, and closes this descriptor with the rest.
UniqueFd KeptDir::OpenAt(const char* name, int flags) {
  if (!HasKeptFile()) self_.reset();
  if (!self_ && HasKeptFile()) {
    UniqueFd self(open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    self_.Adopt(self);
  }
  if (self_) return UniqueFd(openat(self_.get(), name, flags));
  return UniqueFd(open((path_ + "/" + name).c_str(), flags));
}

bool KeptDir::HasKeptFile() const {
  return std::any_of(fds_.begin(), fds_.end(), [](const HeldFd& fd) { return static_cast<bool>(fd); });
}

void KeptDir::Reset(const std::string& path) {
  if (path == path_) return;
  CloseAll();
  path_ = path;
}

int KeptDir::ReadInto(size_t slot, const char* name, char* buf, size_t cap, size_t* len) {
  if (slot >= fds_.size()) fds_.resize(slot + 1);
  if (fds_[slot]) {
    ssize_t n = pread(fds_[slot].get(), buf, cap, 0);
    if (n >= 0) {
      *len = static_cast<size_t>(n);
      return 0;
    }
    // Stale (ENODEV: the directory was removed, and may be back) or unreadable: forget what this directory
    // kept and knew, then open afresh.
    if (errno == ENODEV) {
      CloseAll();
    } else {
      fds_[slot].reset();
    }
  }
  const std::string file = path_ + "/" + name;
  UniqueFd fd(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    *len = 0;
    return errno;
  }
  ssize_t n = pread(fd.get(), buf, cap, 0);
  int err = n < 0 ? errno : 0;
  if (err == 0) fds_[slot].Adopt(fd);  // kept when the budget allows; closed here otherwise
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

std::vector<std::string> KeptDir::KeepListing(UniqueFd fd) {
  std::vector<std::string> names = Names(fd.get(), false);
  if (!names.empty() && dir_.Adopt(fd)) dir_on_sysfs_ = OnSysfs(dir_.get());
  return names;
}

// The kept listing, if it still lists something; a removed directory lists nothing, so an empty answer
// is confirmed through a fresh open.
bool KeptDir::ListKept(std::vector<std::string>* names) {
  if (!dir_) return false;
  *names = Names(dir_.get(), dir_on_sysfs_);
  if (!names->empty()) return true;
  dir_.reset();
  return false;
}

std::vector<std::string> KeptDir::List() {
  std::vector<std::string> names;
  if (ListKept(&names)) return names;
  UniqueFd fd(open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd ? KeepListing(std::move(fd)) : std::vector<std::string>();
}

std::vector<std::string> KeptDir::List(KeptDir& parent, const char* name) {
  std::vector<std::string> names;
  if (ListKept(&names)) return names;
  UniqueFd fd = parent.OpenAt(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd ? KeepListing(std::move(fd)) : std::vector<std::string>();
}

}  // namespace openiscsi
