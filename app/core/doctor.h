// `lifeline doctor`: tries every way out to the relay and says which work, how long each
// took, and why the others failed. The logic lives here (testable without the CLI); the
// table is printed by app/cli/doctor_command.cc.
//
// Paths, for the relay address and then its fallback port (443 unless set):
//   direct; the configured proxy (manual mode); every proxy libproxy detects (environment,
//   PAC, WPAD, desktop settings), in libproxy's order.
// Plus one row for the detection itself (what libproxy said, a PAC that failed, a
// timeout). A path "works" when the TCP connection or proxy tunnel to the relay address is
// up; with a relay pin it must also complete the outer TLS 1.3 handshake with the pinned
// relay key (kRelayCertificateInvalid otherwise). Without a relay, each proxy is only
// checked for a TCP connection to the proxy itself.
//
// Threading: RunDoctor blocks (at most about timeout_ms per path); call it on a worker or
// the CLI's main thread. `cancel` may be set from any thread.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/proxy/proxy_config.h"
#include "net/tcp.h"

namespace lifeline {

struct DoctorOptions {
  std::optional<HostPort> relay;     // Unset: no relay to test (proxies and detection only).
  std::optional<HostPort> fallback;  // Unset: port `fallback_port` of the relay's host.
  uint16_t fallback_port = 443;
  std::string relay_pin;  // 64 hex digits, or empty: stop at the tunnel.
  ProxyConfig proxy;      // The configured proxy (manual mode adds a path).
  bool detect = true;     // Ask libproxy.
  int timeout_ms = 5000;  // Per path.
  int detection_timeout_ms = 5000;
};

struct DoctorRow {
  std::string path;    // "direct", "configured: HTTP proxy 127.0.0.1:3128", "detection".
  std::string target;  // "relay.example:7000", or "" for rows without one.
  bool ok = false;
  int elapsed_ms = 0;
  int http_connect_status = 0;  // The proxy's CONNECT answer, 0 if none.
  ErrorCode code = ErrorCode::kOk;
  std::string detail;  // What happened: the error message, or "tunnel up", "relay key ok".
};

// Validates `options.proxy` first (a kProxyConfigInvalid row if it is wrong), then tries
// each path. Never holds or prints a password.
std::vector<DoctorRow> RunDoctor(const DoctorOptions& options,
                                 const std::atomic<bool>* cancel = nullptr);

}  // namespace lifeline
