// libcurl helpers internal to net/proxy: RAII for the easy handle, one-time global init.
#pragma once

#include <memory>
#include <mutex>

#include <curl/curl.h>

namespace lifeline::net_internal {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

// curl_global_init once per process, before the first easy handle (any thread).
inline void EnsureCurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace lifeline::net_internal
