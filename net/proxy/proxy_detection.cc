#include "net/proxy/proxy_detection.h"

#include <dlfcn.h>
#include <glob.h>
#include <proxy.h>
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include <curl/curl.h>
#include <fmt/format.h>

#include "base/log.h"
#include "net/proxy/curl_util.h"

namespace lifeline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWaitSliceMs = 50;
constexpr int kPacProbeTimeoutMs = 3000;
constexpr size_t kMaxPacBytes = 1024 * 1024;

// One detection's shared state: the caller may leave before the worker is done.
struct Job {
  std::string url;
  bool done = false;                // Guarded by State().mutex.
  bool failed = false;              // Guarded by State().mutex: libproxy gave no list.
  std::vector<std::string> result;  // Guarded by State().mutex.
};

// The worker and its one-job slot. `current` is the job queued or running (null: idle).
// Allocated once and never destroyed: the worker outlives main(), and destroying a
// condition variable it waits on would block exit.
struct WorkerState {
  std::mutex mutex;
  std::condition_variable cv;
  std::shared_ptr<Job> current;  // Guarded by mutex.
  bool job_taken = false;        // Guarded by mutex: the worker is running `current`.
  bool worker_started = false;   // Guarded by mutex.
};

WorkerState& State() {
  static WorkerState* state = new WorkerState;
  return *state;
}

// The worker never exits: libproxy loads plugins (the webkit PAC runner) whose
// thread-specific data must not be destroyed after the factory unloads them, so one
// factory lives on this one thread for the life of the process. It also keeps the PAC
// cache (libproxy refetches when the PAC URL changes).
void WorkerLoop() {
  pthread_setname_np(pthread_self(), "proxy-detect");
  WorkerState& state = State();
  pxProxyFactory* factory = px_proxy_factory_new();
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(state.mutex);
      state.cv.wait(lock, [&] { return state.current != nullptr && !state.job_taken; });
      job = state.current;
      state.job_taken = true;
    }
    std::vector<std::string> urls;
    bool failed = true;
    if (factory != nullptr) {
      if (char** proxies = px_proxy_factory_get_proxies(factory, job->url.c_str())) {
        failed = false;
        for (char** p = proxies; *p != nullptr; ++p)
          urls.emplace_back(*p);
        px_proxy_factory_free_proxies(proxies);
      }
    }
    {
      std::lock_guard lock(state.mutex);
      job->result = std::move(urls);
      job->failed = failed;
      job->done = true;
      state.current = nullptr;
      state.job_taken = false;
    }
    state.cv.notify_all();
  }
}

int MsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool Cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load();
}

// The PAC URL libproxy's environment module would use for an https:// query.
std::string PacUrlFromEnvironment() {
  for (const char* name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && value[0] != '\0')
      return PacUrlFromProxyVariable(value);
  }
  return {};
}

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t bytes = size * count;
  if (body->size() + bytes > kMaxPacBytes)
    return 0;  // Too large: curl fails with CURLE_WRITE_ERROR.
  body->append(data, bytes);
  return bytes;
}

// Fetches `pac_url` directly (as libproxy does). Empty when it looks like a PAC, else why not.
std::string ProbePac(const std::string& pac_url, int timeout_ms) {
  net_internal::EnsureCurlGlobalInit();
  net_internal::CurlPtr curl(curl_easy_init());
  if (!curl)
    return "curl_easy_init failed";
  std::string body;
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, pac_url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK)
    return error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
  if (body.find("FindProxyForURL") == std::string::npos)
    return "it has no FindProxyForURL function";
  return {};
}

// True when libproxy has a PAC runner module (libproxy1-plugin-webkit, or another).
bool HavePacRunner() {
  std::string pattern;
  if (const char* module_path = std::getenv("PX_MODULE_PATH")) {
    pattern = std::string(module_path) + "/pacrunner_*.so";
  } else {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&px_proxy_factory_new), &info) == 0 ||
        info.dli_fname == nullptr) {
      return true;  // Cannot tell: do not claim a problem.
    }
    std::string library = info.dli_fname;
    pattern = library.substr(0, library.rfind('/')) + "/libproxy/*/modules/pacrunner_*.so";
  }
  glob_t found{};
  const bool any = glob(pattern.c_str(), 0, nullptr, &found) == 0 && found.gl_pathc > 0;
  globfree(&found);
  return any;
}

