// Authentication, consent, the "session active" indicator and password rotation through
// the full session cores: HostSession and ViewerSession over real TLS 1.3 on a socket pair,
// the synthetic capturer, and the host's real throttle and audit log in a temporary folder.
//
// security.md section 6: requirements 3 (fresh PAKE per connection), 10 (the password is
// rotated and never written down), 12 (rotation after 10 failures) and 19 (no indicator,
// no session).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/core/host_session.h"
#include "app/core/viewer_session.h"
#include "net/auth/one_time_password.h"
#include "tests/app/secure_session_fixture.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using testing::HostSecurityFixture;
using testing::kTestPassword;
using testing::SecureEnd;

constexpr char kWrongPassword[] = "ZZZZ-ZZZZ-ZZ";
constexpr int kCloseTimeoutMs = 30'000;  // Generous: a loaded 2-core CI machine.

HostOptions SmallSyntheticHost() {
  HostOptions options;
  options.capture.source = CaptureSource::kSynthetic;
  options.capture.synthetic_size = Size{320, 240};
  options.max_fps = 30;
  options.bitrate_kbps = 500;
  options.handshake_timeout_ms = 20'000;
  return options;
}

// The host session with the small synthetic screen, on its own thread.
class HostThread : public testing::HostSessionThread {
 public:
  HostThread(HostSecurityFixture& fixture, SecureEnd end)
      : HostSessionThread(SmallSyntheticHost(), fixture, std::move(end)) {}
};

std::unique_ptr<ViewerSession> MakeViewer(const HostSecurityFixture& fixture,
                                          SecureEnd end,
                                          const std::string& password) {
  ViewerOptions options;
  options.own_device_id = fixture.viewer_id();
  options.password = password;
  options.handshake_timeout_ms = 20'000;
  return std::make_unique<ViewerSession>(options, end.info, std::move(end.transport));
}

