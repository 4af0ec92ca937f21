// multipathdCommand(command, timeoutMs[, socketName]) → Promise<string>: one command on a pool thread,
// bounded by its deadline (multipathd answers within seconds; its own reply timeout is 4 s).
// dmRemoveMap(uuid) → Promise<void>: DM_DEV_REMOVE on a pool thread (the kernel suspends and flushes the
// map first, which can take as long as its I/O does).
#include "multipath/multipath_exports.h"

#include "multipath/dm.h"
#include "multipath/multipathd.h"
#include "promise_worker.h"

namespace openiscsi {

namespace {

class CommandWorker : public PromiseWorker {
 public:
  CommandWorker(Napi::Env env, std::string name, std::string command, int timeout_ms)
      : PromiseWorker(env, "openiscsi:multipathd"), name_(std::move(name)), command_(std::move(command)), timeout_ms_(timeout_ms) {}

  void Execute() override { multipath::Command(name_, command_, timeout_ms_, &reply_, &error_); }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, reply_); }

 private:
  std::string name_, command_, reply_;
  int timeout_ms_;
};

Napi::Value MultipathdCommand(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) ThrowTypeError(env, "multipathdCommand(command, timeoutMs[, socketName])");
  std::string command = info[0].As<Napi::String>().Utf8Value();
  if (command.empty() || command.size() > 4096 || command.find('\0') != std::string::npos) ThrowTypeError(env, "command must be 1..4096 bytes without NUL");
  double t = info[1].As<Napi::Number>().DoubleValue();
  if (!(t >= 1 && t <= 600000)) ThrowTypeError(env, "timeoutMs must be between 1 and 600000");
  std::string name = multipath::kAbstractName;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsString()) ThrowTypeError(env, "socketName must be a string");
    name = info[2].As<Napi::String>().Utf8Value();
    if (name.empty() || name.size() > 100) ThrowTypeError(env, "socketName must be 1..100 bytes");
  }
  auto* w = new CommandWorker(env, std::move(name), std::move(command), static_cast<int>(t));
  return w->QueuePromise();
}

class RemoveWorker : public PromiseWorker {
 public:
  RemoveWorker(Napi::Env env, std::string uuid) : PromiseWorker(env, "openiscsi:dm-remove"), uuid_(std::move(uuid)) {}

  void Execute() override { multipath::RemoveMap(uuid_, &error_); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  std::string uuid_;
};

Napi::Value DmRemoveMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowTypeError(env, "dmRemoveMap(uuid)");
  std::string uuid = info[0].As<Napi::String>().Utf8Value();
  if (uuid.empty() || uuid.size() > 128 || uuid.find('\0') != std::string::npos) ThrowTypeError(env, "uuid must be 1..128 bytes without NUL");
  auto* w = new RemoveWorker(env, std::move(uuid));
  return w->QueuePromise();
}

}  // namespace

void InitMultipath(Napi::Env env, Napi::Object exports) {
  exports.Set("multipathdCommand", Napi::Function::New(env, MultipathdCommand, "multipathdCommand"));
  exports.Set("dmRemoveMap", Napi::Function::New(env, DmRemoveMap, "dmRemoveMap"));
}

}  // namespace openiscsi
