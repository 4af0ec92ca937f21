#include "usr/context.h"

#include <cstdarg>
#include <cstdio>

namespace openiscsi {

std::string UsrErrorCode(int rc) {
  switch (rc) {
    case 1: return "USR_BUG";
    case 2: return "USR_SESS_NOT_FOUND";
    case 3: return "USR_NOMEM";
    case 6: return "USR_IDBM";
    case 7: return "USR_INVAL";
    case 12: return "USR_TRANS_NOT_FOUND";
    case 13: return "USR_ACCESS";
    case 22: return "USR_SYSFS_LOOKUP";
    default: return "USR_UNKNOWN";
  }
}

NativeError UsrUnavailable() {
  return NativeError{0, "LIBOPENISCSIUSR_MISSING",
                     "the addon was built without libopeniscsiusr; install libopeniscsiusr-dev and rebuild"};
}

#ifdef HAVE_LIBOPENISCSIUSR
namespace {
constexpr size_t kMaxLogLines = 64;
constexpr size_t kMaxLogLine = 512;
}  // namespace

UsrContext::UsrContext() : ctx_(Usr().iscsi_context_new()) {
  if (ctx_ == nullptr) return;
  Usr().iscsi_context_userdata_set(ctx_, this);
  Usr().iscsi_context_log_priority_set(ctx_, LIBISCSI_LOG_PRIORITY_WARNING);
  Usr().iscsi_context_log_func_set(ctx_, &UsrContext::OnLog);
}

UsrContext::~UsrContext() {
  if (ctx_ != nullptr) Usr().iscsi_context_free(ctx_);
}

void UsrContext::OnLog(iscsi_context* ctx, int /*priority*/, const char* /*file*/, int /*line*/,
                       const char* /*func*/, const char* format, va_list args) {
  auto* self = static_cast<UsrContext*>(Usr().iscsi_context_userdata_get(ctx));
  if (self == nullptr || self->log_.size() >= kMaxLogLines) return;
  char buf[kMaxLogLine];
  int n = vsnprintf(buf, sizeof buf, format, args);
  if (n < 0) return;
  std::string line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  self->log_.push_back(std::move(line));
}

bool UsrContext::Ready(NativeError* error) const {
  if (ctx_ == nullptr) *error = {3, "USR_NOMEM", "iscsi_context_new failed"};
  return ctx_ != nullptr;
}

NativeError UsrContext::Error(int rc, const char* what) const {
  std::string msg = std::string(what) + ": " + Usr().iscsi_strerror(rc);
  for (const auto& l : log_) msg += "; " + l;
  return NativeError{rc, UsrErrorCode(rc), msg};
}
#endif

}  // namespace openiscsi
