// Runs a function on the wx main thread from another thread and waits for its result,
// with a timeout. Used by WxHostSessionUi: HostSession calls it on the service thread.
//
// When the wait times out the caller gets nullopt and the function, if it has not run
// yet, never runs (the front-end then fails closed: no consent, no indicator). If it is
// already running, its result is dropped.
//
// Threading: call from any thread except the wx main thread (which would deadlock; there
// `fn` is simply called directly).
#pragma once

#include <wx/app.h>
#include <wx/thread.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace lifeline {

template <typename T>
std::optional<T> RunOnUiThread(std::function<T()> fn, int timeout_ms) {
  if (wxThread::IsMain())
    return fn();
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    bool abandoned = false;
    std::optional<T> result;
  };
  auto shared = std::make_shared<Shared>();
  if (!wxTheApp)
    return std::nullopt;
  wxTheApp->CallAfter([shared, fn = std::move(fn)] {
    {
      std::lock_guard lock(shared->mutex);
      if (shared->abandoned)
        return;
    }
    T value = fn();
    std::lock_guard lock(shared->mutex);
    shared->result = std::move(value);
    shared->cv.notify_all();
  });
  std::unique_lock lock(shared->mutex);
  if (!shared->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [&] { return shared->result.has_value(); })) {
    shared->abandoned = true;
    return std::nullopt;
  }
  return shared->result;
}

}  // namespace lifeline
