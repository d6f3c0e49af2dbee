// Proxy settings as the net layer needs them. The settings file and the dialog map onto
// this struct (app/core); the net layer never reads settings files itself.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace lifeline {

enum class ProxyMode {
  kNone,       // Connect directly.
  kAutomatic,  // Ask libproxy (environment, PAC/WPAD, desktop settings); try in order.
  kManual,     // Use `type`, `host`, `port` below.
};

enum class ProxyType {
  kHttp,    // HTTP CONNECT (Basic, Digest, NTLM, Negotiate as the proxy offers).
  kSocks5,  // SOCKS5, the proxy resolves names (socks5h), RFC 1929 login when `auth`.
};

struct ProxyConfig {
  ProxyMode mode = ProxyMode::kNone;
  ProxyType type = ProxyType::kHttp;
  std::string host;
  uint16_t port = 0;
  bool auth = false;     // Send credentials.
  std::string user;      // "alice", "CORP\\alice" or "alice@corp.example".
  std::string password;  // Secret: never logged, never in error messages.
  std::string domain;    // Optional; joined as DOMAIN\\user when `user` has none.
};

}  // namespace lifeline
