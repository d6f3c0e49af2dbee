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

// Checks the fields `mode` uses. Errors are kProxyConfigInvalid and start with the field:
//   "proxy.host: ..."     manual mode without a host, or not a host name / IP literal;
//   "proxy.port: ..."     manual mode with port 0;
//   "proxy.user: ..."     a control character, longer than 255 bytes, or empty for a
//                         SOCKS5 login (HTTP with `auth` and no user means Negotiate/NTLM
//                         with the system's own credentials, e.g. a Kerberos ticket);
//   "proxy.password: ..." a control character or longer than 255 bytes (never shown);
//   "proxy.domain: ..."   a control character, or set while `user` already names a domain.
// Pure; any thread.
Status ValidateProxyConfig(const ProxyConfig& config);

// "none", "automatic", "manual"; "http", "socks5".
const char* ToString(ProxyMode mode);
const char* ToString(ProxyType type);

}  // namespace lifeline
