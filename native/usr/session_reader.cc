#include "usr/session_reader.h"

#include <algorithm>
#include <memory>

#include "json_writer.h"
#include "usr/context.h"
#include "usr/records_copy.h"
#include "usr/session_sysfs.h"

namespace openiscsi {

namespace {

struct Slot {
  uint32_t sid = 0;
  int rc = 0;
  SessionRecord record;
  NativeError error;
  std::string row;
};

NativeError UsrStyleError(int rc, const std::string& message) { return NativeError{rc, UsrErrorCode(rc), message}; }

#ifdef HAVE_LIBOPENISCSIUSR
using SessionPtr = std::unique_ptr<iscsi_session, decltype(&iscsi_session_free)>;

int ReadWithUsr(UsrContext& ctx, const std::string& root, uint32_t sid, SessionRecord* out, NativeError* error) {
  if (!ctx.Ready(error)) return 3;
  iscsi_session* raw = nullptr;
  int rc = Usr().iscsi_session_get(ctx.get(), sid, &raw);
  SessionPtr s(raw, Usr().iscsi_session_free);
  if (rc != 0) {
    *error = ctx.Error(rc, ("reading session " + std::to_string(sid)).c_str());
    return rc;
  }
  *out = CopySession(s.get());
  out->sysfs = ReadSessionSysfs(root, sid);
  return 0;
}
#endif

// Reads every slot on the worker thread: on a real CPU, sharing a 16-session listing with a helper
// thread saved nothing measurable (bench/README.md, "Read-path mechanisms on the host"). With `rows` (a
// listing), each session read is also serialised as its row.
void ReadSlots(const std::string& root, SessionSource source, bool rows, std::vector<Slot>* slots) {
#ifdef HAVE_LIBOPENISCSIUSR
  std::unique_ptr<UsrContext> ctx;
  if (source == SessionSource::kLibopeniscsiusr) ctx = std::make_unique<UsrContext>();
#endif
  for (Slot& slot : *slots) {
    if (source == SessionSource::kSysfs) {
      std::string why;
      slot.rc = ReadSessionRecord(root, slot.sid, &slot.record, &why);
      if (slot.rc != 0) slot.error = UsrStyleError(slot.rc, why);
    } else {
#ifdef HAVE_LIBOPENISCSIUSR
      slot.rc = ReadWithUsr(*ctx, root, slot.sid, &slot.record, &slot.error);
#else
      slot.rc = 1;
      slot.error = UsrUnavailable();
#endif
    }
    if (rows && slot.rc == 0) {
      JsonWriter w(1024);
      WriteRow(w, slot.record);
      slot.row = w.Take();
    }
  }
}

}  // namespace

SessionListing ReadSessions(const std::string& root, const SessionFilter& filter, SessionSource source) {
  const std::string& target_name = filter.target;
  SessionListing out;
#ifndef HAVE_LIBOPENISCSIUSR
  if (source == SessionSource::kLibopeniscsiusr) {
    out.error = UsrUnavailable();
    return out;
  }
#else
  if (source == SessionSource::kLibopeniscsiusr && !UsrLoad(&out.error)) return out;
#endif
  std::vector<Slot> slots;
  for (uint32_t sid : ListSessionIds(root)) {
    if (filter.by_sid && !std::binary_search(filter.sids.begin(), filter.sids.end(), sid)) continue;
    if (!target_name.empty()) {
      // An unreadable name is read in full anyway, so the permission check still sees the session.
      const std::string name = ReadSessionTargetName(root, sid);
      if (!name.empty() && name != target_name) continue;
    }
    slots.push_back(Slot{sid, 0, {}, {}, {}});
  }
  ReadSlots(root, source, true, &slots);
  out.sessions.reserve(slots.size());
  for (Slot& slot : slots) {
    if (slot.rc == kSessionNotFound) continue;  // logged out while we listed
    if (slot.rc == 0 && !target_name.empty() && slot.record.target_name != target_name) continue;
    out.listed.push_back(slot.sid);
    if (slot.rc == kSessionAccess) continue;  // what iscsi_sessions_get() does too: dropped, not an error
    if (slot.rc != 0) {
      out.error = std::move(slot.error);
      out.sessions.clear();
      out.rows.clear();
      return out;
    }
    out.sessions.push_back(std::move(slot.record));
    out.rows.push_back(std::move(slot.row));
  }
  return out;
}

SessionRecord ReadSession(const std::string& root, uint32_t sid, SessionSource source, NativeError* error) {
#ifdef HAVE_LIBOPENISCSIUSR
  if (source == SessionSource::kLibopeniscsiusr && !UsrLoad(error)) return {};
#endif
  std::vector<Slot> one{Slot{sid, 0, {}, {}, {}}};
  ReadSlots(root, source, false, &one);
  if (one[0].rc != 0) *error = std::move(one[0].error);
  return std::move(one[0].record);
}

}  // namespace openiscsi
