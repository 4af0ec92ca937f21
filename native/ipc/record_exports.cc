// buildRequest(family, command, sid, record?) → Buffer; requestSize(family) → number.
#include "errors.h"
#include "ipc/ipc_exports.h"
#include "ipc/record.h"

namespace openiscsi::ipc {

namespace {

Napi::Value BuildRequestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || info.Length() > 4) ThrowTypeError(env, "buildRequest(family, command, sid[, record])");
  Family f = ParseFamily(env, info[0]);
  if (!info[1].IsNumber()) ThrowTypeError(env, "command must be a number");
  int32_t command = info[1].As<Napi::Number>().Int32Value();
  // 11 (IMMEDIATE_STOP) would shut iscsid down: never built.
  if (command < 1 || command > 19 || command == 11) ThrowTypeError(env, "command must be an iscsiadm command number 1..19 other than 11");
  if (!info[2].IsNumber()) ThrowTypeError(env, "sid must be a number");
  double sid = info[2].As<Napi::Number>().DoubleValue();
  if (!(sid >= 0 && sid <= 2147483647.0) || sid != static_cast<double>(static_cast<int32_t>(sid))) ThrowTypeError(env, "sid must be an integer 0..2147483647");
  std::vector<uint8_t> bytes = BuildRequest(env, f, static_cast<uint32_t>(command), static_cast<int32_t>(sid), info.Length() == 4 ? info[3] : env.Undefined());
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

Napi::Value RequestSizeJs(const Napi::CallbackInfo& info) {
  if (info.Length() != 1) ThrowTypeError(info.Env(), "requestSize(family)");
  return Napi::Number::New(info.Env(), static_cast<double>(RequestSize(ParseFamily(info.Env(), info[0]))));
}

}  // namespace

void InitRecord(Napi::Env env, Napi::Object exports) {
  exports.Set("buildRequest", Napi::Function::New(env, BuildRequestJs, "buildRequest"));
  exports.Set("requestSize", Napi::Function::New(env, RequestSizeJs, "requestSize"));
}

}  // namespace openiscsi::ipc
