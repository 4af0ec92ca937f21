// Sessions read from sysfs on the worker thread: what iscsi_session_get() reports, plus what only sysfs
// knows (state, SCSI host, target id, LUNs and their block devices). This lives in C++ rather than in
// lib/read/sysfs.ts because it is on every attach's hot path: hundreds of small reads cost ~0.5 s through
// libuv's async fs in the emulated lab guest; here they are preads on kept descriptors (kept_dir.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace openiscsi {

struct LunRecord {
  std::string hctl, state, vendor, model, revision, wwid, block_device;
  uint32_t host = 0, channel = 0, target = 0, lun = 0;
  std::optional<int32_t> type;
  std::optional<double> size_bytes;
};

struct SessionSysfsRecord {
  bool present = false;
  std::string state, connection_state, iface_name;
  std::optional<int32_t> host_no, target_id;
  std::vector<LunRecord> devices;
};

// Reads /sys (or `root`, for tests) for one session.
SessionSysfsRecord ReadSessionSysfs(const std::string& root, uint32_t sid);

struct SessionRecord;
// libopeniscsiusr's return codes, which the read path keeps: 0, or one of these.
constexpr int kSessionNotFound = 2;
constexpr int kSessionAccess = 13;
constexpr int kSessionLookup = 22;
// The whole session from sysfs, as iscsi_session_get() builds it (same fields, defaults and fallbacks),
// through kept descriptors (kept_dir.h). On failure returns the code and says why.
int ReadSessionRecord(const std::string& root, uint32_t sid, SessionRecord* out, std::string* why);

// The session's targetname attribute (empty when unreadable): a cheap filter before a full read.
std::string ReadSessionTargetName(const std::string& root, uint32_t sid);

// sids present under <root>/class/iscsi_session, ascending; the kept descriptors of any other session are
// closed (session_fds.h).
std::vector<uint32_t> ListSessionIds(const std::string& root);

// The WWID the kernel would show in `wwid`, derived from a raw VPD page 0x83; empty when it has none.
std::string WwidFromVpdPage83(const std::string& page);

}  // namespace openiscsi
