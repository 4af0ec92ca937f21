// Async workers for the read path (sessions, ifaces, nodes, hosts). libopeniscsiusr contexts are created on the worker thread.
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include <algorithm>
#include <unistd.h>

#include "promise_worker.h"
#include "usr/context.h"
#include "usr/host_sysfs.h"
#include "usr/records.h"
#include "usr/records_copy.h"
#include "usr/session_fds.h"
#include "usr/session_reader.h"
#include "usr/usr_exports.h"

namespace openiscsi {

namespace {

// libopeniscsiusr reads the real /sys (compiled in), so the sysfs walk that completes its answer does too.
const std::string kSysfs = "/sys";

#ifdef HAVE_LIBOPENISCSIUSR
// Owns the arrays libopeniscsiusr hands out.
struct IfaceList {
  iscsi_iface** items = nullptr;
  uint32_t count = 0;
  ~IfaceList() { if (items != nullptr) Usr().iscsi_ifaces_free(items, count); }
};
struct NodeList {
  iscsi_node** items = nullptr;
  uint32_t count = 0;
  ~NodeList() { if (items != nullptr) Usr().iscsi_nodes_free(items, count); }
};
#endif

// libopeniscsiusr's ifaces and nodes listings spin for up to 30 s while lock.write exists. The worker looks first
// and answers DB_LOCK_HELD instead, so the caller waits on timers (lib/files/db-lock.ts) and the common case, no
// lock, costs one trip to the thread pool rather than a check and then the call.
const char kDefaultDbLock[] = "/run/lock/iscsi/lock.write";

// Any answer but "it exists" lets the listing go ahead: libopeniscsiusr reports its own errors (EACCES, ...).
bool DbLockFree(const std::string& lock_file, NativeError* error) {
  if (access(lock_file.c_str(), F_OK) != 0) return true;
  *error = {EBUSY, "DB_LOCK_HELD", "open-iscsi's database lock " + lock_file + " is held"};
  return false;
}

// Reads and serialises on the worker thread; the JS thread runs one JSON.parse (json_writer.h says why).
class JsonResultWorker : public PromiseWorker {
 public:
  using PromiseWorker::PromiseWorker;
  void Execute() final {
    Read();
    if (!error_.ok()) return;
    JsonWriter w;
    Serialize(w);
    json_ = w.Take();
  }
  Napi::Value Result(Napi::Env env) final { return ParseJson(env, json_); }

 protected:
  virtual void Read() = 0;
  virtual void Serialize(JsonWriter& w) const = 0;

 private:
  std::string json_;
};

template <typename Record>
void WriteArray(JsonWriter& w, const std::vector<Record>& records) {
  w.BeginArray();
  for (const Record& r : records) WriteJson(w, r);
  w.EndArray();
}

// Each session's row is serialised on its own (session_reader.h); the JS thread parses them together
// with one JSON.parse.
class SessionsWorker : public PromiseWorker {
 public:
  SessionsWorker(Napi::Env env, SessionFilter filter, SessionSource source)
      : PromiseWorker(env, "openiscsi:SessionsWorker"), filter_(std::move(filter)), source_(source) {}
  void Execute() override {
    listing_ = ReadSessions(kSysfs, filter_, source_);
    if (!listing_.error.ok()) error_ = listing_.error;
  }
  Napi::Value Result(Napi::Env env) override {
    std::string rows = "[";
    for (size_t i = 0; i < listing_.rows.size(); ++i) {
      if (i > 0) rows.push_back(',');
      rows.append(listing_.rows[i]);
    }
    rows.push_back(']');
    Napi::Object out = Napi::Object::New(env);
    out.Set("sessions", ParseJson(env, rows));
    Napi::Array ids = Napi::Array::New(env, listing_.listed.size());
    for (uint32_t i = 0; i < listing_.listed.size(); ++i) ids.Set(i, Napi::Number::New(env, listing_.listed[i]));
    out.Set("sysfsSessionIds", ids);
    return out;
  }

 private:
  SessionFilter filter_;
  SessionSource source_;
  SessionListing listing_;
};

class SessionWorker : public JsonResultWorker {
 public:
  SessionWorker(Napi::Env env, uint32_t sid, SessionSource source)
      : JsonResultWorker(env, "openiscsi:SessionWorker"), sid_(sid), source_(source) {}
  void Read() override { session_ = ReadSession(kSysfs, sid_, source_, &error_); }
  void Serialize(JsonWriter& w) const override { WriteRow(w, session_); }

