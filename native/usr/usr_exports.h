// libopeniscsiusr read path: ifaces, sessions, nodes, default iface setup.
#pragma once
#include <napi.h>

namespace openiscsi {
void InitUsr(Napi::Env env, Napi::Object exports);
}
