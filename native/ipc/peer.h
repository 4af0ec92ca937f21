// Who is on the other end of iscsid's socket: SO_PEERCRED, read before a single byte is sent.
#pragma once
#include <sys/types.h>

#include "errors.h"

namespace openiscsi::ipc {

struct PeerCred {
  pid_t pid = 0;  // in our pid namespace; 0 when the listener is in one we cannot see
  uid_t uid = 0;
  gid_t gid = 0;
};

// Reads the credentials the listener had when it called listen() (for a socket-activated iscsid, those are
// systemd's). Fails with ISCSID_COMM_ERR.
bool ReadPeer(int fd, PeerCred* peer, NativeError* error);

// The peer may be sent a request: uid 0 (else ISCSID_PEER_UNTRUSTED); when `expected_pid` > 0, a visible pid
// (else ISCSID_PEER_PID_HIDDEN) equal to it (else ISCSID_PEER_CHANGED). `require_pid`: refuse pid 0 even
// when no pid is expected (identify: the caller needs the pid to choose a layout).
bool CheckPeer(const PeerCred& peer, pid_t expected_pid, bool require_pid, NativeError* error);

}  // namespace openiscsi::ipc
