// One libopeniscsiusr context per call (the library has no locking of its own), with its log messages
// captured instead of printed to stderr, so errors can name the file the library complained about.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "usr/usr_dl.h"

#include "errors.h"

namespace openiscsi {

#ifdef HAVE_LIBOPENISCSIUSR
class UsrContext {
 public:
  UsrContext();
  ~UsrContext();
  UsrContext(const UsrContext&) = delete;
  UsrContext& operator=(const UsrContext&) = delete;

  iscsi_context* get() const { return ctx_; }
  explicit operator bool() const { return ctx_ != nullptr; }
  const std::vector<std::string>& log() const { return log_; }

  // False, with USR_NOMEM in *error, when iscsi_context_new() failed.
  bool Ready(NativeError* error) const;
  // Builds the error for a failed call, with the library's own log lines as detail.
  NativeError Error(int rc, const char* what) const;

 private:
  static void OnLog(iscsi_context* ctx, int priority, const char* file, int line, const char* func,
                    const char* format, va_list args);
  iscsi_context* ctx_;
  std::vector<std::string> log_;
};
#endif

// Stable code for a libopeniscsiusr rc (LIBISCSI_ERR_*): "USR_" + name.
std::string UsrErrorCode(int rc);

NativeError UsrUnavailable();

}  // namespace openiscsi
