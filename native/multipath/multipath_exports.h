#pragma once
#include <napi.h>

namespace openiscsi {

void InitMultipath(Napi::Env env, Napi::Object exports);

}  // namespace openiscsi
