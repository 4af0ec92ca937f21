// Export table only: each concern registers its own functions.
#include <napi.h>

#include "files/files_exports.h"
#include "ipc/ipc_exports.h"
#include "multipath/multipath_exports.h"
#include "usr/usr_exports.h"

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("addonVersion", Napi::String::New(env, "0.1.0"));
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  openiscsi::InitUsr(env, exports);
  openiscsi::InitIpc(env, exports);
  openiscsi::InitMultipath(env, exports);
  openiscsi::InitFiles(env, exports);
  return exports;
}

NODE_API_MODULE(openiscsi, InitAddon)
