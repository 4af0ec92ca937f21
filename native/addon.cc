// Export table and per-environment data only: each concern registers its own functions.
#include <napi.h>

#include "addon_data.h"
#include "ipc/ipc_exports.h"
#include "usr/usr_exports.h"

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  if (env.GetInstanceData<openiscsi::AddonData>() == nullptr) env.SetInstanceData(new openiscsi::AddonData);
  exports.Set("addonVersion", Napi::String::New(env, "0.1.0"));
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  openiscsi::InitUsr(env, exports);
  openiscsi::InitIpc(env, exports);
  return exports;
}

NODE_API_MODULE(openiscsi, InitAddon)
