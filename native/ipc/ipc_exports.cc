#include "ipc/ipc_exports.h"

namespace openiscsi {

void InitIpc(Napi::Env /*env*/, Napi::Object /*exports*/) {}

}  // namespace openiscsi
