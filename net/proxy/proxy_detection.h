// "Detect automatically": asks libproxy (environment variables, PAC files, WPAD, desktop
// settings through its plugins) which proxies to use for a target, on a worker thread with
// a time limit (security.md §4.2, requirement 25).
//
// THREADS
//   One detection worker at a time, named "proxy-detect", owned by this module for the
//   life of the process. libproxy cannot be interrupted (a PAC or WPAD download may hang),
//   so a call that times out leaves the worker running (detached) and returns; the next
//   call waits for it within its own time limit. The worker makes a fresh libproxy factory
//   for each detection (the PAC is fetched once per factory) and frees it after.
//   DetectProxies may be called from any thread, but not the UI thread (it blocks).
//
// PAC FAILURES
//   libproxy silently answers "direct://" when a PAC cannot be fetched or no PAC runner
//   (libproxy1-plugin-webkit) is installed. When the environment names a PAC
//   (http_proxy / https_proxy = "pac+URL") and libproxy says only direct://, this module
//   checks the PAC itself (fetches it once more, looks for a PAC runner) and reports the
//   failure in `pac_problem` (kPacUnavailable). What to do then is the caller's explicit
//   policy (see OutboundOptions::pac_failure_goes_direct). PACs chosen by WPAD or desktop
//   settings are not visible here, so their failures cannot be told from a PAC that says
//   DIRECT.
//
// SECURITY: the URLs libproxy returns may carry credentials; they are parsed into
// ProxyEndpoints at once and only ProxyEndpoint::ToString() / RedactProxyUrl() is logged.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/proxy/proxy_url.h"
#include "net/tcp.h"

namespace lifeline {

struct ProxyDetection {
  std::vector<ProxyEndpoint> proxies;  // libproxy's order; direct:// entries included.
  std::vector<std::string> skipped;    // Unusable entries (redacted), e.g. socks4.
  std::string pac_url;                 // The PAC named by the environment (redacted), if any.
  std::optional<Error> pac_problem;    // kPacUnavailable: that PAC could not be used.
  int elapsed_ms = 0;
};

// Asks libproxy about "https://<target>" (so https_proxy applies, then http_proxy).
// Errors: kProxyDetectionTimedOut (no answer within `timeout_ms`, or an earlier detection
// still runs after it), kCancelled, kInternal (libproxy failed to start).
Expected<ProxyDetection> DetectProxies(const HostPort& target,
                                       int timeout_ms,
                                       const std::atomic<bool>* cancel = nullptr);

// Waits up to `timeout_ms` until no detection worker runs. True when idle. For tests and
// orderly shutdown.
bool WaitForProxyDetectionIdle(int timeout_ms);

// The PAC URL in a libproxy environment value ("pac+http://h/p.pac" -> "http://h/p.pac"),
// or empty.
std::string PacUrlFromProxyVariable(const std::string& value);

}  // namespace lifeline
