#include "app/core/doctor.h"

#include <chrono>

#include <fmt/format.h>

#include "net/proxy/outbound.h"
#include "net/proxy/proxy_detection.h"
#include "net/proxy/proxy_url.h"
#include "net/tls/device_identity.h"
#include "net/tls/tls_transport.h"

namespace lifeline {
namespace {

using Clock = std::chrono::steady_clock;

// Used for the detection row when no relay is given (PACs decide per host).
const HostPort kNoRelayProbeTarget{"relay.lifeline.invalid", 443};

int MsSince(Clock::time_point start) {
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

struct Path {
  std::string name;
  ProxyEndpoint endpoint;
};

DoctorRow FailedRow(std::string path, std::string target, const Error& error, int elapsed_ms) {
  DoctorRow row;
  row.path = std::move(path);
  row.target = std::move(target);
  row.elapsed_ms = elapsed_ms;
  row.code = error.code;
  row.detail = error.message;
  return row;
}

// Tunnel (or TCP) to `target` over `path`, then with a pin the relay's TLS key.
DoctorRow TryPath(const Path& path,
                  const HostPort& target,
                  const DoctorOptions& options,
                  const DeviceIdentity* identity,
                  const std::atomic<bool>* cancel) {
  const auto start = Clock::now();
  OutboundOptions outbound;
  outbound.timeout_ms = options.timeout_ms;
  outbound.cancel = cancel;
  OutboundRoute route;
  auto transport = ConnectViaEndpoint(target, path.endpoint, outbound, &route);
  DoctorRow row;
  row.path = path.name;
  row.target = target.ToString();
  row.http_connect_status = route.http_connect_status;
  if (!transport.ok()) {
    row = FailedRow(path.name, target.ToString(), transport.error(), MsSince(start));
    row.http_connect_status = route.http_connect_status;
    return row;
  }
  row.detail =
      path.endpoint.scheme == ProxyScheme::kDirect
          ? "TCP connection up"
          : fmt::format("tunnel up (CONNECT {})", route.http_connect_status != 0
                                                      ? std::to_string(route.http_connect_status)
                                                      : std::string("SOCKS5 ok"));
  if (!options.relay_pin.empty() && identity != nullptr) {
    auto tls = TlsHandshake(std::move(transport).value(), TlsRole::kClient, *identity,
                            options.timeout_ms, cancel);
    if (!tls.ok()) {
      DoctorRow failed = FailedRow(path.name, target.ToString(), tls.error(), MsSince(start));
      failed.http_connect_status = route.http_connect_status;
      failed.detail = row.detail + ", but " + tls.error().message;
      return failed;
    }
    if ((*tls)->peer_fingerprint() != options.relay_pin) {
      DoctorRow failed =
          FailedRow(path.name, target.ToString(),
                    Error{ErrorCode::kRelayCertificateInvalid,
                          fmt::format("{}, but the relay's key {} is not the pinned key {}",
                                      row.detail, ShortFingerprint((*tls)->peer_fingerprint()),
                                      ShortFingerprint(options.relay_pin))},
                    MsSince(start));
      failed.http_connect_status = route.http_connect_status;
      return failed;
    }
    row.detail += ", relay key matches the pin";
  }
  row.ok = true;
  row.elapsed_ms = MsSince(start);
  return row;
}

// Without a relay: can the proxy itself be reached?
DoctorRow TryProxyOnly(const Path& path,
                       const DoctorOptions& options,
                       const std::atomic<bool>* cancel) {
  const auto start = Clock::now();
  const HostPort proxy{path.endpoint.host, path.endpoint.port};
  auto transport = ConnectTcp(proxy, options.timeout_ms, cancel);
  if (!transport.ok()) {
    return FailedRow(path.name, "",
                     Error{ErrorCode::kProxyUnreachable,
                           fmt::format("{} is not reachable: {}", path.endpoint.Describe(),
                                       transport.error().message)},
                     MsSince(start));
  }
  DoctorRow row;
  row.path = path.name;
  row.ok = true;
  row.elapsed_ms = MsSince(start);
  row.detail = "proxy reachable (no --relay given: no tunnel tried)";
  return row;
}

}  // namespace

std::vector<DoctorRow> RunDoctor(const DoctorOptions& options, const std::atomic<bool>* cancel) {
  std::vector<DoctorRow> rows;
  if (Status valid = ValidateProxyConfig(options.proxy); !valid.ok()) {
    rows.push_back(FailedRow("configured proxy", "", valid.error(), 0));
    return rows;
  }
  std::vector<Path> paths;
  if (options.relay)
    paths.push_back(Path{"direct", ProxyEndpoint{}});
  if (options.proxy.mode == ProxyMode::kManual) {
    const ProxyEndpoint endpoint = EndpointFromConfig(options.proxy);
    paths.push_back(Path{"configured: " + endpoint.Describe(), endpoint});
  }
  if (options.detect) {
    const HostPort probe = options.relay.value_or(kNoRelayProbeTarget);
    auto detection = DetectProxies(probe, options.detection_timeout_ms, cancel);
    DoctorRow row;
    row.path = "detection (libproxy)";
    if (!detection.ok()) {
      row = FailedRow(row.path, "", detection.error(), options.detection_timeout_ms);
    } else {
      row.elapsed_ms = detection->elapsed_ms;
      std::string list;
      for (const ProxyEndpoint& endpoint : detection->proxies)
        list += (list.empty() ? "" : " ") + endpoint.ToString();
      row.detail = "libproxy says: " + (list.empty() ? std::string("nothing") : list);
      if (!detection->pac_url.empty())
        row.detail += " (PAC " + detection->pac_url + ")";
      for (const std::string& skipped : detection->skipped)
        row.detail += "; ignored " + skipped;
      row.ok = !detection->pac_problem.has_value();
      if (detection->pac_problem) {
        row.code = detection->pac_problem->code;
        row.detail =
            detection->pac_problem->message + "; automatic mode connects directly instead (policy)";
      }
      for (ProxyEndpoint endpoint : detection->proxies) {
        if (endpoint.scheme == ProxyScheme::kDirect)
          continue;
        if (!endpoint.has_credentials && options.proxy.auth) {
          endpoint.has_credentials = true;
          endpoint.user = JoinDomainUser(options.proxy.user, options.proxy.domain);
          endpoint.password = options.proxy.password;
        }
        paths.push_back(Path{"detected: " + endpoint.Describe(), endpoint});
      }
    }
    rows.push_back(std::move(row));
  }

  std::optional<DeviceIdentity> identity;
  if (options.relay && !options.relay_pin.empty()) {
    auto created = DeviceIdentity::CreateEphemeral();
    if (!created.ok()) {
      rows.push_back(FailedRow("relay key check", "", created.error(), 0));
      return rows;
    }
    identity = std::move(created).value();
  }
  if (!options.relay) {
    for (const Path& path : paths)
      rows.push_back(TryProxyOnly(path, options, cancel));
    return rows;
  }
  std::vector<HostPort> targets{*options.relay};
  const HostPort fallback =
      options.fallback.value_or(HostPort{options.relay->host, options.fallback_port});
  if (fallback.ToString() != options.relay->ToString())
    targets.push_back(fallback);
  for (const HostPort& target : targets) {
    for (const Path& path : paths) {
      if (cancel != nullptr && cancel->load())
        return rows;
      rows.push_back(TryPath(path, target, options, identity ? &*identity : nullptr, cancel));
    }
  }
  return rows;
}

}  // namespace lifeline
