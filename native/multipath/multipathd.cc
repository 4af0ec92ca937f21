#include "multipath/multipathd.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "unique_fd.h"

namespace openiscsi::multipath {

namespace {

using Clock = std::chrono::steady_clock;

NativeError Err(const char* code, int err, const std::string& what) {
  return NativeError{err, code, err ? what + ": " + std::strerror(err) : what};
}

int Left(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// Connects without blocking; ECONNREFUSED/ENOENT when nobody listens on that name.
int ConnectTo(const sockaddr_un& addr, socklen_t len, UniqueFd* out) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return errno;
  for (;;) {
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0) break;
    if (errno == EINTR) continue;
    return errno;
  }
  *out = std::move(fd);
  return 0;
}

bool Io(int fd, bool write, char* p, size_t n, Clock::time_point deadline, int timeout_ms, NativeError* error) {
  while (n > 0) {
    ssize_t r = write ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      *error = Err("MULTIPATHD_COMM_ERR", EPIPE, "multipathd closed the connection");
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      *error = Err("MULTIPATHD_COMM_ERR", errno, write ? "sending to multipathd" : "reading multipathd's answer");
      return false;
    }
    pollfd pfd{fd, static_cast<short>(write ? POLLOUT : POLLIN), 0};
    int w = poll(&pfd, 1, Left(deadline));
    if (w == 0) {
      *error = NativeError{ETIMEDOUT, "MULTIPATHD_TIMEOUT", "multipathd did not answer within " + std::to_string(timeout_ms) + " ms"};
      return false;
    }
    if (w < 0 && errno != EINTR) {
      *error = Err("MULTIPATHD_COMM_ERR", errno, "waiting for multipathd");
      return false;
    }
  }
  return true;
}

}  // namespace

bool Command(const std::string& abstract_name, const std::string& command, int timeout_ms, std::string* reply, NativeError* error) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (abstract_name.size() + 1 > sizeof addr.sun_path) {
    *error = NativeError{EINVAL, "MULTIPATHD_COMM_ERR", "socket name too long"};
    return false;
  }
  std::memcpy(addr.sun_path + 1, abstract_name.data(), abstract_name.size());
  UniqueFd fd;
  int e = ConnectTo(addr, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size()), &fd);
  if ((e == ECONNREFUSED || e == ENOENT) && abstract_name == kAbstractName) {
    sockaddr_un path{};
    path.sun_family = AF_UNIX;
    std::strncpy(path.sun_path, kPathName, sizeof path.sun_path - 1);
    e = ConnectTo(path, sizeof path, &fd);
  }
  if (e == ECONNREFUSED || e == ENOENT) {
    *error = NativeError{e, "MULTIPATHD_NOT_RUNNING", "multipathd is not listening on its socket (is it running, and in this network namespace?)"};
    return false;
  }
  if (e == EAGAIN) {
    *error = NativeError{e, "MULTIPATHD_TIMEOUT", "multipathd's listen queue is full"};
    return false;
  }
  if (e != 0) {
    *error = Err("MULTIPATHD_COMM_ERR", e, "connecting to multipathd");
    return false;
  }
  ucred cred{};
  socklen_t cred_len = sizeof cred;
  if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0) {
    *error = Err("MULTIPATHD_COMM_ERR", errno, "SO_PEERCRED on multipathd's socket");
    return false;
  }
  if (cred.uid != 0) {
    *error = NativeError{EPERM, "MULTIPATHD_UNTRUSTED",
                         "the process holding multipathd's socket runs as uid " + std::to_string(cred.uid) + ", not root; nothing was sent"};
    return false;
  }
  size_t len = command.size() + 1;
  std::string framed(reinterpret_cast<const char*>(&len), sizeof len);
  framed.append(command.c_str(), len);
  if (!Io(fd.get(), true, framed.data(), framed.size(), deadline, timeout_ms, error)) return false;
  size_t reply_len = 0;
  if (!Io(fd.get(), false, reinterpret_cast<char*>(&reply_len), sizeof reply_len, deadline, timeout_ms, error)) return false;
  if (reply_len == 0 || reply_len > kMaxReply) {
    *error = NativeError{ERANGE, "MULTIPATHD_COMM_ERR", "multipathd announced an answer of " + std::to_string(reply_len) + " bytes"};
    return false;
  }
  reply->assign(reply_len, '\0');
  if (!Io(fd.get(), false, reply->data(), reply_len, deadline, timeout_ms, error)) return false;
  reply->resize(strnlen(reply->c_str(), reply_len));
  return true;
}

}  // namespace openiscsi::multipath
