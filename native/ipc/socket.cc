#include "ipc/socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "ipc/peer.h"
#include "unique_fd.h"

namespace openiscsi::ipc {

namespace {

using Clock = std::chrono::steady_clock;

NativeError SysError(const char* code, int err, const std::string& what) {
  return NativeError{err, code, what + ": " + std::strerror(err)};
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

NativeError Timeout(int timeout_ms, const std::string& what) {
  return NativeError{ETIMEDOUT, "ISCSID_TIMEOUT", "iscsid " + what + " within " + std::to_string(timeout_ms) + " ms"};
}

NativeError Aborted() { return NativeError{ECANCELED, "ABORTED", "the request to iscsid was aborted"}; }

// Waits until `fd` is ready for `events` (fd < 0: only the clock and the cancel fd), the cancel fd fires, or
// the deadline passes. Returns 1 when ready, 0 on timeout, -1 when cancelled, -2 on a poll error (errno set).
int Wait(int fd, short events, int cancel_fd, Clock::time_point deadline) {
  for (;;) {
    pollfd fds[2] = {{cancel_fd, POLLIN, 0}, {fd, events, 0}};  // poll() ignores a negative fd
    int n = poll(fds, 2, RemainingMs(deadline));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -2;
    }
    if (fds[0].revents & POLLIN) return -1;
    return n == 0 ? 0 : 1;
  }
}

// Wait() within an exchange: true when `fd` is ready; otherwise false with the error (aborted, iscsid
// `timeout_what` in time, or the poll failing while `poll_what`).
bool WaitReady(int fd, short events, int cancel_fd, Clock::time_point deadline, int timeout_ms, const char* timeout_what,
               const char* poll_what, NativeError* error) {
  int w = Wait(fd, events, cancel_fd, deadline);
  if (w == -1) {
    *error = Aborted();
  } else if (w == 0) {
    *error = Timeout(timeout_ms, timeout_what);
  } else if (w == -2) {
    *error = SysError("ISCSID_COMM_ERR", errno, poll_what);
  }
  return w == 1;
}

// Connects to the abstract name within the deadline. Non-blocking, so that connect() cannot hang: when iscsid
// is stuck its listen queue fills, and a blocking connect to a unix socket with a full queue waits with no limit.
bool Connect(const std::string& socket_name, int timeout_ms, int cancel_fd, Clock::time_point deadline, UniqueFd* out,
             NativeError* error) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    *error = SysError("ISCSID_COMM_ERR", errno, "socket");
    return false;
  }
  // iscsid binds "\0" + name with addrlen = offsetof(sun_path) + 1 + strlen(name): exactly that, no padding.
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_name.size() + 1 > sizeof(addr.sun_path)) {
    *error = NativeError{EINVAL, "ISCSID_COMM_ERR", "socket name too long"};
    return false;
  }
  std::memcpy(addr.sun_path + 1, socket_name.data(), socket_name.size());
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + socket_name.size());
  for (;;) {
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0) break;
    int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN) {
      // The listen queue is full (iscsid is busy or stuck): retry until the deadline, abortable.
      int w = Wait(-1, 0, cancel_fd, std::min(deadline, Clock::now() + std::chrono::milliseconds(20)));
      if (w == -1) {
        *error = Aborted();
        return false;
      }
      if (RemainingMs(deadline) == 0) {
        *error = Timeout(timeout_ms, "did not accept the connection (its queue stayed full)");
        return false;
      }
      continue;
    }
    if (e == ECONNREFUSED || e == ENOENT) {
      *error = NativeError{e, "ISCSID_NOT_RUNNING",
                           "iscsid is not listening on its management socket (is it running, and in this network namespace?)"};
    } else if (e == EACCES || e == EPERM) {
      *error = SysError("ISCSID_ACCESS", e, "connecting to iscsid");
    } else {
      *error = SysError("ISCSID_COMM_ERR", e, "connecting to iscsid");
    }
    return false;
  }
  *out = std::move(fd);
  return true;
}

}  // namespace

bool Identify(const std::string& socket_name, int timeout_ms, int cancel_fd, PeerCred* peer, NativeError* error) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  UniqueFd fd;
  if (!Connect(socket_name, timeout_ms, cancel_fd, deadline, &fd, error)) return false;
  if (!ReadPeer(fd.get(), peer, error)) return false;
  return CheckPeer(*peer, 0, true, error);
}

bool Exchange(const std::string& socket_name, const std::vector<uint8_t>& request, int timeout_ms, int cancel_fd,
              pid_t expected_pid, PeerCred* peer, std::vector<uint8_t>* response, NativeError* error) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  UniqueFd fd;
  if (!Connect(socket_name, timeout_ms, cancel_fd, deadline, &fd, error)) return false;
  // Before a single byte leaves (the request may carry CHAP secrets): the listener must be root, and the
  // process whose executable chose the layout.
  if (!ReadPeer(fd.get(), peer, error) || !CheckPeer(*peer, expected_pid, false, error)) return false;
  // The whole request, within the deadline: a partial one stalls iscsid, which reads it with a blocking read in
  // its only thread, for every session on the host. A fresh unix socket's send buffer takes a whole request;
  // the loop only finishes a write the kernel split. Any failure returns, and the descriptor closes.
  size_t sent = 0;
  bool peer_gone = false;
  while (sent < request.size()) {
    ssize_t n = send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) {
      // iscsid rejects unauthorised peers before reading the request, then closes: its answer may be waiting.
      peer_gone = true;
      break;
    }
    if (errno != EAGAIN) {
      *error = SysError("ISCSID_COMM_ERR", errno, "sending the request to iscsid");
      return false;
    }
    if (!WaitReady(fd.get(), POLLOUT, cancel_fd, deadline, timeout_ms, "did not take the request", "sending the request to iscsid", error)) return false;
  }
  response->assign(kResponseSize, 0);
  size_t got = 0;
  while (got < kResponseSize) {
    if (!WaitReady(fd.get(), POLLIN, cancel_fd, deadline, timeout_ms, "did not answer", "waiting for iscsid", error)) return false;
    ssize_t r = recv(fd.get(), response->data() + got, kResponseSize - got, 0);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (peer_gone && got == 0) {
        *error = NativeError{EPIPE, "ISCSID_COMM_ERR", "iscsid closed the connection before taking the request"};
        return false;
      }
      *error = SysError("ISCSID_COMM_ERR", errno, "reading iscsid's answer");
      return false;
    }
    if (r == 0) {
      *error = NativeError{EPIPE, "ISCSID_COMM_ERR",
                           "iscsid closed the connection after " + std::to_string(got) + " of " + std::to_string(kResponseSize) + " bytes"};
      return false;
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace openiscsi::ipc
