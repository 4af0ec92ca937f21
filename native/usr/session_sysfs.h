// What only sysfs knows about a session (state, SCSI host, target id, LUNs and their block devices), read
// on the worker thread right after libopeniscsiusr's listing. This walk lives in C++ rather than in
// lib/sysfs.ts because it is on every attach's hot path: hundreds of small reads cost ~0.5 s through
// libuv's async fs in the emulated lab guest, and ~1 ms as plain reads on one worker thread.
#pragma once
#include <napi.h>

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
  std::optional<int32_t> host_no, target_id, creator;
  std::vector<LunRecord> devices;
};

// Reads /sys (or `root`, for tests) for one session.
SessionSysfsRecord ReadSessionSysfs(const std::string& root, uint32_t sid);

// The session's targetname attribute (empty when unreadable): a cheap filter before a full read.
std::string ReadSessionTargetName(const std::string& root, uint32_t sid);

// sids present under <root>/class/iscsi_session, ascending.
std::vector<uint32_t> ListSessionIds(const std::string& root);

Napi::Object ToJs(Napi::Env env, const SessionSysfsRecord& r);

// The WWID the kernel would show in `wwid`, derived from a raw VPD page 0x83; empty when it has none.
std::string WwidFromVpdPage83(const std::string& page);

}  // namespace openiscsi
