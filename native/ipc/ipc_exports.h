// iscsid management-socket client and node_rec layouts.
#pragma once
#include <napi.h>

namespace openiscsi {
void InitIpc(Napi::Env env, Napi::Object exports);
}
