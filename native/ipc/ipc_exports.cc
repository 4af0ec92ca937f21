#include "ipc/ipc_exports.h"

namespace openiscsi {

void InitIpc(Napi::Env env, Napi::Object exports) {
  ipc::InitRecord(env, exports);
  ipc::InitIpcRequest(env, exports);
}

}  // namespace openiscsi
