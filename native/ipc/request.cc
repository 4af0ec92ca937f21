// ipcRequest() and identifyIscsid(): one exchange (or one credentials check) with iscsid on a dedicated thread (a LOGIN answer can take minutes, which
// must not hold one of libuv's four pool threads), settled on the JS thread through a thread-safe
// function. Returns { promise, cancel }; cancel() wakes the thread through an eventfd.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <system_error>
#include <thread>

#include "errors.h"
#include "ipc/ipc_exports.h"
#include "ipc/layout.h"
#include "ipc/socket.h"
#include "unique_fd.h"

namespace openiscsi::ipc {

namespace {

struct Call {
  std::vector<uint8_t> request;
  std::string socket_name;
  int timeout_ms = 0;
  // identifyIscsid(): connect, read the peer's credentials, close; nothing is sent.
  bool identify_only = false;
  pid_t expected_pid = 0;
  PeerCred peer;
  UniqueFd cancel_fd;
  std::vector<uint8_t> response;
  NativeError error;
  Napi::Promise::Deferred deferred;
  Napi::ThreadSafeFunction tsfn;
  // The exchange's thread. Detached once the promise settles; joined if the environment goes away first.
  std::thread thread;
  std::atomic<bool> env_gone{false};
  // The env cleanup hook's argument while it is registered (JS thread only).
  std::shared_ptr<Call>* hook = nullptr;

  explicit Call(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}

  // Any thread; the eventfd stays readable, so every later poll sees it too.
  void Cancel() const {
    uint64_t one = 1;
    ssize_t ignored = write(cancel_fd.get(), &one, sizeof one);
    (void)ignored;
  }
};

// A Worker (or the main thread at exit) is going away with this request in flight. Cancel the exchange and
// wait for its thread, so that the thread never touches the thread-safe function after its teardown (which
// crashed the process in every run where the thread outlived the environment).
void OnEnvTeardown(void* arg) {
  auto* holder = static_cast<std::shared_ptr<Call>*>(arg);
  std::shared_ptr<Call> call = *holder;
  delete holder;
  call->hook = nullptr;
  call->env_gone = true;
  call->Cancel();
  if (call->thread.joinable()) call->thread.join();
}

// JS thread, once the promise settles: the hook is not needed any more and the thread may end on its own.
void Settled(napi_env env, Call& call) {
  if (call.hook != nullptr) {
    napi_remove_env_cleanup_hook(env, OnEnvTeardown, call.hook);
    delete call.hook;
    call.hook = nullptr;
  }
  if (call.thread.joinable()) call.thread.detach();
}

std::string CString(const char* p, size_t max) { return std::string(p, strnlen(p, max)); }

Napi::Object Decode(Napi::Env env, const std::vector<uint8_t>& bytes) {
  Response rsp;
  std::memcpy(&rsp, bytes.data(), sizeof rsp);
  Napi::Object o = Napi::Object::New(env);
  o.Set("command", rsp.command);
  o.Set("err", rsp.err);
  o.Set("sessionState", rsp.u.session_state.session_state);
  o.Set("connState", rsp.u.session_state.conn_state);
  o.Set("var", CString(rsp.u.config.var, sizeof rsp.u.config.var));
  const IscsiStats& s = rsp.u.getstats.stats;
  Napi::Object st = Napi::Object::New(env);
  st.Set("txdataOctets", static_cast<double>(s.txdata_octets));
  st.Set("rxdataOctets", static_cast<double>(s.rxdata_octets));
  st.Set("noptxPdus", s.noptx_pdus);
  st.Set("scsicmdPdus", s.scsicmd_pdus);
  st.Set("tmfcmdPdus", s.tmfcmd_pdus);
  st.Set("loginPdus", s.login_pdus);
  st.Set("textPdus", s.text_pdus);
  st.Set("dataoutPdus", s.dataout_pdus);
  st.Set("logoutPdus", s.logout_pdus);
  st.Set("snackPdus", s.snack_pdus);
  st.Set("noprxPdus", s.noprx_pdus);
  st.Set("scsirspPdus", s.scsirsp_pdus);
  st.Set("tmfrspPdus", s.tmfrsp_pdus);
  st.Set("textrspPdus", s.textrsp_pdus);
  st.Set("datainPdus", s.datain_pdus);
  st.Set("logoutrspPdus", s.logoutrsp_pdus);
  st.Set("r2tPdus", s.r2t_pdus);
  st.Set("asyncPdus", s.async_pdus);
  st.Set("rjtPdus", s.rjt_pdus);
  st.Set("digestErr", s.digest_err);
  st.Set("timeoutErr", s.timeout_err);
  Napi::Array custom = Napi::Array::New(env);
  uint32_t n = s.custom_length < kMaxCustomStats ? s.custom_length : static_cast<uint32_t>(kMaxCustomStats);
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Object c = Napi::Object::New(env);
    c.Set("name", CString(rsp.u.getstats.custom[i].desc, sizeof rsp.u.getstats.custom[i].desc));
    c.Set("value", static_cast<double>(rsp.u.getstats.custom[i].value));
    custom.Set(i, c);
  }
  st.Set("custom", custom);
  o.Set("stats", st);
  return o;
}

Napi::Object PeerObject(Napi::Env env, const PeerCred& peer) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", static_cast<double>(peer.pid));
  o.Set("uid", static_cast<double>(peer.uid));
  o.Set("gid", static_cast<double>(peer.gid));
  return o;
}

