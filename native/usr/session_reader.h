// Reads sessions: libopeniscsiusr's record of each, completed by the sysfs walk (session_sysfs.h).
// Many sessions are read on a few threads, each with its own libopeniscsiusr context: under emulation
// every sysfs read is a trapped syscall, and a 16-session listing is otherwise one long serial chain.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "usr/records.h"

namespace openiscsi {

struct SessionListing {
  std::vector<SessionRecord> sessions;
  // The sids sysfs listed (and that matched the filter): a sid here but not in `sessions` was dropped by
  // libopeniscsiusr for lack of privilege, which the caller turns into a permission error.
  std::vector<uint32_t> listed;
  NativeError error;
};

// Every session, or only those whose targetname is `target_name` when it is not empty.
SessionListing ReadSessions(const std::string& sysfs_root, const std::string& target_name);

// One session by sid; `error` is libopeniscsiusr's (USR_SESS_NOT_FOUND when there is none).
SessionRecord ReadSession(const std::string& sysfs_root, uint32_t sid, NativeError* error);

}  // namespace openiscsi
