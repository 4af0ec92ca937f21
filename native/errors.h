// Native errors cross into JS as Error objects with a stable `code` string and the numeric `errno`.
// Workers never build them in Execute(): they fill a NativeError and OnError/OnOK turns it into JS.
#pragma once
#include <napi.h>
#include <string>

namespace openiscsi {

struct NativeError {
  int errnum = 0;       // the numeric code from its domain (libopeniscsiusr rc, iscsid err, errno)
  std::string code;     // stable string, e.g. "USR_ACCESS", "IPC_ERR_SESS_NOT_FOUND", "ETIMEDOUT"
  std::string message;  // human sentence, never contains secrets

  bool ok() const { return code.empty(); }
};

Napi::Error ToJsError(Napi::Env env, const NativeError& err);

// Throws a JS TypeError with a stable code; used for argument validation on the JS thread.
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);

}  // namespace openiscsi
