// Files and locks: kernel locks on files in root-only directories.
#pragma once
#include <napi.h>

namespace openiscsi {
void InitFiles(Napi::Env env, Napi::Object exports);
}
