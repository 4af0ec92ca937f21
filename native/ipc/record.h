// Builds iscsiadm request bytes (with the whole node_rec for LOGIN) from a plain JS object, for one ABI
// family. Every field is required (lib/iscsid/record.ts fills the defaults); every string must fit its C buffer
// with its NUL, or the call throws a TypeError: nothing is ever truncated. A field the family has no room for
// (CHAP algorithms before 2.1.1, tcp.congestion_control before git after 2.1.11, …) must hold the value that
// family behaves as if it had, or the call throws: nothing is silently dropped.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace openiscsi::ipc {

// The mirrored ABI families, oldest first (layout.h has the table of releases).
enum class Family { k2_0_874, k2_0_875, k2_0_876, k2_1_1, k2_1_11, k2_1_11_git };

// "2.0.874", "2.0.875", "2.0.876", "2.1.1", "2.1.11", "2.1.11-git"; throws TypeError otherwise.
Family ParseFamily(Napi::Env env, const Napi::Value& v);

size_t RequestSize(Family f);

// command + sid (+ record when `rec` is an object) → request bytes. Throws TypeError on bad input.
std::vector<uint8_t> BuildRequest(Napi::Env env, Family f, uint32_t command, int32_t sid, const Napi::Value& rec);

}  // namespace openiscsi::ipc
