#include "usr/helper_threads.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
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
  std::exception_ptr error;  // the first exception a helper's part threw, rethrown by the caller
  std::condition_variable done;
};

struct Pool {
  std::mutex m;
  std::condition_variable work;
  std::deque<Job*> queue;  // jobs that still want a helper
  size_t idle = 0;         // helpers waiting for a job, counted from their creation
  uint64_t epoch = 0;      // StopIdleHelpers() moves it on; a helper from an older epoch ends when idle
};

// Never destroyed: a detached helper may still be waiting on it while the process exits.
Pool& P() {
  static Pool* p = new Pool;
  return *p;
}

// Started already counted in p.idle, with the epoch of its creation.
void HelperMain(uint64_t epoch) {
  Pool& p = P();
  std::unique_lock<std::mutex> lock(p.m);
  for (;;) {
    p.work.wait(lock, [&] { return !p.queue.empty() || p.epoch != epoch; });
    --p.idle;
    if (p.queue.empty()) return;
    Job* job = p.queue.front();
    if (--job->wanted == 0) p.queue.pop_front();
    ++job->running;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*job->fn)();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !job->error) job->error = error;
    ++p.idle;
    if (--job->running == 0) job->done.notify_all();
  }
}

// Takes the job off the queue and waits for the helpers inside it, however the caller's part ended:
// the job lives on the caller's stack.
class JobGuard {
 public:
  JobGuard(Pool& p, Job& j) : p_(p), j_(j) {}
  ~JobGuard() {
    std::unique_lock<std::mutex> lock(p_.m);
    for (auto it = p_.queue.begin(); it != p_.queue.end(); ++it) {
      if (*it == &j_) {
        p_.queue.erase(it);
        break;
      }
    }
    j_.done.wait(lock, [this] { return j_.running == 0; });
  }
  JobGuard(const JobGuard&) = delete;
  JobGuard& operator=(const JobGuard&) = delete;

 private:
  Pool& p_;
  Job& j_;
};

}  // namespace

void RunShared(size_t helpers, const std::function<void()>& job) {
  if (helpers == 0) {
    job();
    return;
  }
  Pool& p = P();
  Job j(&job, helpers);
  {
    JobGuard guard(p, j);
    {
      std::lock_guard<std::mutex> g(p.m);
      p.queue.push_back(&j);
      // Idle helpers take it; the missing ones are started. One that cannot be started is not an error:
      // the caller then does more of the work itself.
      for (size_t have = p.idle; have < helpers; ++have) {
        try {
          std::thread(HelperMain, p.epoch).detach();
          ++p.idle;
        } catch (const std::system_error&) {
          break;
        }
      }
      p.work.notify_all();
    }
    job();
  }
  if (j.error) std::rethrow_exception(j.error);
}

void StopIdleHelpers() {
  Pool& p = P();
  std::lock_guard<std::mutex> g(p.m);
  ++p.epoch;
  p.work.notify_all();
}

}  // namespace openiscsi