std::string SocketNameArg(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined()) return kIscsidSocketName;
  if (!v.IsString()) ThrowTypeError(env, "socketName must be a string");
  std::string name = v.As<Napi::String>().Utf8Value();
  if (name.empty() || name.size() > 100) ThrowTypeError(env, "socketName must be 1..100 bytes");
  return name;
}

int TimeoutArg(Napi::Env env, const Napi::Value& v) {
  if (!v.IsNumber()) ThrowTypeError(env, "timeoutMs must be a number");
  double t = v.As<Napi::Number>().DoubleValue();
  if (!(t >= 1 && t <= 24.0 * 3600 * 1000)) ThrowTypeError(env, "timeoutMs must be between 1 and 86400000");
  return static_cast<int>(t);
}

// Runs the call on its own thread; returns { promise, cancel }.
Napi::Value Start(Napi::Env env, std::shared_ptr<Call> call);

// ipcRequest(requestBuffer, timeoutMs, socketName | undefined, expectedPid): expectedPid 0 accepts any root
// peer; otherwise the peer must be that pid (the one whose executable chose the layout).
Napi::Value IpcRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) ThrowTypeError(env, "ipcRequest(request, timeoutMs, socketName, expectedPid)");
  if (!info[0].IsBuffer()) ThrowTypeError(env, "request must be a Buffer");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  if (buf.Length() < 8 || buf.Length() > 65536) ThrowTypeError(env, "request must be a whole iscsiadm request");
  int timeout_ms = TimeoutArg(env, info[1]);
  std::string name = SocketNameArg(env, info[2]);
  if (!info[3].IsNumber()) ThrowTypeError(env, "expectedPid must be a number");
  double pid = info[3].As<Napi::Number>().DoubleValue();
  if (!(pid >= 0 && pid <= 0x7fffffff) || pid != static_cast<double>(static_cast<int64_t>(pid))) ThrowTypeError(env, "expectedPid must be an integer >= 0");

  auto call = std::make_shared<Call>(env);
  call->request.assign(buf.Data(), buf.Data() + buf.Length());
  call->socket_name = std::move(name);
  call->timeout_ms = timeout_ms;
  call->expected_pid = static_cast<pid_t>(pid);
  return Start(env, call);
}

// identifyIscsid(timeoutMs, socketName | undefined) -> { promise: Promise<{ pid, uid, gid }>, cancel }
Napi::Value IdentifyIscsid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2) ThrowTypeError(env, "identifyIscsid(timeoutMs, socketName)");
  auto call = std::make_shared<Call>(env);
  call->timeout_ms = TimeoutArg(env, info[0]);
  call->socket_name = SocketNameArg(env, info[1]);
  call->identify_only = true;
  return Start(env, call);
}

Napi::Value Start(Napi::Env env, std::shared_ptr<Call> call) {
  call->cancel_fd = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!call->cancel_fd) ThrowTypeError(env, "eventfd failed");
  call->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "openiscsi:ipcRequest", 0, 1);
  call->hook = new std::shared_ptr<Call>(call);
  if (napi_add_env_cleanup_hook(env, OnEnvTeardown, call->hook) != napi_ok) {
    delete call->hook;
    call->hook = nullptr;
  }

  try {
    call->thread = std::thread([call]() {
      if (call->identify_only) {
        Identify(call->socket_name, call->timeout_ms, call->cancel_fd.get(), &call->peer, &call->error);
      } else {
        Exchange(call->socket_name, call->request, call->timeout_ms, call->cancel_fd.get(), call->expected_pid, &call->peer, &call->response,
                 &call->error);
      }
      if (call->env_gone) {
        call->tsfn.Release();
        return;
      }
      call->tsfn.BlockingCall([call](Napi::Env env, Napi::Function) {
        Settled(env, *call);
        if (!call->error.ok()) {
          call->deferred.Reject(ToJsError(env, call->error).Value());
        } else if (call->identify_only) {
          call->deferred.Resolve(PeerObject(env, call->peer));
        } else {
          Napi::Object o = Decode(env, call->response);
          o.Set("peerPid", static_cast<double>(call->peer.pid));
          call->deferred.Resolve(o);
        }
      });
      call->tsfn.Release();
    });
  } catch (const std::system_error& e) {
    Settled(env, *call);
    call->tsfn.Release();
    call->deferred.Reject(ToJsError(env, NativeError{EAGAIN, "ISCSID_COMM_ERR", std::string("cannot start a thread for the request: ") + e.what()}).Value());
  }

  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", call->deferred.Promise());
  handle.Set("cancel", Napi::Function::New(env, [call](const Napi::CallbackInfo&) { call->Cancel(); }, "cancel"));
  return handle;
}

}  // namespace

void InitIpcRequest(Napi::Env env, Napi::Object exports) {
  exports.Set("ipcRequest", Napi::Function::New(env, IpcRequest, "ipcRequest"));
  exports.Set("identifyIscsid", Napi::Function::New(env, IdentifyIscsid, "identifyIscsid"));
}

}  // namespace openiscsi::ipc
