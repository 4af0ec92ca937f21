// Open sysfs attribute files and directories, kept for re-reading. A sysfs attribute re-read with
// pread(fd, 0) is generated afresh by the kernel, but costs one syscall instead of open+read+close; in
// the emulated lab an open of a sysfs file is ~20 times the cost of the read. Values are never cached,
// only descriptors.
//
// Staleness: a descriptor of a removed kernfs node fails with ENODEV, and a removed directory lists
// nothing. So a failed read, or an empty listing, is retried once through a fresh open by path.
// Session ids are never reused by the kernel, so paths under a session cannot silently change identity.
//
// Bounded: at most Budget() descriptors (a quarter of RLIMIT_NOFILE, at most 2048); past that, reads
// open and close as usual. Release() closes them all (the JS side calls it when reads go idle).
// Thread-safe: entries are shared_ptrs, so Release() never closes a descriptor another thread is reading.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace openiscsi {

struct SysfsRead {
  std::string value;  // raw bytes as read (up to `max`)
  int error = 0;      // errno of the failed open or read; 0 when read
};

class SysfsCache {
 public:
  static SysfsCache& Instance();

  // The attribute's bytes (at most `max`), through a kept descriptor when it can.
  SysfsRead Read(const std::string& path, size_t max = 4096);
  // Names in a directory (without "."-names), sorted; empty when it cannot be listed.
  std::vector<std::string> List(const std::string& path);
  // A symlink's target. Kept: only used for /sys/class/iscsi_session/sessionN, and sids are never reused.
  std::string Link(const std::string& path);

  void Release();
  size_t Held() const;
  static size_t Budget();
  // Off when OPENISCSI_SYSFS_FD_CACHE=0: every read opens and closes.
  static bool Enabled();

 private:
  SysfsCache() = default;
  struct Impl;
  static Impl& impl();
};

// Trimmed text of an attribute; "(null)" and unreadable attributes are empty.
std::string Trimmed(const SysfsRead& r);

}  // namespace openiscsi
