// One request/response exchange with iscsid over its abstract unix socket. Blocking, so it runs on its own
// thread; bounded by a deadline and cancellable through an eventfd that sits in the same poll set.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "ipc/peer.h"

namespace openiscsi::ipc {

constexpr const char* kIscsidSocketName = "ISCSIADM_ABSTRACT_NAMESPACE";
constexpr size_t kResponseSize = 2464;

// Connects, reads the listener's credentials into `peer` and checks them (CheckPeer, `expected_pid` 0: any
// root peer), then sends the whole `request` and reads exactly kResponseSize bytes into `response`. On failure
// fills `error` with ISCSID_NOT_RUNNING, ISCSID_ACCESS, ISCSID_PEER_UNTRUSTED, ISCSID_PEER_PID_HIDDEN,
// ISCSID_PEER_CHANGED, ISCSID_TIMEOUT, ABORTED or ISCSID_COMM_ERR; a refused peer has been sent nothing.
bool Exchange(const std::string& socket_name, const std::vector<uint8_t>& request, int timeout_ms, int cancel_fd,
              pid_t expected_pid, PeerCred* peer, std::vector<uint8_t>* response, NativeError* error);

// Connects, reads the listener's credentials and closes, sending nothing. Succeeds only for a root peer whose
// pid is visible here (errors as Exchange).
bool Identify(const std::string& socket_name, int timeout_ms, int cancel_fd, PeerCred* peer, NativeError* error);

}  // namespace openiscsi::ipc