bool OnlyDirect(const std::vector<ProxyEndpoint>& proxies) {
  for (const ProxyEndpoint& endpoint : proxies) {
    if (endpoint.scheme != ProxyScheme::kDirect)
      return false;
  }
  return true;
}

}  // namespace

std::string PacUrlFromProxyVariable(const std::string& value) {
  constexpr std::string_view kPrefix = "pac+";
  if (value.size() <= kPrefix.size() || value.compare(0, kPrefix.size(), kPrefix) != 0)
    return {};
  return value.substr(kPrefix.size());
}

bool WaitForProxyDetectionIdle(int timeout_ms) {
  WorkerState& state = State();
  std::unique_lock lock(state.mutex);
  return state.cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [&] { return state.current == nullptr; });
}

Expected<ProxyDetection> DetectProxies(const HostPort& target,
                                       int timeout_ms,
                                       const std::atomic<bool>* cancel) {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(std::max(timeout_ms, 0));
  auto timed_out = [&](const char* why) {
    return Error{ErrorCode::kProxyDetectionTimedOut,
                 fmt::format("automatic proxy detection (environment, PAC, WPAD, desktop "
                             "settings) {} within {} ms; choose a proxy by hand or none",
                             why, timeout_ms)};
  };
  auto cancelled = [] {
    return Error{ErrorCode::kCancelled, "automatic proxy detection was cancelled"};
  };

  WorkerState& state = State();
  auto job = std::make_shared<Job>();
  job->url = "https://" + target.ToString() + "/";
  ProxyDetection detection;
  std::vector<std::string> urls;
  {
    std::unique_lock lock(state.mutex);
    if (!state.worker_started) {
      std::thread(WorkerLoop).detach();
      state.worker_started = true;
    }
    // Wait for an earlier detection (one whose caller timed out) to finish.
    while (state.current != nullptr) {
      if (Cancelled(cancel))
        return cancelled();
      if (MsLeft(deadline) == 0)
        return timed_out("could not start: an earlier detection is still running");
      state.cv.wait_for(lock, std::chrono::milliseconds(std::min(kWaitSliceMs, MsLeft(deadline))));
    }
    state.current = job;
    state.cv.notify_all();
    while (!job->done) {
      if (Cancelled(cancel))
        return cancelled();
      if (MsLeft(deadline) == 0) {
        log::Warning(
            "proxy: detection for {} gave no answer within {} ms; it goes on in the "
            "background and its answer will be dropped",
            target.ToString(), timeout_ms);
        return timed_out("gave no answer");
      }
      state.cv.wait_for(lock, std::chrono::milliseconds(std::min(kWaitSliceMs, MsLeft(deadline))));
    }
    if (job->failed)
      return Error{ErrorCode::kInternal, "libproxy returned no answer (out of memory?)"};
    urls = job->result;
  }
  ProxyList list = ParseProxyList(urls);
  detection.proxies = std::move(list.endpoints);
  detection.skipped = std::move(list.skipped);
  for (const std::string& skipped : detection.skipped)
    log::Warning("proxy: ignoring a detected proxy: {}", skipped);

  const std::string pac_url = PacUrlFromEnvironment();
  if (!pac_url.empty()) {
    detection.pac_url = RedactProxyUrl(pac_url);
    if (OnlyDirect(detection.proxies)) {
      // libproxy says direct:// also when the PAC failed: find out which it is.
      std::string problem =
          ProbePac(pac_url, std::min(kPacProbeTimeoutMs, std::max(MsLeft(deadline), 500)));
      if (problem.empty() && !HavePacRunner())
        problem = "no PAC runner is installed (Debian: libproxy1-plugin-webkit)";
      if (!problem.empty()) {
        detection.pac_problem =
            Error{ErrorCode::kPacUnavailable,
                  fmt::format("the proxy auto-config file {} could not be used: {}",
                              detection.pac_url, problem)};
      }
    }
  }
  detection.elapsed_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
  std::string shown;
  for (const ProxyEndpoint& endpoint : detection.proxies)
    shown += (shown.empty() ? "" : " ") + endpoint.ToString();
  log::Info("proxy: detected for {} in {} ms: {}{}", target.ToString(), detection.elapsed_ms,
            shown.empty() ? "(nothing)" : shown,
            detection.pac_url.empty() ? "" : " (PAC " + detection.pac_url + ")");
  return detection;
}

}  // namespace lifeline