 private:
  uint32_t sid_;
  SessionSource source_;
  SessionRecord session_;
};

class IfacesWorker : public JsonResultWorker {
 public:
  IfacesWorker(Napi::Env env, bool setup_defaults, std::string lock_file)
      : JsonResultWorker(env, "openiscsi:IfacesWorker"), setup_defaults_(setup_defaults), lock_file_(std::move(lock_file)) {}
  void Read() override {
#ifdef HAVE_LIBOPENISCSIUSR
    if (!UsrLoad(&error_) || !DbLockFree(lock_file_, &error_)) return;
    UsrContext ctx;
    if (!ctx.Ready(&error_)) return;
    if (setup_defaults_) {
      int rc = Usr().iscsi_default_iface_setup(ctx.get());
      if (rc != 0) { error_ = ctx.Error(rc, "setting up default ifaces"); return; }
    }
    IfaceList list;
    int rc = Usr().iscsi_ifaces_get(ctx.get(), &list.items, &list.count);
    if (rc != 0) { error_ = ctx.Error(rc, "listing ifaces"); return; }
    for (uint32_t i = 0; i < list.count; ++i) ifaces_.push_back(CopyIface(list.items[i]));
#else
    error_ = UsrUnavailable();
#endif
  }
  void Serialize(JsonWriter& w) const override { WriteArray(w, ifaces_); }

 private:
  bool setup_defaults_;
  std::string lock_file_;
  std::vector<IfaceRecord> ifaces_;
};

class IfaceWorker : public JsonResultWorker {
 public:
  IfaceWorker(Napi::Env env, std::string name) : JsonResultWorker(env, "openiscsi:IfaceWorker"), name_(std::move(name)) {}
  void Read() override {
#ifdef HAVE_LIBOPENISCSIUSR
    if (!UsrLoad(&error_)) return;
    UsrContext ctx;
    if (!ctx.Ready(&error_)) return;
    iscsi_iface* raw = nullptr;
    int rc = Usr().iscsi_iface_get(ctx.get(), name_.c_str(), &raw);
    std::unique_ptr<iscsi_iface, decltype(&iscsi_iface_free)> i(raw, Usr().iscsi_iface_free);
    if (rc != 0) { error_ = ctx.Error(rc, ("reading iface " + name_).c_str()); return; }
    iface_ = CopyIface(i.get());
#else
    error_ = UsrUnavailable();
#endif
  }
  void Serialize(JsonWriter& w) const override { WriteJson(w, iface_); }

 private:
  std::string name_;
  IfaceRecord iface_;
};

class NodesWorker : public JsonResultWorker {
 public:
  NodesWorker(Napi::Env env, std::string lock_file) : JsonResultWorker(env, "openiscsi:NodesWorker"), lock_file_(std::move(lock_file)) {}
  void Read() override {
#ifdef HAVE_LIBOPENISCSIUSR
    if (!UsrLoad(&error_) || !DbLockFree(lock_file_, &error_)) return;
    UsrContext ctx;
    if (!ctx.Ready(&error_)) return;
    NodeList list;
    int rc = Usr().iscsi_nodes_get(ctx.get(), &list.items, &list.count);
    if (rc != 0) { error_ = ctx.Error(rc, "listing nodes"); return; }
    for (uint32_t i = 0; i < list.count; ++i) nodes_.push_back(CopyNode(list.items[i]));
#else
    error_ = UsrUnavailable();
#endif
  }
  void Serialize(JsonWriter& w) const override { WriteArray(w, nodes_); }

 private:
  std::string lock_file_;
  std::vector<NodeRecord> nodes_;
};

// Every iscsi_host under a sysfs root (a test seam; default /sys).
class HostsWorker : public JsonResultWorker {
 public:
  HostsWorker(Napi::Env env, std::string root) : JsonResultWorker(env, "openiscsi:HostsWorker"), root_(std::move(root)) {}
  void Read() override { hosts_ = ReadHosts(root_); }
  void Serialize(JsonWriter& w) const override { WriteArray(w, hosts_); }

