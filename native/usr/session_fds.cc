#include "usr/session_fds.h"

#include <algorithm>
#include <map>
#include <vector>

namespace openiscsi {

namespace {

struct Registry {
  std::mutex m;
  std::map<std::pair<std::string, uint32_t>, std::shared_ptr<SessionFds>> sessions;  // by (root, sid)
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
  auto& slot = r.sessions[{root, sid}];
  if (!slot) slot = std::make_shared<SessionFds>();
  return slot;
}

std::vector<std::string> ListSessionClass(const std::string& root) {
  Registry& r = R();
  std::lock_guard<std::mutex> g(r.class_m);
  r.session_class.Reset(root + "/class/iscsi_session");
  return r.session_class.List();
}

void KeepOnlySessionFds(const std::string& root, const std::vector<uint32_t>& existing) {
  Registry& r = R();
  std::vector<std::shared_ptr<SessionFds>> dropped;  // closed after the lock is released
  std::lock_guard<std::mutex> g(r.m);
  for (auto it = r.sessions.lower_bound({root, 0}); it != r.sessions.end() && it->first.first == root;) {
    if (!std::binary_search(existing.begin(), existing.end(), it->first.second)) {
      dropped.push_back(std::move(it->second));
      it = r.sessions.erase(it);
    } else {
      ++it;
    }
  }
}

void ForgetSessionFds(const std::string& root, uint32_t sid) {
  Registry& r = R();
  std::shared_ptr<SessionFds> dropped;
  std::lock_guard<std::mutex> g(r.m);
  auto it = r.sessions.find({root, sid});
  if (it == r.sessions.end()) return;
  dropped = std::move(it->second);
  r.sessions.erase(it);
}

size_t ReleaseSessionFds() {
  Registry& r = R();
  size_t held = FdsHeld();
  std::map<std::pair<std::string, uint32_t>, std::shared_ptr<SessionFds>> dropped;
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
