// tryLockFile(dir, name): one attempt at an exclusive flock on <dir>/<name>, on the thread pool. Every step is
// non-blocking (LOCK_NB), so a worker never waits for a holder; the caller (lib/files/locks.ts) retries on
// timers within its deadline and AbortSignal. Resolves with null when another open file holds the lock, else
// with a handle whose release() closes the file (closing is what releases a flock). The lock file is never
// unlinked: a process that unlinks it could free a name another process is about to lock through an old
// descriptor. A handle that is garbage-collected without release() closes its file (RAII through the closure).
#include <sys/file.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "files/files_exports.h"
#include "files/lock_open.h"
#include "promise_worker.h"
#include "unique_fd.h"

namespace openiscsi::files {

namespace {

// The open file behind a handle; shared by the handle's release() closure and nothing else.
struct Held {
  UniqueFd fd;
};

class ReleaseWorker : public PromiseWorker {
 public:
  ReleaseWorker(Napi::Env env, UniqueFd fd) : PromiseWorker(env, "openiscsi:releaseLock"), fd_(std::move(fd)) {}
  void Execute() override { fd_.reset(); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  UniqueFd fd_;
};

Napi::Object MakeHandle(Napi::Env env, UniqueFd fd, const std::string& path) {
  auto held = std::make_shared<Held>();
  held->fd = std::move(fd);
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("path", path);
  handle.Set("release", Napi::Function::New(env, [held](const Napi::CallbackInfo& info) -> Napi::Value {
                // A second release() is a no-op: the file was handed to the first one's worker.
                auto* w = new ReleaseWorker(info.Env(), std::move(held->fd));
                return w->QueuePromise();
              }, "release"));
  return handle;
}

class TryLockWorker : public PromiseWorker {
 public:
  TryLockWorker(Napi::Env env, std::string dir, std::string name)
      : PromiseWorker(env, "openiscsi:tryLockFile"), dir_(std::move(dir)), name_(std::move(name)) {}

  void Execute() override {
    UniqueFd fd;
    if (!OpenLockFile(dir_, name_, &fd, &error_)) return;
    for (;;) {
      if (flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
        fd_ = std::move(fd);
        return;
      }
      if (errno == EINTR) continue;
      if (errno == EWOULDBLOCK) return;  // held: fd closes here, fd_ stays empty
      error_ = {errno, "LOCK_IO", "locking " + dir_ + "/" + name_ + ": " + std::strerror(errno)};
      return;
    }
  }

  Napi::Value Result(Napi::Env env) override {
    if (!fd_) return env.Null();
    return MakeHandle(env, std::move(fd_), dir_ + "/" + name_);
  }

 private:
  std::string dir_;
  std::string name_;
  UniqueFd fd_;
};

// tryLockFile(dir, name) -> Promise<{ path, release(): Promise<void> } | null>
Napi::Value TryLockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsString()) ThrowTypeError(env, "tryLockFile(dir, name)");
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  if (dir.empty() || dir[0] != '/' || dir.size() > 4000 || dir.find('\0') != std::string::npos) ThrowTypeError(env, "dir must be an absolute path");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!ValidLockName(name)) ThrowTypeError(env, "name must be 1..200 characters of [A-Za-z0-9._-], not starting with '.'");
  auto* w = new TryLockWorker(env, std::move(dir), std::move(name));
  return w->QueuePromise();
}

}  // namespace

}  // namespace openiscsi::files

namespace openiscsi {

void InitFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("tryLockFile", Napi::Function::New(env, files::TryLockFile, "tryLockFile"));
}

}  // namespace openiscsi
