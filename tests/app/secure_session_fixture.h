// Test fixture: two real TLS 1.3 endpoints over a socket pair, and the host's security
// objects (real throttle, audit log and credentials in a temporary folder, fake wall
// clock, a recording UI).
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/core/access_list.h"
#include "app/core/audit_log.h"
#include "app/core/auth_protocol.h"
#include "app/core/host_credentials.h"
#include "app/core/host_session.h"
#include "app/core/session_ui.h"
#include "app/core/throttle.h"
#include "app/core/two_factor.h"
#include "base/wall_clock.h"
#include "net/testing/transport_pair.h"
#include "net/tls/device_identity.h"
#include "net/tls/tls_transport.h"
#include "tests/support/temp_dir.h"

namespace lifeline::testing {

inline constexpr char kTestPassword[] = "ABCDEFGHJK";

// Records what the core asked of the front-end; answers as configured.
class RecordingHostUi final : public HostSessionUi {
 public:
  ConsentDecision consent_answer = ConsentDecision::kAccepted;
  bool indicator_works = true;

  ConsentDecision RequestConsent(const PeerInfo& peer, int) override {
    std::lock_guard lock(mutex_);
    consent_requests.push_back(peer);
    return consent_answer;
  }
  bool ShowSessionIndicator(const PeerInfo& peer) override {
    std::lock_guard lock(mutex_);
    indicator_peers.push_back(peer);
    indicator_visible = indicator_works;
    return indicator_works;
  }
  void HideSessionIndicator() override {
    std::lock_guard lock(mutex_);
    indicator_visible = false;
  }
  void OnPasswordChanged(const std::string& password, bool after_failures) override {
    std::lock_guard lock(mutex_);
    password_changes.emplace_back(password, after_failures);
  }

  std::mutex mutex_;
  std::vector<PeerInfo> consent_requests;
  std::vector<PeerInfo> indicator_peers;
  bool indicator_visible = false;
  std::vector<std::pair<std::string, bool>> password_changes;
};

struct SecureEnd {
  std::unique_ptr<Transport> transport;
  SecureChannelInfo info;
};

// TLS 1.3 handshakes on both ends of `pair` (server on its own thread).
inline std::pair<SecureEnd, SecureEnd> HandshakePair(
    std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>> pair,
    const DeviceIdentity& host_identity,
    const DeviceIdentity& viewer_identity) {
  Expected<std::unique_ptr<TlsTransport>> server(ErrorCode::kInternal, "not run");
  std::thread server_thread([&] {
    server = TlsHandshake(std::move(pair.first), TlsRole::kServer, host_identity, 10'000);
  });
  auto client = TlsHandshake(std::move(pair.second), TlsRole::kClient, viewer_identity, 10'000);
  server_thread.join();
  REQUIRE(server.ok());
  REQUIRE(client.ok());
  SecureEnd host_end;
  host_end.info.channel_binding = (*server)->channel_binding();
  host_end.info.peer_fingerprint = (*server)->peer_fingerprint();
  host_end.info.peer_address = "test viewer";
  host_end.transport = std::move(server).value();
  SecureEnd viewer_end;
  viewer_end.info.channel_binding = (*client)->channel_binding();
  viewer_end.info.peer_fingerprint = (*client)->peer_fingerprint();
  viewer_end.info.peer_address = "test host";
  viewer_end.transport = std::move(client).value();
  return {std::move(host_end), std::move(viewer_end)};
}

// The host's long-lived security objects in a temporary folder.
class HostSecurityFixture {
 public:
  HostSecurityFixture() : host_identity(MakeIdentity()), viewer_identity(MakeIdentity()) {
    auto made_credentials =
        HostCredentials::Create(DeviceIdFromFingerprint(host_identity.fingerprint()));
    REQUIRE(made_credentials.ok());
    credentials = std::move(made_credentials).value();
    REQUIRE(credentials->SetPasswordForTesting(kTestPassword).ok());
    auto made_throttle = AuthThrottle::Open(dir.File("throttle.state"), wall_clock);
    REQUIRE(made_throttle.ok());
    throttle = std::move(made_throttle).value();
    auto made_audit = AuditLog::Open(dir.File("audit.log"), wall_clock);
    REQUIRE(made_audit.ok());
    audit = std::move(made_audit).value();
    security.credentials = credentials.get();
    security.throttle = throttle.get();
    security.audit = audit.get();
    security.ui = &ui;
    security.auth_timeout_ms = 20'000;
  }

  std::string viewer_id() const { return DeviceIdFromFingerprint(viewer_identity.fingerprint()); }

  std::pair<SecureEnd, SecureEnd> Connect() {
    return HandshakePair(CreateTransportPair(), host_identity, viewer_identity);
  }

  // Event names in the audit log, in order.
  std::vector<std::string> AuditEvents() const {
    std::vector<std::string> names;
    const std::string text = ReadFileToString(dir.File("audit.log"));
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos)
        end = text.size();
      const std::string line = text.substr(start, end - start);
      const size_t a = line.find('\t');
      const size_t b = line.find('\t', a + 1);
      const size_t c = line.find('\t', b + 1);
      if (c != std::string::npos)
        names.push_back(line.substr(b + 1, c - b - 1));
      start = end + 1;
    }
    return names;
  }

  TempDir dir;
  FakeWallClock wall_clock;
  DeviceIdentity host_identity;
  DeviceIdentity viewer_identity;
  std::unique_ptr<HostCredentials> credentials;
  std::unique_ptr<AuthThrottle> throttle;
  std::unique_ptr<AuditLog> audit;
  RecordingHostUi ui;
  HostSecurity security;

 private:
  static DeviceIdentity MakeIdentity() {
    auto identity = DeviceIdentity::CreateEphemeral();
    REQUIRE(identity.ok());
    return std::move(identity).value();
  }
};

// Runs HostSession::Run on its own thread; the destructor stops and joins it.
class HostSessionThread {
 public:
  HostSessionThread(HostOptions options, HostSecurityFixture& fixture, SecureEnd end)
      : session_(std::move(options), &fixture.security, end.info, std::move(end.transport)),
        thread_([this] { result_ = session_.Run(stop_); }) {}
  ~HostSessionThread() {
    stop_ = true;
    static_cast<void>(Join());
  }
  Status Join() {
    if (thread_.joinable())
      thread_.join();
    return result_;
  }
  HostSession& session() { return session_; }

 private:
  std::atomic<bool> stop_{false};
  Status result_;
  HostSession session_;
  std::thread thread_;
};

}  // namespace lifeline::testing
