#include "net/proxy/proxy_url.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "net/posix_util.h"
#include "net/tcp.h"

namespace lifeline {
namespace {

using net_internal::HasControlCharacter;

using net_internal::PercentDecode;
using net_internal::Printable;

constexpr size_t kMaxProxyUrlBytes = 2048;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

struct SchemeInfo {
  const char* name;
  ProxyScheme scheme;
  uint16_t default_port;
};

constexpr SchemeInfo kSchemes[] = {
    {"http", ProxyScheme::kHttp, 80},        {"https", ProxyScheme::kHttps, 443},
    {"socks", ProxyScheme::kSocks5, 1080},   {"socks5", ProxyScheme::kSocks5, 1080},
    {"socks5h", ProxyScheme::kSocks5, 1080}, {"direct", ProxyScheme::kDirect, 0},
};

}  // namespace

std::string ProxyEndpoint::HostPortString() const {
  return HostPort{host, port}.ToString();
}

std::string ProxyEndpoint::ToString() const {
  switch (scheme) {
    case ProxyScheme::kDirect:
      return "direct://";
    case ProxyScheme::kHttp:
      return "http://" + HostPortString();
    case ProxyScheme::kHttps:
      return "https://" + HostPortString();
    case ProxyScheme::kSocks5:
      return "socks5://" + HostPortString();
  }
  return "direct://";
}

std::string ProxyEndpoint::Describe() const {
  switch (scheme) {
    case ProxyScheme::kDirect:
      return "direct";
    case ProxyScheme::kHttp:
      return "HTTP proxy " + HostPortString();
    case ProxyScheme::kHttps:
      return "HTTPS proxy " + HostPortString();
    case ProxyScheme::kSocks5:
      return "SOCKS5 proxy " + HostPortString();
  }
  return "direct";
}

std::string RedactProxyUrl(std::string_view url) {
  std::string_view rest = url;
  std::string prefix;
  const size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    prefix = std::string(url.substr(0, scheme_end + 3));
    rest = url.substr(scheme_end + 3);
  }
  // The userinfo ends at the last '@' before the path; passwords may contain '@'.
  const size_t authority_end = rest.find('/');
  const std::string_view authority = rest.substr(0, authority_end);
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos)
    rest = rest.substr(at + 1);
  return Printable(prefix) + (at != std::string_view::npos ? "***@" : "") + Printable(rest);
}

Expected<ProxyEndpoint> ParseProxyUrl(std::string_view url, std::string_view field) {
  auto invalid = [&](std::string_view why) {
    return Error{ErrorCode::kProxyConfigInvalid,
                 fmt::format("{}: \"{}\" is not a proxy URL: {}", field, RedactProxyUrl(url), why)};
  };
  if (url.size() > kMaxProxyUrlBytes)
    return invalid(fmt::format("longer than {} bytes", kMaxProxyUrlBytes));
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return invalid("expected SCHEME://HOST:PORT (http, https, socks5)");
  const std::string scheme_name = Lower(url.substr(0, scheme_end));
  const SchemeInfo* info = nullptr;
  for (const SchemeInfo& candidate : kSchemes) {
    if (scheme_name == candidate.name)
      info = &candidate;
  }
  if (info == nullptr)
    return invalid("unsupported scheme (use http, https, socks5 or direct)");
  ProxyEndpoint endpoint;
  endpoint.scheme = info->scheme;
  std::string_view rest = url.substr(scheme_end + 3);
  if (endpoint.scheme == ProxyScheme::kDirect) {
    if (!rest.empty() && rest != "/")
      return invalid("direct:// takes no address");
    return endpoint;
  }
  const size_t path_start = rest.find_first_of("/?#");
  if (path_start != std::string_view::npos) {
    if (rest.substr(path_start) != "/")
      return invalid("a proxy URL has no path");
    rest = rest.substr(0, path_start);
  }
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const size_t colon = userinfo.find(':');
    endpoint.has_credentials = true;
    auto user = PercentDecode(userinfo.substr(0, colon), /*plus_is_space=*/false);
    if (!user)
      return invalid("bad %-escape in the user name");
    endpoint.user = std::move(*user);
    if (colon != std::string_view::npos) {
      auto password = PercentDecode(userinfo.substr(colon + 1), /*plus_is_space=*/false);
      if (!password)
        return invalid("bad %-escape in the password");
      endpoint.password = std::move(*password);
    }
    if (endpoint.user.empty())
      return invalid("empty user name before '@'");
    if (HasControlCharacter(endpoint.user) || HasControlCharacter(endpoint.password))
      return invalid("control character in the login");
  }
  if (rest.empty())
    return invalid("no host");
  auto host_port = ParseHostPort(rest, info->default_port);
  if (!host_port.ok())
    return invalid(host_port.error().message);
  endpoint.host = host_port->host;
  endpoint.port = host_port->port;
  return endpoint;
}

ProxyList ParseProxyList(const std::vector<std::string>& urls) {
  ProxyList list;
  for (const std::string& url : urls) {
    auto endpoint = ParseProxyUrl(url, "detected proxy");
    if (endpoint.ok())
      list.endpoints.push_back(std::move(endpoint).value());
    else
      list.skipped.push_back(endpoint.error().message);
  }
  return list;
}

std::string JoinDomainUser(const std::string& user, const std::string& domain) {
  if (domain.empty() || user.find('\\') != std::string::npos ||
      user.find('@') != std::string::npos) {
    return user;
  }
  return domain + "\\" + user;
}

ProxyEndpoint EndpointFromConfig(const ProxyConfig& config) {
  ProxyEndpoint endpoint;
  endpoint.scheme = config.type == ProxyType::kSocks5 ? ProxyScheme::kSocks5 : ProxyScheme::kHttp;
  endpoint.host = config.host;
  endpoint.port = config.port;
  if (config.auth) {
    endpoint.has_credentials = true;
    endpoint.user = JoinDomainUser(config.user, config.domain);
    endpoint.password = config.password;
  }
  return endpoint;
}

}  // namespace lifeline
