#include "usr/session_reader.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include "usr/context.h"
#include "usr/records_copy.h"
#include "usr/session_sysfs.h"

namespace openiscsi {

namespace {

constexpr unsigned kMaxThreads = 4;
constexpr size_t kSessionsPerThread = 4;  // below this a thread costs more than it saves

#ifdef HAVE_LIBOPENISCSIUSR
constexpr int kUsrSessionNotFound = 2;
constexpr int kUsrAccess = 13;
using SessionPtr = std::unique_ptr<iscsi_session, decltype(&iscsi_session_free)>;

// rc of iscsi_session_get; on success `out` holds the session with its sysfs walk.
int ReadWith(UsrContext& ctx, const std::string& root, uint32_t sid, SessionRecord* out) {
  iscsi_session* raw = nullptr;
  int rc = iscsi_session_get(ctx.get(), sid, &raw);
  SessionPtr s(raw, &iscsi_session_free);
  if (rc != 0) return rc;
  *out = CopySession(s.get());
  out->sysfs = ReadSessionSysfs(root, sid);
  return 0;
}

struct Slot {
  uint32_t sid = 0;
  int rc = 0;
  SessionRecord record;
  NativeError error;
};

// Reads slots[next++] until none are left: the threads share the work, whatever each session costs.
void Drain(const std::string& root, std::vector<Slot>* slots, std::atomic<size_t>* next) {
  UsrContext ctx;
  for (size_t i; (i = next->fetch_add(1)) < slots->size();) {
    Slot& slot = (*slots)[i];
    if (!ctx) {
      slot.rc = 3;
      slot.error = {3, "USR_NOMEM", "iscsi_context_new failed"};
      continue;
    }
    slot.rc = ReadWith(ctx, root, slot.sid, &slot.record);
    if (slot.rc != 0) slot.error = ctx.Error(slot.rc, ("reading session " + std::to_string(slot.sid)).c_str());
  }
}
#endif

}  // namespace

SessionListing ReadSessions(const std::string& root, const std::string& target_name) {
  SessionListing out;
#ifdef HAVE_LIBOPENISCSIUSR
  std::vector<Slot> slots;
  for (uint32_t sid : ListSessionIds(root)) {
    if (!target_name.empty()) {
      // An unreadable name is read in full anyway, so the permission check still sees the session.
      const std::string name = ReadSessionTargetName(root, sid);
      if (!name.empty() && name != target_name) continue;
    }
    slots.push_back(Slot{sid, 0, {}, {}});
  }
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const size_t threads = std::min<size_t>({hw, kMaxThreads, (slots.size() + kSessionsPerThread - 1) / kSessionsPerThread});
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(Drain, std::cref(root), &slots, &next);
  Drain(root, &slots, &next);
  for (auto& th : pool) th.join();
  for (Slot& slot : slots) {
    if (slot.rc == kUsrSessionNotFound) continue;  // logged out while we listed
    out.listed.push_back(slot.sid);
    if (slot.rc == kUsrAccess) continue;  // what iscsi_sessions_get() does too: dropped, not an error
    if (slot.rc != 0) {
      out.error = std::move(slot.error);
      out.sessions.clear();
      return out;
    }
    out.sessions.push_back(std::move(slot.record));
  }
#else
  (void)root;
  (void)target_name;
  out.error = UsrUnavailable();
#endif
  return out;
}

SessionRecord ReadSession(const std::string& root, uint32_t sid, NativeError* error) {
  SessionRecord r;
#ifdef HAVE_LIBOPENISCSIUSR
  UsrContext ctx;
  if (!ctx) {
    *error = {3, "USR_NOMEM", "iscsi_context_new failed"};
    return r;
  }
  int rc = ReadWith(ctx, root, sid, &r);
  if (rc != 0) *error = ctx.Error(rc, ("reading session " + std::to_string(sid)).c_str());
#else
  (void)root;
  (void)sid;
  *error = UsrUnavailable();
#endif
  return r;
}

}  // namespace openiscsi
