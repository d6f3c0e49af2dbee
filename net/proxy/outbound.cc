#include "net/proxy/outbound.h"

#include <chrono>

#include <fmt/format.h>

#include "base/log.h"
#include "net/proxy/curl_tunnel.h"
#include "net/proxy/proxy_detection.h"
#include "net/proxy/proxy_url.h"

namespace lifeline {
namespace {

using Clock = std::chrono::steady_clock;

int MsSince(Clock::time_point start) {
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

OutboundOptions WithTimeout(const OutboundOptions& options, int timeout_ms) {
  OutboundOptions copy = options;
  copy.timeout_ms = timeout_ms;
  return copy;
}

int MsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

Expected<std::unique_ptr<Transport>> ConnectAutomatic(const HostPort& target,
                                                      const ProxyConfig& config,
                                                      const OutboundOptions& options,
                                                      OutboundRoute* route) {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(std::max(options.timeout_ms, 0));
  auto detection =
      DetectProxies(target, std::min(options.detection_timeout_ms, std::max(options.timeout_ms, 0)),
                    options.cancel);
  if (!detection.ok())
    return detection.error();
  std::vector<ProxyEndpoint> candidates = detection->proxies;
  if (candidates.empty()) {
    // libproxy always answers something; an empty (all unusable) list is not "direct".
    return Error{
        ErrorCode::kProxyTunnelRefused,
        fmt::format("automatic detection found no usable way out ({})",
                    detection->skipped.empty() ? "empty list" : detection->skipped.front())};
  }
  std::optional<Error> pac_problem = detection->pac_problem;
  if (pac_problem) {
    if (!options.pac_failure_goes_direct) {
      Error refused = *pac_problem;
      refused.message +=
          "; not connecting directly (policy: a failed PAC does not fall back "
          "to direct)";
      log::Warning("proxy: {}", refused.ToString());
      return refused;
    }
    log::Warning("proxy: {}; policy: a failed PAC falls back to a direct connection",
                 pac_problem->ToString());
  }
  for (ProxyEndpoint& endpoint : candidates) {
    if (endpoint.scheme != ProxyScheme::kDirect && !endpoint.has_credentials && config.auth) {
      endpoint.has_credentials = true;
      endpoint.user = JoinDomainUser(config.user, config.domain);
      endpoint.password = config.password;
    }
  }

  std::optional<Error> first_error;
  std::optional<Error> auth_error;
  std::vector<std::string> attempts;
  for (const ProxyEndpoint& endpoint : candidates) {
    if (options.cancel != nullptr && options.cancel->load())
      return Error{ErrorCode::kCancelled, "connecting was cancelled"};
    const int left_ms = MsLeft(deadline);
    if (left_ms == 0) {
      attempts.push_back(endpoint.Describe() + ": not tried, out of time");
      if (!first_error)
        first_error = Error{
            ErrorCode::kConnectionTimedOut,
            fmt::format("no way out to {} within {} ms", target.ToString(), options.timeout_ms)};
      continue;
    }
    OutboundRoute attempt_route;
    auto transport =
        ConnectViaEndpoint(target, endpoint, WithTimeout(options, left_ms), &attempt_route);
    if (transport.ok()) {
      attempts.push_back(
          fmt::format("{}: ok ({} ms)", attempt_route.description, attempt_route.elapsed_ms));
      if (route) {
        *route = attempt_route;
        route->description = "automatic: " + attempt_route.description;
        route->elapsed_ms = MsSince(start);
        route->attempts = attempts;
        if (pac_problem) {
          route->notice = *pac_problem;
          route->notice->message += "; connected directly instead (policy)";
        }
      }
      return transport;
    }
    const Error& error = transport.error();
    if (error.code == ErrorCode::kCancelled)
      return error;
    attempts.push_back(fmt::format("{}: {} ({} ms)", attempt_route.description, error.ToString(),
                                   attempt_route.elapsed_ms));
    if (!first_error)
      first_error = error;
    if (!auth_error && error.code == ErrorCode::kProxyAuthFailed)
      auth_error = error;
  }
  if (route) {
    route->description = "automatic";
    route->elapsed_ms = MsSince(start);
    route->attempts = attempts;
  }
  std::string tried;
  for (const std::string& attempt : attempts)
    tried += (tried.empty() ? "" : "; ") + attempt;
  if (pac_problem) {
    return Error{ErrorCode::kPacUnavailable,
                 fmt::format("{}; tried a direct connection instead (policy), which failed: {}",
                             pac_problem->message, tried)};
  }
  Error result = auth_error ? *auth_error : *first_error;
  if (attempts.size() > 1)
    result.message = fmt::format("{} (tried in order: {})", result.message, tried);
  return result;
}

}  // namespace

Expected<std::unique_ptr<Transport>> ConnectViaEndpoint(const HostPort& target,
                                                        const ProxyEndpoint& endpoint,
                                                        const OutboundOptions& options,
                                                        OutboundRoute* route) {
  OutboundRoute local_route;
  OutboundRoute* out = route != nullptr ? route : &local_route;
  if (endpoint.scheme != ProxyScheme::kDirect)
    return ConnectThroughProxy(target, endpoint, options.timeout_ms, options.cancel, out);
  const auto start = Clock::now();
  auto transport = ConnectTcp(target, options.timeout_ms, options.cancel);
  out->description = "direct";
  out->elapsed_ms = MsSince(start);
  out->http_connect_status = 0;
  return transport;
}

Expected<std::unique_ptr<Transport>> ConnectOutbound(const HostPort& target,
                                                     const ProxyConfig& config,
                                                     const OutboundOptions& options,
                                                     OutboundRoute* route) {
  if (Status valid = ValidateProxyConfig(config); !valid.ok())
    return valid.error();
  OutboundRoute local_route;
  OutboundRoute* out = route != nullptr ? route : &local_route;
  switch (config.mode) {
    case ProxyMode::kNone:
      return ConnectViaEndpoint(target, ProxyEndpoint{}, options, out);
    case ProxyMode::kManual:
      return ConnectViaEndpoint(target, EndpointFromConfig(config), options, out);
    case ProxyMode::kAutomatic:
      return ConnectAutomatic(target, config, options, out);
  }
  return Error{ErrorCode::kProxyConfigInvalid, "proxy.mode: unknown"};
}

}  // namespace lifeline
