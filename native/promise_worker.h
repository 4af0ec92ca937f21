// Base for every async native operation: validated inputs are copied into members on the JS thread,
// Execute() runs on the thread pool without napi calls, and the promise settles on the JS thread.
#pragma once
#include <napi.h>

#include "errors.h"

namespace openiscsi {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* resource_name)
      : Napi::AsyncWorker(env, resource_name), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise QueuePromise() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  // Fills the result on the JS thread; only called when error_ is empty.
  virtual Napi::Value Result(Napi::Env env) = 0;

  NativeError error_;

 private:
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!error_.ok()) {
      deferred_.Reject(ToJsError(env, error_).Value());
      return;
    }
    deferred_.Resolve(Result(env));
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  Napi::Promise::Deferred deferred_;
};

}  // namespace openiscsi
