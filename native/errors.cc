#include "errors.h"

namespace openiscsi {

Napi::Error ToJsError(Napi::Env env, const NativeError& err) {
  Napi::Error e = Napi::Error::New(env, err.message.empty() ? err.code : err.message);
  e.Set("code", Napi::String::New(env, err.code));
  e.Set("errno", Napi::Number::New(env, err.errnum));
  return e;
}

void ThrowTypeError(Napi::Env env, const std::string& message) {
  Napi::TypeError e = Napi::TypeError::New(env, message);
  e.Set("code", Napi::String::New(env, "ERR_INVALID_ARG"));
  throw e;
}

}  // namespace openiscsi