 private:
  std::string root_;
  std::vector<HostRecord> hosts_;
};

void ExpectArgs(const Napi::CallbackInfo& info, size_t n) {
  if (info.Length() != n) {
    ThrowTypeError(info.Env(), "expected " + std::to_string(n) + " argument(s), got " + std::to_string(info.Length()));
  }
}

// An optional absolute path argument (a test seam): the lock file of the listings that take open-iscsi's
// database lock, the sysfs root of the host listing.
std::string PathArg(const Napi::CallbackInfo& info, const char* what, const char* fallback) {
  if (info.Length() > 1) ThrowTypeError(info.Env(), "expected at most 1 argument, got " + std::to_string(info.Length()));
  if (info.Length() == 0 || info[0].IsUndefined()) return fallback;
  if (!info[0].IsString()) ThrowTypeError(info.Env(), std::string(what) + " must be a string");
  std::string f = info[0].As<Napi::String>().Utf8Value();
  if (f.empty() || f[0] != '/' || f.size() >= PATH_MAX || f.find('\0') != std::string::npos) {
    ThrowTypeError(info.Env(), std::string(what) + " must be an absolute path shorter than PATH_MAX");
  }
  return f;
}

std::string LockFileArg(const Napi::CallbackInfo& info) { return PathArg(info, "lock file", kDefaultDbLock); }

// { target?: string, sids?: number[], libopeniscsiusr?: boolean }; `target` and `sids` limit the full reads.
struct SessionReadArgs {
  SessionFilter filter;
  SessionSource source = SessionSource::kSysfs;
};

SessionReadArgs ParseSessionReadArgs(const Napi::Env& env, const Napi::Value& v, bool allow_target) {
  SessionReadArgs a;
  if (v.IsUndefined()) return a;
  if (!v.IsObject() || v.IsArray()) ThrowTypeError(env, "options must be an object");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value t = o.Get("target");
  if (!t.IsUndefined()) {
    if (!allow_target) ThrowTypeError(env, "target is not an option here");
    if (!t.IsString()) ThrowTypeError(env, "target must be a string");
    a.filter.target = t.As<Napi::String>().Utf8Value();
    if (a.filter.target.empty() || a.filter.target.size() > 223 || a.filter.target.find('\0') != std::string::npos) {
      ThrowTypeError(env, "target must be 1..223 bytes");
    }
  }
  Napi::Value ids = o.Get("sids");
  if (!ids.IsUndefined()) {
    if (!allow_target) ThrowTypeError(env, "sids is not an option here");
    if (!ids.IsArray()) ThrowTypeError(env, "sids must be an array");
    Napi::Array arr = ids.As<Napi::Array>();
    if (arr.Length() > 65536) ThrowTypeError(env, "sids must have at most 65536 entries");
    a.filter.by_sid = true;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value v = arr.Get(i);
      double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d))) ThrowTypeError(env, "sids must be integers between 0 and 4294967295");
      a.filter.sids.push_back(static_cast<uint32_t>(d));
    }
    std::sort(a.filter.sids.begin(), a.filter.sids.end());
  }
  Napi::Value u = o.Get("libopeniscsiusr");
  if (!u.IsUndefined()) {
    if (!u.IsBoolean()) ThrowTypeError(env, "libopeniscsiusr must be a boolean");
    if (u.As<Napi::Boolean>().Value()) a.source = SessionSource::kLibopeniscsiusr;
  }
  return a;
}

Napi::Value GetSessions(const Napi::CallbackInfo& info) {
  if (info.Length() > 1) ThrowTypeError(info.Env(), "expected at most 1 argument, got " + std::to_string(info.Length()));
  SessionReadArgs a = ParseSessionReadArgs(info.Env(), info.Length() == 1 ? info[0] : info.Env().Undefined(), true);
  return (new SessionsWorker(info.Env(), std::move(a.filter), a.source))->QueuePromise();
}

