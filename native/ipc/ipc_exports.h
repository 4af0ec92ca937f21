// iscsid management-socket client and node_rec layouts.
#pragma once
#include <napi.h>

namespace openiscsi {
void InitIpc(Napi::Env env, Napi::Object exports);
}

namespace openiscsi::ipc {
void InitIpcRequest(Napi::Env env, Napi::Object exports);
void InitRecord(Napi::Env env, Napi::Object exports);
}  // namespace openiscsi::ipc
