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
#include <string>
#include <vector>

#include "base/status.h"
#include "net/proxy/proxy_config.h"
#include "net/tcp.h"
#include "net/transport.h"

namespace lifeline {

struct OutboundOptions {
  int timeout_ms = 15000;  // For the whole attempt (TCP, proxy login, tunnel).
  const std::atomic<bool>* cancel = nullptr;
};

// How a connection got out, for status text and `lifeline doctor`. Never holds secrets.
struct OutboundRoute {
  std::string description;  // "direct", "HTTP proxy 127.0.0.1:3128 (NTLM as CORP\\alice)".
  int elapsed_ms = 0;
  int http_connect_status = 0;  // The proxy's CONNECT answer (200, 407...), 0 if none.
};

// Connects to `target` as `config` says. Errors (base/error_code.h): kProxyUnreachable,
// kProxyAuthFailed (names user and proxy), kProxyTunnelRefused (HTTP status in the
// message), kProxyConfigInvalid (names the field), kPacUnavailable, kProxyDetectionTimedOut,
// and for the direct path kConnectionRefused / kConnectionTimedOut / kAddressInvalid.
// `route` (optional) is filled on success and, as far as known, on failure.
Expected<std::unique_ptr<Transport>> ConnectOutbound(const HostPort& target,
                                                     const ProxyConfig& config,
                                                     const OutboundOptions& options,
                                                     OutboundRoute* route = nullptr);

}  // namespace lifeline
