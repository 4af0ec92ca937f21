// A sysfs directory whose attribute files are kept open for re-reading. A sysfs attribute re-read with
// pread(fd, 0) is generated afresh by the kernel, but costs one syscall instead of open+read+close and no
// path walk (in the emulated lab an open of a sysfs file costs several reads). Values are not cached
// here, only descriptors.
// Attributes are addressed by slot (a small fixed index per kind of directory), so a re-read does no
// hashing or allocation beyond the value itself.
//
// Staleness: a descriptor of a removed kernfs node fails with ENODEV, and a removed directory lists
// nothing, so a failed read or an empty listing is retried once through a fresh open by path (a LUN
// deleted and rescanned at the same H:C:T:L gets new descriptors).
//
// Bounded: all KeptDirs together hold at most FdBudget() descriptors (a quarter of RLIMIT_NOFILE, at most
// 2048); past that, reads open and close as usual. Not thread-safe: its owner (session_fds.h) locks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace openiscsi {

// A descriptor counted in the budget below: closed, and its place given back, exactly once.
class HeldFd {
 public:
  HeldFd() = default;
  ~HeldFd() { reset(); }
  HeldFd(const HeldFd&) = delete;
  HeldFd& operator=(const HeldFd&) = delete;
  HeldFd(HeldFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  HeldFd& operator=(HeldFd&& o) noexcept;
  // Takes `fd` over when the budget has room (true); otherwise `fd` stays the caller's.
  bool Adopt(UniqueFd& fd);
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

class KeptDir {
 public:
  KeptDir() = default;
  explicit KeptDir(std::string path) : path_(std::move(path)) {}
  ~KeptDir();
  KeptDir(const KeptDir&) = delete;
  KeptDir& operator=(const KeptDir&) = delete;

  const std::string& path() const { return path_; }
  // Points the directory elsewhere (closing what it kept) unless it is already `path`.
  void Reset(const std::string& path);

  // The attribute `name` in slot `slot`, trimmed; "(null)" gives "" (and sets *null). Returns 0 or the errno.
  int Read(size_t slot, const char* name, std::string* out, bool* null = nullptr);
  // Raw bytes (binary attributes such as vpd_pg83), at most `max`.
  int ReadRaw(size_t slot, const char* name, std::string* out, size_t max);
  // Entries (without "."-names), sorted; empty when it cannot be listed.
  std::vector<std::string> List();
  // The same, for a subdirectory `name` of `parent` that is often absent (a LUN's block/): a fresh open is
  // a one-name lookup in the parent rather than a walk of the whole path.
  std::vector<std::string> List(KeptDir& parent, const char* name);

 private:
  int ReadInto(size_t slot, const char* name, char* buf, size_t cap, size_t* len);
  // open(path_/name) through a kept O_PATH descriptor of this directory when the budget allows.
  UniqueFd OpenAt(const char* name, int flags);
  std::vector<std::string> KeepListing(UniqueFd fd);
  bool ListKept(std::vector<std::string>* names);
  bool HasKeptFile() const;
  void CloseAll();

  std::string path_;
  std::vector<HeldFd> fds_;  // by slot; empty when not kept
  HeldFd dir_;   // the directory itself, for listing
  bool dir_on_sysfs_ = false;
  HeldFd self_;  // O_PATH descriptor of path_, for OpenAt
};

size_t FdBudget();
size_t FdsHeld();

// Trimmed text; "(null)" (the kernel's rendering of a NULL string) gives "" and sets *null.
std::string TrimAttr(const char* p, size_t n, bool* null = nullptr);

}  // namespace openiscsi
