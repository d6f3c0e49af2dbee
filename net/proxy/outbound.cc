// Placeholder until the proxy stack lands: direct connections only; proxy modes are
// refused with kProxyConfigInvalid (never silently direct).
#include "net/proxy/outbound.h"

#include <chrono>

namespace lifeline {

Expected<std::unique_ptr<Transport>> ConnectOutbound(const HostPort& target,
                                                     const ProxyConfig& config,
                                                     const OutboundOptions& options,
                                                     OutboundRoute* route) {
  if (config.mode != ProxyMode::kNone)
    return Error{ErrorCode::kProxyConfigInvalid, "proxy.mode: proxies are not supported yet"};
  auto start = std::chrono::steady_clock::now();
  auto transport = ConnectTcp(target, options.timeout_ms, options.cancel);
  if (route) {
    route->description = "direct";
    route->elapsed_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - start)
                                             .count());
  }
  return transport;
}

}  // namespace lifeline
