// Builds iscsiadm request bytes (with the whole node_rec for LOGIN) from a plain JS object, for one ABI
// family. Every field is required (lib/record.ts fills the defaults); every string must fit its C buffer
// with its NUL, or the call throws a TypeError: nothing is ever truncated.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace openiscsi::ipc {

enum class Family { k2_0_874, k2_0_875, k2_1_1, k2_1_11 };

// "2.0.874", "2.0.875", "2.1.1" (2.1.1–2.1.10), "2.1.11"; throws TypeError otherwise.
Family ParseFamily(Napi::Env env, const Napi::Value& v);

size_t RequestSize(Family f);

// command + sid (+ record when `rec` is an object) → request bytes. Throws TypeError on bad input.
std::vector<uint8_t> BuildRequest(Napi::Env env, Family f, uint32_t command, int32_t sid, const Napi::Value& rec);

}  // namespace openiscsi::ipc
