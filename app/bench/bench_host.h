// Shared set-up of the session benchmarks: the host's security objects in a temporary
// folder (removed at the end), ephemeral device identities for both ends, a UI that
// accepts everything, and a listener on 127.0.0.1 with a free port.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "app/core/audit_log.h"
#include "app/core/host_credentials.h"
#include "app/core/host_session.h"
#include "app/core/throttle.h"
#include "base/wall_clock.h"
#include "net/tcp.h"
#include "net/tls/device_identity.h"

namespace lifeline::bench {

class AcceptingUi final : public HostSessionUi {
 public:
  ConsentDecision RequestConsent(const PeerInfo&, int) override {
    return ConsentDecision::kAccepted;
  }
  bool ShowSessionIndicator(const PeerInfo&) override { return true; }
  void HideSessionIndicator() override {}
  void OnPasswordChanged(const std::string&, bool) override {}
};

struct BenchHost {
  std::string dir;
  std::optional<DeviceIdentity> host_identity;
  std::optional<DeviceIdentity> viewer_identity;
  std::unique_ptr<HostCredentials> credentials;
  std::unique_ptr<AuthThrottle> throttle;
  std::unique_ptr<AuditLog> audit;
  AcceptingUi ui;
  HostSecurity security;
  std::unique_ptr<TcpListener> listener;

  ~BenchHost() {
    std::error_code ec;
    if (!dir.empty())
      std::filesystem::remove_all(dir, ec);
  }

  // False (with a line on stderr) when something could not be set up.
  bool Init() {
    char dir_template[] = "/tmp/lifeline-bench-XXXXXX";
    if (!mkdtemp(dir_template))
      return false;
    dir = dir_template;
    auto host = DeviceIdentity::CreateEphemeral();
    auto viewer = DeviceIdentity::CreateEphemeral();
    if (!host.ok() || !viewer.ok())
      return false;
    host_identity = std::move(host).value();
    viewer_identity = std::move(viewer).value();
    auto made_credentials =
        HostCredentials::Create(DeviceIdFromFingerprint(host_identity->fingerprint()));
    auto made_throttle = AuthThrottle::Open(dir + "/throttle.state", SystemWallClock::Get());
    auto made_audit = AuditLog::Open(dir + "/audit.log", SystemWallClock::Get());
    auto made_listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
    if (!made_credentials.ok() || !made_throttle.ok() || !made_audit.ok() || !made_listener.ok()) {
      std::fprintf(stderr, "set-up failed\n");
      return false;
    }
    credentials = std::move(made_credentials).value();
    throttle = std::move(made_throttle).value();
    audit = std::move(made_audit).value();
    listener = std::move(made_listener).value();
    security.credentials = credentials.get();
    security.throttle = throttle.get();
    security.audit = audit.get();
    security.ui = &ui;
    return true;
  }
};

}  // namespace lifeline::bench