Napi::Value GetSession(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || info.Length() > 2) ThrowTypeError(info.Env(), "expected 1 or 2 arguments, got " + std::to_string(info.Length()));
  if (!info[0].IsNumber()) ThrowTypeError(info.Env(), "sid must be a number");
  double sid = info[0].As<Napi::Number>().DoubleValue();
  if (!(sid >= 0 && sid <= 4294967295.0) || sid != static_cast<double>(static_cast<uint32_t>(sid))) {
    ThrowTypeError(info.Env(), "sid must be an integer between 0 and 4294967295");
  }
  SessionReadArgs a = ParseSessionReadArgs(info.Env(), info.Length() == 2 ? info[1] : info.Env().Undefined(), false);
  return (new SessionWorker(info.Env(), static_cast<uint32_t>(sid), a.source))->QueuePromise();
}

// Closes the sysfs descriptors kept for re-reading; returns how many there were. Synchronous: no I/O but
// close().
Napi::Value ReleaseSysfsFds(const Napi::CallbackInfo& info) {
  ExpectArgs(info, 0);
  return Napi::Number::New(info.Env(), static_cast<double>(ReleaseSessionFds()));
}

Napi::Value GetIfaces(const Napi::CallbackInfo& info) {
  return (new IfacesWorker(info.Env(), false, LockFileArg(info)))->QueuePromise();
}

Napi::Value SetupDefaultIfaces(const Napi::CallbackInfo& info) {
  return (new IfacesWorker(info.Env(), true, LockFileArg(info)))->QueuePromise();
}

// libopeniscsiusr asserts (aborting the process) on empty names, and builds paths from them.
Napi::Value GetIface(const Napi::CallbackInfo& info) {
  ExpectArgs(info, 1);
  if (!info[0].IsString()) ThrowTypeError(info.Env(), "iface name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.empty() || name.size() > 64 || name.find('/') != std::string::npos || name == "." || name == ".." ||
      name.find('\0') != std::string::npos) {
    ThrowTypeError(info.Env(), "iface name must be 1..64 bytes without '/' and not '.' or '..'");
  }
  return (new IfaceWorker(info.Env(), std::move(name)))->QueuePromise();
}

Napi::Value GetNodes(const Napi::CallbackInfo& info) {
  return (new NodesWorker(info.Env(), LockFileArg(info)))->QueuePromise();
}

Napi::Value GetHosts(const Napi::CallbackInfo& info) {
  return (new HostsWorker(info.Env(), PathArg(info, "sysfs root", kSysfs.c_str())))->QueuePromise();
}

}  // namespace

void InitUsr(Napi::Env env, Napi::Object exports) {
  // Whether libopeniscsiusr loads: the first read loads it (once per process, on the calling thread).
  exports.DefineProperty(Napi::PropertyDescriptor::Accessor(
      env, exports, "hasLibopeniscsiusr",
      [](const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef HAVE_LIBOPENISCSIUSR
        return Napi::Boolean::New(info.Env(), UsrLoad(nullptr));
#else
        return Napi::Boolean::New(info.Env(), false);
#endif
      },
      napi_enumerable));
#ifdef HAVE_LIBOPENISCSIUSR
  exports.Set("buildHasLibopeniscsiusr", Napi::Boolean::New(env, true));
#else
  exports.Set("buildHasLibopeniscsiusr", Napi::Boolean::New(env, false));
#endif
  // Why it does not (the loader's message), or null.
  exports.Set("libopeniscsiusrError", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    NativeError e;
#ifdef HAVE_LIBOPENISCSIUSR
    if (UsrLoad(&e)) return info.Env().Null();
#else
    e = UsrUnavailable();
#endif
    return Napi::String::New(info.Env(), e.message);
  }, "libopeniscsiusrError"));
  exports.Set("getSessions", Napi::Function::New(env, GetSessions, "getSessions"));
  exports.Set("getSession", Napi::Function::New(env, GetSession, "getSession"));
  exports.Set("releaseSysfsFds", Napi::Function::New(env, ReleaseSysfsFds, "releaseSysfsFds"));
  exports.Set("getIfaces", Napi::Function::New(env, GetIfaces, "getIfaces"));
  exports.Set("getIface", Napi::Function::New(env, GetIface, "getIface"));
  exports.Set("setupDefaultIfaces", Napi::Function::New(env, SetupDefaultIfaces, "setupDefaultIfaces"));
  exports.Set("getNodes", Napi::Function::New(env, GetNodes, "getNodes"));
  exports.Set("getHosts", Napi::Function::New(env, GetHosts, "getHosts"));
}

}  // namespace openiscsi