std::unique_ptr<ViewerSession> StartViewer(const HostSecurityFixture& fixture,
                                           SecureEnd end,
                                           const std::string& password) {
  auto viewer = MakeViewer(fixture, std::move(end), password);
  REQUIRE(viewer->Start().ok());
  return viewer;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return condition();
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool WaitForDecodedFrame(ViewerSession& viewer) {
  return WaitFor([&] { return viewer.last_frame() != nullptr; }, 30s);
}

size_t Count(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<size_t>(std::count(names.begin(), names.end(), name));
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A complete session with the right password: frames flow, then the viewer leaves.
void RunSuccessfulSession(HostSecurityFixture& fixture, const std::string& password) {
  auto [host_end, viewer_end] = fixture.Connect();
  HostThread host(fixture, std::move(host_end));
  auto viewer = StartViewer(fixture, std::move(viewer_end), password);
  REQUIRE(WaitForDecodedFrame(*viewer));
  CHECK(viewer->authenticated());
  viewer->Stop();
  CHECK(host.Join().ok());
}

// A complete session with a wrong password; returns the host's result.
Status RunFailedSession(HostSecurityFixture& fixture,
                        const std::string& password = kWrongPassword) {
  auto [host_end, viewer_end] = fixture.Connect();
  HostThread host(fixture, std::move(host_end));
  auto viewer = StartViewer(fixture, std::move(viewer_end), password);
  REQUIRE(viewer->WaitClosed(kCloseTimeoutMs));
  CHECK(viewer->close_reason().code == ErrorCode::kAuthFailed);
  CHECK(viewer->last_frame() == nullptr);
  return host.Join();
}

std::vector<std::pair<std::string, bool>> PasswordChanges(HostSecurityFixture& fixture) {
  std::lock_guard lock(fixture.ui.mutex_);
  return fixture.ui.password_changes;
}

size_t IndicatorCalls(HostSecurityFixture& fixture) {
  std::lock_guard lock(fixture.ui.mutex_);
  return fixture.ui.indicator_peers.size();
}

std::string Normalized(const std::string& display_password) {
  auto normalized = NormalizeOneTimePassword(display_password);
  REQUIRE(normalized.ok());
  return *normalized;
}

// ---------------------------------------------------------------------------------------

TEST_CASE("Session auth: a wrong password shows nothing and is audited", "[app][auth]") {
  HostSecurityFixture fixture;
  auto [host_end, viewer_end] = fixture.Connect();
  HostThread host(fixture, std::move(host_end));
  auto viewer = StartViewer(fixture, std::move(viewer_end), kWrongPassword);

  REQUIRE(viewer->WaitClosed(kCloseTimeoutMs));
  CHECK(viewer->close_reason().code == ErrorCode::kAuthFailed);
  CHECK_FALSE(viewer->authenticated());
  const Status result = host.Join();
  CHECK_FALSE(result.ok());
  CHECK_FALSE(host.session().authenticated());
  CHECK(viewer->last_frame() == nullptr);
  CHECK(host.session().stats().frames_captured == 0);
  CHECK(host.session().stats().frames_encoded == 0);

  // attempt (the host's share went out), then auth_failed (the viewer left mid-exchange).
  CHECK(fixture.AuditEvents() == std::vector<std::string>{"attempt", "auth_failed"});
  CHECK(fixture.throttle->consecutive_failures() == 1);
  CHECK(IndicatorCalls(fixture) == 0);
  std::lock_guard lock(fixture.ui.mutex_);
  CHECK(fixture.ui.consent_requests.empty());
  CHECK(fixture.ui.password_changes.empty());
}

TEST_CASE("Session auth: without the local user's consent nothing is shown", "[app][auth]") {
  HostSecurityFixture fixture;
  fixture.security.require_consent = true;
  std::string expected_text;
  ErrorCode expected_host_code = ErrorCode::kConsentDenied;
  SECTION("denied") {
    fixture.ui.consent_answer = ConsentDecision::kDenied;
    expected_text = "declined";
  }
  SECTION("no answer in time") {
    fixture.ui.consent_answer = ConsentDecision::kTimedOut;
    expected_text = "did not answer";
  }

  auto [host_end, viewer_end] = fixture.Connect();
  HostThread host(fixture, std::move(host_end));
  auto viewer = StartViewer(fixture, std::move(viewer_end), kTestPassword);
  REQUIRE(viewer->WaitClosed(kCloseTimeoutMs));
  const Error reason = viewer->close_reason();
  CHECK(reason.code == ErrorCode::kPeerError);
  CHECK(Contains(reason.message, expected_text));
  CHECK_FALSE(viewer->authenticated());
  CHECK(host.Join().code() == expected_host_code);
  CHECK(host.session().authenticated());  // The password was right; consent is what failed.
  CHECK(viewer->last_frame() == nullptr);
  CHECK(host.session().stats().frames_captured == 0);
  CHECK(host.session().stats().frames_encoded == 0);
  CHECK(host.session().stats().bytes_sent < 4096);  // Handshake and auth messages only.

  std::lock_guard lock(fixture.ui.mutex_);
  REQUIRE(fixture.ui.consent_requests.size() == 1);
  CHECK(fixture.ui.consent_requests[0].device_id == fixture.viewer_id());
  CHECK(fixture.ui.consent_requests[0].fingerprint == fixture.viewer_identity.fingerprint());
  CHECK(fixture.ui.indicator_peers.empty());
  CHECK(Count(fixture.AuditEvents(), "consent_denied") == 1);
  CHECK(Count(fixture.AuditEvents(), "session_started") == 0);
}

TEST_CASE("Session auth: with the local user's consent frames flow", "[app][auth]") {
  HostSecurityFixture fixture;
  fixture.security.require_consent = true;
  fixture.ui.consent_answer = ConsentDecision::kAccepted;
  auto [host_end, viewer_end] = fixture.Connect();
  HostThread host(fixture, std::move(host_end));
  auto viewer = StartViewer(fixture, std::move(viewer_end), kTestPassword);
  REQUIRE(WaitForDecodedFrame(*viewer));
  CHECK(viewer->authenticated());
  {
    std::lock_guard lock(fixture.ui.mutex_);
    CHECK(fixture.ui.consent_requests.size() == 1);
    REQUIRE(fixture.ui.indicator_peers.size() == 1);
    CHECK(fixture.ui.indicator_peers[0].device_id == fixture.viewer_id());
    CHECK(fixture.ui.indicator_visible);
  }
  viewer->Stop();
  CHECK(host.Join().ok());
  std::lock_guard lock(fixture.ui.mutex_);
  CHECK_FALSE(fixture.ui.indicator_visible);  // Hidden at the end.
}

TEST_CASE("Session auth: no session when the indicator cannot be shown", "[app][auth]") {
  HostSecurityFixture fixture;
  fixture.ui.indicator_works = false;
  auto [host_end, viewer_end] = fixture.Connect();
  HostThread host(fixture, std::move(host_end));
  auto viewer = StartViewer(fixture, std::move(viewer_end), kTestPassword);

  REQUIRE(viewer->WaitClosed(kCloseTimeoutMs));
  CHECK(viewer->close_reason().code == ErrorCode::kPeerError);
  CHECK(Contains(viewer->close_reason().message, "session is active"));
  CHECK_FALSE(viewer->authenticated());
  CHECK(host.Join().code() == ErrorCode::kSessionIndicatorUnavailable);
  CHECK(viewer->last_frame() == nullptr);
  CHECK(host.session().stats().frames_captured == 0);
  CHECK(host.session().stats().frames_encoded == 0);
  CHECK(IndicatorCalls(fixture) == 1);  // It was tried, after authentication.
  CHECK(Count(fixture.AuditEvents(), "session_started") == 0);
}

TEST_CASE("Session auth: the password changes after a session", "[app][auth]") {
  HostSecurityFixture fixture;
  const std::string before = fixture.credentials->display_password();
  REQUIRE(before == FormatForDisplay(kTestPassword));
  RunSuccessfulSession(fixture, kTestPassword);

  const std::string after = fixture.credentials->display_password();
  CHECK(after != before);
  const auto changes = PasswordChanges(fixture);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].first == after);
  CHECK_FALSE(changes[0].second);
  const auto events = fixture.AuditEvents();
  CHECK(Count(events, "session_started") == 1);
  CHECK(Count(events, "session_ended") == 1);

  // The old password no longer opens a session.
  CHECK_FALSE(RunFailedSession(fixture, kTestPassword).ok());
  CHECK(Count(fixture.AuditEvents(), "session_started") == 1);
}

