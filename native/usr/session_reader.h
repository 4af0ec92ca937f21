// Reads sessions, by default from sysfs through kept descriptors (session_sysfs.h); or, on request,
// through libopeniscsiusr's iscsi_session_get() completed by the sysfs walk, which opens every file anew
// (the reference the sysfs reader is tested against). All on the worker thread.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "usr/records.h"

namespace openiscsi {

enum class SessionSource { kSysfs, kLibopeniscsiusr };

struct SessionListing {
  std::vector<SessionRecord> sessions;
  // Each session's row (records.h WriteRow) in the same order.
  std::vector<std::string> rows;
  // The sids sysfs listed (and that matched the filter): a sid here but not in `sessions` was dropped
  // for lack of privilege (as libopeniscsiusr does), which the caller turns into a permission error.
  std::vector<uint32_t> listed;
  NativeError error;
};

// Which sessions a listing reads in full; the others cost at most one read (their targetname).
struct SessionFilter {
  std::string target;          // only this targetname, when not empty
  bool by_sid = false;         // only the sids in `sids` (sorted), when set
  std::vector<uint32_t> sids;
};

SessionListing ReadSessions(const std::string& sysfs_root, const SessionFilter& filter, SessionSource source);

// One session by sid; `error` is USR_SESS_NOT_FOUND when there is none.
SessionRecord ReadSession(const std::string& sysfs_root, uint32_t sid, SessionSource source, NativeError* error);

}  // namespace openiscsi
