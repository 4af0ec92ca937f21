// What the addon keeps per Node environment (main thread or worker), as its napi instance data.
#pragma once
#include <napi.h>

#include "usr/session_row_cache.h"

namespace openiscsi {

struct AddonData {
  SessionRowCache session_rows;
};

// Set once when the addon is loaded into an environment (addon.cc); deleted with the environment.
inline AddonData& DataOf(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace openiscsi
