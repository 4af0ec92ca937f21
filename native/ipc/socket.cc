#include "ipc/socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "unique_fd.h"

namespace openiscsi::ipc {

namespace {

NativeError SysError(const char* code, int err, const std::string& what) {
  return NativeError{err, code, what + ": " + std::strerror(err)};
}

int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

bool Exchange(const std::string& socket_name, const std::vector<uint8_t>& request, int timeout_ms, int cancel_fd,
              std::vector<uint8_t>* response, NativeError* error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
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
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int e = errno;
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
  // One write: a partial request would stall iscsid, which reads it with a blocking read in its only thread.
  ssize_t sent = send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  if (sent < 0 && errno != EPIPE && errno != ECONNRESET) {
    *error = SysError("ISCSID_COMM_ERR", errno, "sending the request to iscsid");
    return false;
  }
  // On EPIPE iscsid may already have answered (it rejects unauthorised peers before reading): read on.
  if (sent >= 0 && static_cast<size_t>(sent) != request.size()) {
    *error = NativeError{EIO, "ISCSID_COMM_ERR", "iscsid accepted only part of the request"};
    return false;
  }
  response->assign(kResponseSize, 0);
  size_t got = 0;
  while (got < kResponseSize) {
    pollfd fds[2] = {{fd.get(), POLLIN, 0}, {cancel_fd, POLLIN, 0}};
    int n = poll(fds, 2, RemainingMs(deadline));
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = SysError("ISCSID_COMM_ERR", errno, "waiting for iscsid");
      return false;
    }
    if (fds[1].revents & POLLIN) {
      *error = NativeError{ECANCELED, "ABORTED", "the request to iscsid was aborted"};
      return false;
    }
    if (n == 0) {
      *error = NativeError{ETIMEDOUT, "ISCSID_TIMEOUT", "iscsid did not answer within " + std::to_string(timeout_ms) + " ms"};
      return false;
    }
    ssize_t r = recv(fd.get(), response->data() + got, kResponseSize - got, 0);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
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