TEST_CASE("Session auth: the 10th consecutive failure rotates the password", "[app][auth]") {
  HostSecurityFixture fixture;
  // Eight failures recorded earlier (the counter persists), each after its wait.
  for (int k = 1; k <= 8; ++k) {
    fixture.wall_clock.AdvanceMs(AuthThrottle::DelayAfterFailuresMs(k - 1));
    auto decision = fixture.throttle->RecordAttemptStarted();
    REQUIRE(decision.ok());
    REQUIRE(decision->allowed());
  }
  const std::string before = fixture.credentials->display_password();

  fixture.wall_clock.AdvanceMs(AuthThrottle::DelayAfterFailuresMs(8));
  CHECK_FALSE(RunFailedSession(fixture).ok());  // The 9th: nothing changes yet.
  CHECK(fixture.throttle->consecutive_failures() == 9);
  CHECK(PasswordChanges(fixture).empty());
  CHECK(fixture.credentials->display_password() == before);

  fixture.wall_clock.AdvanceMs(AuthThrottle::DelayAfterFailuresMs(9));
  CHECK_FALSE(RunFailedSession(fixture).ok());            // The 10th.
  CHECK(fixture.throttle->consecutive_failures() == 10);  // Rotation does not reset it.
  const auto changes = PasswordChanges(fixture);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].second);  // after_failures: the user is told why.
  CHECK(changes[0].first == fixture.credentials->display_password());
  CHECK(fixture.credentials->display_password() != before);
  CHECK_FALSE(fixture.throttle->ShouldRotatePassword());
  CHECK(Count(fixture.AuditEvents(), "password_rotated") == 1);
}

TEST_CASE("Session auth: passwords never reach the audit log or the throttle file", "[app][auth]") {
  HostSecurityFixture fixture;
  RunSuccessfulSession(fixture, FormatForDisplay(kTestPassword));
  const std::string rotated = fixture.credentials->display_password();
  REQUIRE(rotated != FormatForDisplay(kTestPassword));
  CHECK_FALSE(RunFailedSession(fixture).ok());

  std::vector<std::string> secrets = {kTestPassword, FormatForDisplay(kTestPassword), rotated,
                                      Normalized(rotated)};
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(fixture.dir.path())) {
    if (entry.is_regular_file())
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  // Not vacuous: the files that record sessions are there and have content.
  REQUIRE(std::find(files.begin(), files.end(), fixture.dir.File("audit.log")) != files.end());
  REQUIRE(std::find(files.begin(), files.end(), fixture.dir.File("throttle.state")) != files.end());
  REQUIRE(fixture.AuditEvents().size() >= 5);
  for (const std::string& file : files) {
    const std::string content = testing::ReadFileToString(file);
    for (const std::string& secret : secrets) {
      INFO(file << " must not contain a password");
      CHECK_FALSE(Contains(content, secret));
    }
  }
}

