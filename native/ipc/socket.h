// One request/response exchange with iscsid over its abstract unix socket. Blocking, so it runs on its own
// thread; bounded by a deadline and cancellable through an eventfd that sits in the same poll set.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"

namespace openiscsi::ipc {

constexpr const char* kIscsidSocketName = "ISCSIADM_ABSTRACT_NAMESPACE";
constexpr size_t kResponseSize = 2464;

// Sends `request` in one write and reads exactly kResponseSize bytes into `response`.
// On failure fills `error` with ISCSID_NOT_RUNNING, ISCSID_ACCESS, ISCSID_TIMEOUT, ABORTED or ISCSID_COMM_ERR.
bool Exchange(const std::string& socket_name, const std::vector<uint8_t>& request, int timeout_ms, int cancel_fd,
              std::vector<uint8_t>* response, NativeError* error);

}  // namespace openiscsi::ipc
