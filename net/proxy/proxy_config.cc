#include "net/proxy/proxy_config.h"

#include <algorithm>

#include <fmt/format.h>

#include "net/posix_util.h"
#include "net/tcp.h"

namespace lifeline {
namespace {

using net_internal::HasControlCharacter;

// RFC 1929 carries user and password in one length byte each; HTTP logins have no limit,
// but nobody's is longer, and the limit keeps header lines sane.
constexpr size_t kMaxLoginFieldBytes = 255;

Status Invalid(std::string message) {
  return Status(ErrorCode::kProxyConfigInvalid, std::move(message));
}

}  // namespace

const char* ToString(ProxyMode mode) {
  switch (mode) {
    case ProxyMode::kNone:
      return "none";
    case ProxyMode::kAutomatic:
      return "automatic";
    case ProxyMode::kManual:
      return "manual";
  }
  return "none";
}

const char* ToString(ProxyType type) {
  return type == ProxyType::kSocks5 ? "socks5" : "http";
}

Status ValidateProxyConfig(const ProxyConfig& config) {
  if (config.mode == ProxyMode::kManual) {
    if (config.host.empty())
      return Invalid("proxy.host: empty; a manual proxy needs a host name or IP address");
    if (auto parsed = ParseHostPort(HostPort{config.host, 1}.ToString()); !parsed.ok()) {
      return Invalid(fmt::format("proxy.host: \"{}\" is not a host name or IP address",
                                 net_internal::Printable(config.host)));
    }
    if (config.port == 0)
      return Invalid("proxy.port: 0 is not a port; use 1-65535 (often 3128, 8080 or 1080)");
  }
  if (!config.auth)
    return Status::Ok();
  if (HasControlCharacter(config.user))
    return Invalid("proxy.user: contains a control character");
  if (config.user.size() > kMaxLoginFieldBytes)
    return Invalid(fmt::format("proxy.user: longer than {} bytes", kMaxLoginFieldBytes));
  if (HasControlCharacter(config.password))
    return Invalid("proxy.password: contains a control character");
  if (config.password.size() > kMaxLoginFieldBytes)
    return Invalid(fmt::format("proxy.password: longer than {} bytes", kMaxLoginFieldBytes));
  if (HasControlCharacter(config.domain))
    return Invalid("proxy.domain: contains a control character");
  if (!config.domain.empty() &&
      (config.user.find('\\') != std::string::npos || config.user.find('@') != std::string::npos)) {
    return Invalid(fmt::format(
        "proxy.domain: set to \"{}\", but proxy.user \"{}\" already names a domain; set one",
        config.domain, config.user));
  }
  if (config.mode == ProxyMode::kManual && config.type == ProxyType::kSocks5 &&
      config.user.empty()) {
    return Invalid("proxy.user: empty; a SOCKS5 login needs a user name");
  }
  const std::string joined =
      config.domain.empty() ? config.user : config.domain + "\\" + config.user;
  if (joined.size() > kMaxLoginFieldBytes)
    return Invalid(
        fmt::format("proxy.domain: DOMAIN\\user is longer than {} bytes", kMaxLoginFieldBytes));
  return Status::Ok();
}

}  // namespace lifeline
