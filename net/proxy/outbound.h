// Outbound connections for every client-side connection that leaves the machine
// (relay, later licence traffic): direct, HTTP CONNECT through libcurl, SOCKS5, or the
// proxies libproxy detects.
//
// Ownership: ConnectOutbound returns a Transport that owns everything behind it (for a
// proxy tunnel: the curl easy handle that owns the socket, kept alive for the session).
// Threading: ConnectOutbound blocks; call it from a worker thread, never the UI thread.
// `cancel` may be set from any thread and ends the attempt with kCancelled.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/proxy/proxy_config.h"
#include "net/proxy/proxy_url.h"
#include "net/tcp.h"
#include "net/transport.h"

namespace lifeline {

struct OutboundOptions {
  int timeout_ms = 15000;  // For the whole attempt (TCP, proxy login, tunnel).
  const std::atomic<bool>* cancel = nullptr;
  // Automatic mode: the time libproxy gets (within timeout_ms).
  int detection_timeout_ms = 5000;
  // Automatic mode, explicit policy (security.md requirement 25): when the PAC named by
  // the environment cannot be loaded, libproxy says "direct://". true: go direct, log a
  // warning and report kPacUnavailable in OutboundRoute::notice; false: fail with
  // kPacUnavailable without connecting.
  bool pac_failure_goes_direct = true;
};

// How a connection got out, for status text and `lifeline doctor`. Never holds secrets.
struct OutboundRoute {
  std::string description;  // "direct", "HTTP proxy 127.0.0.1:3128, login as \"CORP\\alice\"".
  int elapsed_ms = 0;
  int http_connect_status = 0;  // The proxy's CONNECT answer (200, 407...), 0 if none.
  // Automatic mode: every way tried, in order, with its outcome ("SOCKS5 proxy
  // 127.0.0.1:1080: ok (3 ms)", "HTTP proxy 127.0.0.1:3132: E230 ... (1 ms)").
  std::vector<std::string> attempts;
  // A policy decision the user should see although the connection worked, e.g.
  // kPacUnavailable "... could not be used: ...; connected directly instead (policy)".
  std::optional<Error> notice;
};

// Connects to `target` as `config` says. Errors (base/error_code.h): kProxyUnreachable,
// kProxyAuthFailed (names user and proxy), kProxyTunnelRefused (HTTP status in the
// message), kProxyConfigInvalid (names the field), kPacUnavailable, kProxyDetectionTimedOut,
// and for the direct path kConnectionRefused / kConnectionTimedOut / kAddressInvalid.
// Automatic mode tries libproxy's list in order (credentials in a detected URL are used;
// otherwise `config.user`/`password` when `config.auth`); when all fail, the error is the
// first kProxyAuthFailed if any (a person can fix that), else the first failure, and the
// message lists every attempt.
// `route` (optional) is filled on success and, as far as known, on failure.
Expected<std::unique_ptr<Transport>> ConnectOutbound(const HostPort& target,
                                                     const ProxyConfig& config,
                                                     const OutboundOptions& options,
                                                     OutboundRoute* route = nullptr);

// One given way out: direct TCP (kDirect) or a tunnel through `endpoint`, as automatic
// mode and `lifeline doctor` use it. Errors as ConnectTcp / ConnectThroughProxy.
Expected<std::unique_ptr<Transport>> ConnectViaEndpoint(const HostPort& target,
                                                        const ProxyEndpoint& endpoint,
                                                        const OutboundOptions& options,
                                                        OutboundRoute* route);

}  // namespace lifeline
