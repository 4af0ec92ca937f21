// Threads that stay between listings so the next one need not create them (under emulation a thread's
// creation and exit cost about as much as reading a session). RunShared() runs a job on the calling
// thread and on up to `helpers` helper threads at once. The job must share its work out itself (an
// atomic index), because a helper may join late or not at all: the caller never waits for one to start,
// only for those that did to finish. Idle helpers end on StopIdleHelpers() (with the kept descriptors,
// when reads go idle) and with the process.
#pragma once
#include <cstddef>
#include <functional>

namespace openiscsi {

void RunShared(size_t helpers, const std::function<void()>& job);
void StopIdleHelpers();

}  // namespace openiscsi