TEST_CASE("Session auth: every connection runs a fresh password exchange", "[app][auth]") {
  HostSecurityFixture fixture;
  RunSuccessfulSession(fixture, kTestPassword);
  const std::string second_password = fixture.credentials->display_password();
  REQUIRE(second_password != FormatForDisplay(kTestPassword));
  RunSuccessfulSession(fixture, second_password);

  const auto events = fixture.AuditEvents();
  CHECK(Count(events, "attempt") == 2);
  CHECK(Count(events, "auth_succeeded") == 2);
  CHECK(Count(events, "session_started") == 2);
  CHECK(PasswordChanges(fixture).size() == 2);
}

// security.md requirement 10, host_credentials.h ("replaced ... after every session"):
// once a viewer has passed the password exchange, that one-time password is used up, even
// if the local user then refuses the session or the indicator fails. Otherwise the refused
// viewer could try again with the same password as often as it likes, each time prompting
// the user and resetting the brute-force counter.
TEST_CASE("Session auth: a refused session still uses up the password", "[app][auth]") {
  HostSecurityFixture fixture;
  SECTION("consent denied") {
    fixture.security.require_consent = true;
    fixture.ui.consent_answer = ConsentDecision::kDenied;
  }
  SECTION("indicator unavailable") {
    fixture.ui.indicator_works = false;
  }
  auto [host_end, viewer_end] = fixture.Connect();
  HostThread host(fixture, std::move(host_end));
  auto viewer = StartViewer(fixture, std::move(viewer_end), kTestPassword);
  REQUIRE(viewer->WaitClosed(kCloseTimeoutMs));
  CHECK_FALSE(host.Join().ok());
  REQUIRE(host.session().authenticated());

  CHECK(fixture.credentials->display_password() != FormatForDisplay(kTestPassword));
  CHECK(PasswordChanges(fixture).size() == 1);
}

// A UI whose indicator appears while the viewer is already leaving.
class ViewerLeavesAtIndicatorUi final : public HostSessionUi {
 public:
  std::function<void()> on_show;
  ConsentDecision RequestConsent(const PeerInfo&, int) override {
    return ConsentDecision::kAccepted;
  }
  bool ShowSessionIndicator(const PeerInfo&) override {
    if (on_show)
      on_show();
    std::lock_guard lock(mutex_);
    ++shown;
    return true;
  }
  void HideSessionIndicator() override {
    std::lock_guard lock(mutex_);
    ++hidden;
  }
  void OnPasswordChanged(const std::string&, bool) override {}

  std::mutex mutex_;
  int shown = 0;
  int hidden = 0;
};

// session_ui.h: "The indicator stays until HideSessionIndicator() at the end of the
// session": every indicator shown is hidden again, also when the viewer leaves while
// ShowSessionIndicator() runs (the session then ends before AuthResult is sent).
TEST_CASE("Session auth: an indicator shown is hidden even if the viewer left meanwhile",
          "[app][auth]") {
  HostSecurityFixture fixture;
  ViewerLeavesAtIndicatorUi ui;
  fixture.security.ui = &ui;
  auto [host_end, viewer_end] = fixture.Connect();
  std::unique_ptr<ViewerSession> viewer;
  ui.on_show = [&] {
    viewer->Stop();
    // Give the host's network thread time to read the Goodbye. If it is slower than
    // this, the test passes without exercising the race (it cannot fail spuriously).
    std::this_thread::sleep_for(1s);
  };
  viewer = MakeViewer(fixture, std::move(viewer_end), kTestPassword);
  HostThread host(fixture, std::move(host_end));
  REQUIRE(viewer->Start().ok());
  CHECK(host.Join().ok());
  std::lock_guard lock(ui.mutex_);
  REQUIRE(ui.shown == 1);
  CHECK(ui.hidden == 1);
}

}  // namespace
}  // namespace lifeline
