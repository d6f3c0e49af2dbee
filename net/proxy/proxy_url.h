// Proxy URLs: what `--proxy` takes and what libproxy returns ("http://user:pw@host:port",
// "socks5://host:port", "direct://"), parsed into a ProxyEndpoint whose credentials are kept
// apart from everything that is printed.
//
// SECURITY: a proxy URL may carry a password (libproxy passes credentials from
// http_proxy=http://user:pw@host through). Never log or show a raw proxy URL: log
// ProxyEndpoint::ToString() or RedactProxyUrl(). Errors from ParseProxyUrl never contain
// the userinfo part.
//
// Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/proxy/proxy_config.h"

namespace lifeline {

enum class ProxyScheme {
  kDirect,  // "direct://": no proxy.
  kHttp,    // "http://": HTTP CONNECT.
  kHttps,   // "https://": HTTP CONNECT over TLS to the proxy (curl verifies its certificate).
  kSocks5,  // "socks5://", "socks5h://", "socks://": SOCKS5, the proxy resolves names.
};

// One way out. `user`/`password` are secrets-bearing and only handed to libcurl's
// separate options.
struct ProxyEndpoint {
  ProxyScheme scheme = ProxyScheme::kDirect;
  std::string host;  // Without brackets.
  uint16_t port = 0;
  bool has_credentials = false;
  std::string user;      // Percent-decoded; may be "DOMAIN\\user" or a UPN.
  std::string password;  // Percent-decoded. Secret.

  // "http://127.0.0.1:3128", "socks5://[::1]:1080", "direct://": never credentials.
  std::string ToString() const;
  // "HTTP proxy 127.0.0.1:3128", "SOCKS5 proxy 127.0.0.1:1080", "direct": for messages.
  std::string Describe() const;
  // "127.0.0.1:3128" (brackets for IPv6).
  std::string HostPortString() const;
};

// Parses one proxy URL. Scheme (case-insensitive): http, https, socks, socks5, socks5h,
// direct. The port defaults to 1080 for SOCKS, 80 for http and 443 for https; a path of
// "/" is allowed, anything else after the authority is refused. Errors: kProxyConfigInvalid
// naming `field` ("--proxy: ..."); the message shows RedactProxyUrl(url), never the
// password. Checks lengths first; accepts any bytes without crashing (fuzzed).
Expected<ProxyEndpoint> ParseProxyUrl(std::string_view url, std::string_view field = "proxy");

// `url` with any "user:password@" replaced by "***@" and non-printable bytes escaped, for
// logs. Garbage in, harmless text out.
std::string RedactProxyUrl(std::string_view url);

// libproxy's answer for one URL, in order. Entries that cannot be used (socks4, unknown
// schemes, malformed) are skipped and described (redacted) in `skipped`.
struct ProxyList {
  std::vector<ProxyEndpoint> endpoints;
  std::vector<std::string> skipped;
};
ProxyList ParseProxyList(const std::vector<std::string>& urls);

// The endpoint for a manual ProxyConfig (type, host, port, and the login when `auth`,
// with `domain` joined as DOMAIN\user when the user names none). Call
// ValidateProxyConfig() first.
ProxyEndpoint EndpointFromConfig(const ProxyConfig& config);

// The user as sent to the proxy: "CORP\\alice" when `domain` is set and `user` has no
// domain of its own ("\\" or "@"), else `user`.
std::string JoinDomainUser(const std::string& user, const std::string& domain);

}  // namespace lifeline
