// One command to multipathd over its local socket (what `multipathd <command>` does, without spawning it):
// a size_t length (the command's bytes plus its NUL) then the bytes; the answer framed the same way.
// multipathd listens on the abstract name "\0/org/kernel/linux/storage/multipathd" (newer builds also on
// /run/multipathd.socket, tried second). The peer must be root (SO_PEERCRED) before anything is sent.
#pragma once
#include <string>

#include "errors.h"

namespace openiscsi::multipath {

constexpr const char* kAbstractName = "/org/kernel/linux/storage/multipathd";
constexpr const char* kPathName = "/run/multipathd.socket";
constexpr size_t kMaxReply = 32u << 20;

// Blocking with a deadline; fills `reply` or `error` (MULTIPATHD_NOT_RUNNING, MULTIPATHD_UNTRUSTED,
// MULTIPATHD_TIMEOUT, MULTIPATHD_COMM_ERR).
bool Command(const std::string& abstract_name, const std::string& command, int timeout_ms, std::string* reply, NativeError* error);

}  // namespace openiscsi::multipath
