#include "ipc/peer.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace openiscsi::ipc {

bool ReadPeer(int fd, PeerCred* peer, NativeError* error) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
    int e = errno != 0 ? errno : EPROTO;
    *error = NativeError{e, "ISCSID_COMM_ERR", std::string("reading the credentials of iscsid's socket (SO_PEERCRED): ") + std::strerror(e)};
    return false;
  }
  peer->pid = cred.pid;
  peer->uid = cred.uid;
  peer->gid = cred.gid;
  return true;
}

bool CheckPeer(const PeerCred& peer, pid_t expected_pid, bool require_pid, NativeError* error) {
  if (peer.uid != 0) {
    *error = NativeError{EPERM, "ISCSID_PEER_UNTRUSTED",
                         "the process listening on iscsid's socket runs as uid " + std::to_string(peer.uid) + " (pid " + std::to_string(peer.pid) +
                             "), not root: it is not iscsid, and nothing was sent to it"};
    return false;
  }
  if (peer.pid == 0 && (require_pid || expected_pid > 0)) {
    *error = NativeError{ESRCH, "ISCSID_PEER_PID_HIDDEN",
                         "iscsid runs in another pid namespace (its socket reports pid 0 here), so its executable, and with it the request "
                         "layout, cannot be identified; nothing was sent"};
    return false;
  }
  if (expected_pid > 0 && peer.pid != expected_pid) {
    *error = NativeError{EAGAIN, "ISCSID_PEER_CHANGED",
                         "the process listening on iscsid's socket is now pid " + std::to_string(peer.pid) + ", not pid " +
                             std::to_string(expected_pid) + " whose executable chose the request layout; nothing was sent"};
    return false;
  }
  return true;
}

}  // namespace openiscsi::ipc
