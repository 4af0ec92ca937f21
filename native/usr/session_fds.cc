#include "usr/session_fds.h"

#include <unordered_map>
#include <vector>

namespace openiscsi {

namespace {

struct Registry {
  std::mutex m;
  uint64_t generation = 0;
  std::unordered_map<std::string, std::shared_ptr<SessionFds>> sessions;  // by root + sid
  std::mutex class_m;
  KeptDir session_class;
};

Registry& R() {
  static Registry* r = new Registry();  // never destroyed: workers may still run at exit
  return *r;
}

}  // namespace

std::shared_ptr<SessionFds> SessionFdsFor(const std::string& root, uint32_t sid) {
  Registry& r = R();
  std::lock_guard<std::mutex> g(r.m);
  auto& slot = r.sessions[root + "\n" + std::to_string(sid)];
  if (!slot) slot = std::make_shared<SessionFds>();
  slot->used = r.generation;
  return slot;
}

std::vector<std::string> ListSessionClass(const std::string& root) {
  Registry& r = R();
  std::lock_guard<std::mutex> g(r.class_m);
  r.session_class.Reset(root + "/class/iscsi_session");
  return r.session_class.List();
}

void SweepSessionFds() {
  Registry& r = R();
  std::vector<std::shared_ptr<SessionFds>> dropped;  // closed after the lock is released
  std::lock_guard<std::mutex> g(r.m);
  for (auto it = r.sessions.begin(); it != r.sessions.end();) {
    if (it->second->used < r.generation) {
      dropped.push_back(std::move(it->second));
      it = r.sessions.erase(it);
    } else {
      ++it;
    }
  }
  ++r.generation;
}

size_t ReleaseSessionFds() {
  Registry& r = R();
  size_t held = FdsHeld();
  std::unordered_map<std::string, std::shared_ptr<SessionFds>> dropped;
  {
    std::lock_guard<std::mutex> g(r.m);
    dropped.swap(r.sessions);
  }
  {
    std::lock_guard<std::mutex> g(r.class_m);
    r.session_class.Reset("");
  }
  return held;
}

}  // namespace openiscsi
