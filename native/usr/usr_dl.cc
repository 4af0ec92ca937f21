#include "usr/usr_dl.h"

#ifdef HAVE_LIBOPENISCSIUSR
#include <dlfcn.h>

#include <mutex>
#include <string>

namespace openiscsi {

namespace {

constexpr char kLibrary[] = "libopeniscsiusr.so.0";

struct Loaded {
  UsrApi api;
  bool ok = false;
  std::string why;
};

Loaded& State() {
  static Loaded loaded;
  return loaded;
}

void LoadOnce() {
  Loaded& l = State();
  // Never closed: the pointers stay valid for the life of the process.
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* e = dlerror();
    l.why = e != nullptr ? e : "dlopen failed";
    return;
  }
  bool all = true;
#define OPENISCSI_USR_RESOLVE(name)                                                  \
  l.api.name = reinterpret_cast<decltype(l.api.name)>(dlsym(handle, #name));         \
  if (l.api.name == nullptr && all) {                                                \
    all = false;                                                                     \
    l.why = std::string(kLibrary) + " has no " #name;                  \
  }
  OPENISCSI_USR_FUNCTIONS(OPENISCSI_USR_RESOLVE)
#undef OPENISCSI_USR_RESOLVE
  l.ok = all;
}

}  // namespace

bool UsrLoad(NativeError* error) {
  static std::once_flag once;
  std::call_once(once, LoadOnce);
  const Loaded& l = State();
  if (!l.ok && error != nullptr) {
    *error = NativeError{0, "LIBOPENISCSIUSR_MISSING",
                         "libopeniscsiusr cannot be loaded (" + l.why +
                             "); install it (Debian/Ubuntu: apt-get install libopeniscsiusr). Login, logout, "
                             "discovery and sessions() do not need it"};
  }
  return l.ok;
}

const UsrApi& Usr() { return State().api; }

}  // namespace openiscsi
#endif
