// Builds iscsiadm request bytes (with the whole node_rec for LOGIN) from a plain JS object, for one ABI
// family. Every field is required (lib/iscsid/record.ts fills the defaults); every string must fit its C buffer
// with its NUL, or the call throws a TypeError: nothing is ever truncated. A field the family has no room for
// (CHAP algorithms before 2.1.1, tcp.congestion_control before 2.1.12, login_redirect_max before 2.1.13, …) must hold the value that
// family behaves as if it had, or the call throws: nothing is silently dropped.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ipc/layout.h"

namespace openiscsi::ipc {

// The mirrored ABI families, oldest first (layout.h has the table of releases).
#define OPENISCSI_FAMILY_ENUM(k, Abi) k,
enum class Family { OPENISCSI_FAMILIES(OPENISCSI_FAMILY_ENUM) };
#undef OPENISCSI_FAMILY_ENUM

// A family's JS name ("2.0.874" ... "2.1.13", each Abi's kName); throws TypeError otherwise.
Family ParseFamily(Napi::Env env, const Napi::Value& v);

size_t RequestSize(Family f);

// command + sid (+ record when `rec` is an object) → request bytes. Throws TypeError on bad input.
std::vector<uint8_t> BuildRequest(Napi::Env env, Family f, uint32_t command, int32_t sid, const Napi::Value& rec);

}  // namespace openiscsi::ipc
