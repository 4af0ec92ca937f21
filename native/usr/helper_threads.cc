#include "usr/helper_threads.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

namespace openiscsi {

namespace {

struct Job {
  Job(const std::function<void()>* f, size_t helpers) : fn(f), wanted(helpers) {}
  const std::function<void()>* fn;
  size_t wanted;       // helpers that may still take it
  size_t running = 0;  // helpers inside fn
  std::condition_variable done;
};

struct Pool {
  std::mutex m;
  std::condition_variable work;
  std::deque<Job*> queue;  // jobs that still want a helper
  size_t idle = 0;
  uint64_t epoch = 0;  // StopIdleHelpers() moves it on; a helper that sees it move while idle ends
};

// Never destroyed: a detached helper may still be waiting on it while the process exits.
Pool& P() {
  static Pool* p = new Pool;
  return *p;
}

void HelperMain() {
  Pool& p = P();
  std::unique_lock<std::mutex> lock(p.m);
  const uint64_t epoch = p.epoch;
  for (;;) {
    ++p.idle;
    p.work.wait(lock, [&] { return !p.queue.empty() || p.epoch != epoch; });
    --p.idle;
    if (p.queue.empty()) return;
    Job* job = p.queue.front();
    if (--job->wanted == 0) p.queue.pop_front();
    ++job->running;
    lock.unlock();
    (*job->fn)();
    lock.lock();
    if (--job->running == 0) job->done.notify_all();
  }
}

}  // namespace

void RunShared(size_t helpers, const std::function<void()>& job) {
  if (helpers == 0) {
    job();
    return;
  }
  Pool& p = P();
  Job j(&job, helpers);
  {
    std::lock_guard<std::mutex> g(p.m);
    p.queue.push_back(&j);
    // Idle helpers take it; the missing ones are started. One that cannot be started is not an error:
    // the caller then does more of the work itself.
    for (size_t have = p.idle; have < helpers; ++have) {
      try {
        std::thread(HelperMain).detach();
      } catch (const std::system_error&) {
        break;
      }
    }
    p.work.notify_all();
  }
  job();
  std::unique_lock<std::mutex> lock(p.m);
  for (auto it = p.queue.begin(); it != p.queue.end(); ++it) {
    if (*it == &j) {
      p.queue.erase(it);
      break;
    }
  }
  j.done.wait(lock, [&j] { return j.running == 0; });
}

void StopIdleHelpers() {
  Pool& p = P();
  std::lock_guard<std::mutex> g(p.m);
  ++p.epoch;
  p.work.notify_all();
}

}  // namespace openiscsi
