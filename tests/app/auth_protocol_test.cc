// The authentication state machines (app/core/auth_protocol.h) driven directly: Envelopes
// are handed from one authenticator to the other, no sockets. The host side uses the real
// throttle, audit log, credentials and 2FA store of HostSecurityFixture (temporary folder,
// fake wall clock); the TLS channel binding and peer fingerprint are chosen by each test.
//
// security.md section 6: requirements 4 (exporter binding defeats a splicing relay),
// 6 (share validation), 8 (nothing early), 12 (throttle), 13 (indistinguishable refusals),
// 15 (allowlist on the key fingerprint) and 17 (TOTP window and single use).
#include <catch2/catch.hpp>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "app/core/access_list.h"
#include "app/core/audit_log.h"
#include "app/core/auth_protocol.h"
#include "app/core/host_credentials.h"
#include "app/core/throttle.h"
#include "app/core/two_factor.h"
#include "net/auth/one_time_password.h"
#include "net/auth/spake2.h"
#include "net/auth/totp.h"
#include "net/message_channel.h"
#include "tests/app/secure_session_fixture.h"

namespace lifeline {
namespace {

using testing::HostSecurityFixture;
using testing::kTestPassword;

using Binding = std::array<uint8_t, 32>;
using HostState = HostAuthenticator::State;
using ViewerState = ViewerAuthenticator::State;

// A password in the right alphabet that is not kTestPassword.
constexpr char kWrongPassword[] = "ZZZZ-ZZZZ-ZZ";

// A 32-byte "TLS exporter" that differs for different tags.
Binding MakeBinding(uint8_t tag) {
  Binding binding;
  for (size_t i = 0; i < binding.size(); ++i) {
    binding[i] = static_cast<uint8_t>(tag * 31 + i * 7 + 1);
  }
  return binding;
}

// What the host's TLS layer would report for the fixture's viewer on a connection whose
// exporter is `binding`.
SecureChannelInfo HostChannel(const HostSecurityFixture& fixture, const Binding& binding) {
  SecureChannelInfo info;
  info.channel_binding = binding;
  info.peer_fingerprint = fixture.viewer_identity.fingerprint();
  info.peer_address = "192.0.2.7:40000";
  return info;
}

wire::Hello ViewerHello(const std::string& viewer_id) {
  wire::Hello hello;
  hello.set_role(wire::ROLE_VIEWER);
  hello.set_device_id(viewer_id);
  hello.set_protocol_version(kProtocolVersion);
  hello.set_min_protocol_version(kMinProtocolVersion);
  return hello;
}

wire::Hello HostHello(const HostSecurityFixture& fixture) {
  wire::Hello hello;
  hello.set_role(wire::ROLE_HOST);
  hello.set_device_id(fixture.credentials->host_id());
  hello.set_protocol_version(kProtocolVersion);
  hello.set_min_protocol_version(kMinProtocolVersion);
  return hello;
}

std::string Bytes(std::span<const uint8_t> data) {
  return std::string(reinterpret_cast<const char*>(data.data()), data.size());
}

wire::Envelope ShareMessage(const std::string& share) {
  wire::Envelope message;
  message.mutable_auth_share()->set_share(share);
  return message;
}

wire::Envelope ConfirmMessage(const std::string& confirmation) {
  wire::Envelope message;
  message.mutable_auth_confirm()->set_confirmation(confirmation);
  return message;
}

wire::Envelope ResultMessage(bool accepted) {
  wire::Envelope message;
  message.mutable_auth_result()->set_accepted(accepted);
  return message;
}

std::vector<int> Types(const std::vector<wire::Envelope>& messages) {
  std::vector<int> types;
  for (const auto& message : messages)
    types.push_back(static_cast<int>(message.payload_case()));
  return types;
}

size_t Count(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<size_t>(std::count(names.begin(), names.end(), name));
}

// Everything both authenticators said to each other, and how each side ended.
struct Transcript {
  std::vector<wire::Envelope> to_host;    // Delivered to the host, in order.
  std::vector<wire::Envelope> to_viewer;  // Delivered to the viewer, in order.
  std::optional<Error> host_close;
  std::optional<Error> viewer_close;
};

// Hello both ways, then relays every message unchanged until one side closes or nobody
// has anything left to say. (A close ends the connection, as the MessageChannel would.)
Transcript Exchange(HostAuthenticator& host,
                    ViewerAuthenticator& viewer,
                    const std::string& viewer_id,
                    const HostSecurityFixture& fixture) {
  Transcript transcript;
  std::deque<wire::Envelope> for_host;
  std::deque<wire::Envelope> for_viewer;
  AuthStep step = host.OnHello(ViewerHello(viewer_id));
  for (auto& message : step.to_send)
    for_viewer.push_back(std::move(message));
  transcript.host_close = step.close;
  if (transcript.host_close)
    return transcript;
  step = viewer.OnHello(HostHello(fixture));
  for (auto& message : step.to_send)
    for_host.push_back(std::move(message));
  transcript.viewer_close = step.close;
  while (!transcript.host_close && !transcript.viewer_close) {
    if (!for_host.empty()) {
      wire::Envelope message = std::move(for_host.front());
      for_host.pop_front();
      transcript.to_host.push_back(message);
      step = host.OnMessage(message);
      for (auto& reply : step.to_send)
        for_viewer.push_back(std::move(reply));
      transcript.host_close = step.close;
    } else if (!for_viewer.empty()) {
      wire::Envelope message = std::move(for_viewer.front());
      for_viewer.pop_front();
      transcript.to_viewer.push_back(message);
      step = viewer.OnMessage(message);
      for (auto& reply : step.to_send)
        for_host.push_back(std::move(reply));
      transcript.viewer_close = step.close;
    } else {
      break;
    }
  }
  return transcript;
}

// A viewer made from the raw SPAKE2 object, as an attacker or a relay would run it: it can
// send its confirmation cA without having accepted the host's cB. The scalar is derived
// once, so tests can run many exchanges cheaply.
class RawPakeViewer {
 public:
  RawPakeViewer(const std::string& viewer_id,
                const std::string& host_id,
                const Spake2Scalar& w,
                const Binding& binding) {
    auto spake = Spake2::Create(Spake2Role::kA, w, "viewer:" + viewer_id, "host:" + host_id,
                                BuildSpake2Aad(binding, kProtocolVersion));
    REQUIRE(spake.ok());
    spake_ = std::move(spake).value();
  }

  wire::Envelope Share() const { return ShareMessage(Bytes(spake_->own_share())); }

  // Takes the host's AuthShareReply; true when cB verifies (what an honest viewer needs
  // before it says anything more). cA is kept either way.
  bool TakeReply(const wire::Envelope& reply) {
    REQUIRE(reply.payload_case() == wire::Envelope::kAuthShareReply);
    const std::string& share = reply.auth_share_reply().share();
    REQUIRE(spake_
                ->ProcessPeerShare(
                    std::span(reinterpret_cast<const uint8_t*>(share.data()), share.size()))
                .ok());
    confirmation_ = Bytes(spake_->own_confirmation());
    const std::string& cb = reply.auth_share_reply().confirmation();
    return spake_
        ->VerifyPeerConfirmation(std::span(reinterpret_cast<const uint8_t*>(cb.data()), cb.size()))
        .ok();
  }

  wire::Envelope Confirm() const {
    REQUIRE(confirmation_.size() == 32);
    return ConfirmMessage(confirmation_);
  }

 private:
  std::unique_ptr<Spake2> spake_;
  std::string confirmation_;
};

Spake2Scalar ScalarFor(const std::string& password, const std::string& host_id) {
  auto normalized = NormalizeOneTimePassword(password);
  REQUIRE(normalized.ok());
  auto w = DerivePasswordScalar(*normalized, host_id);
  REQUIRE(w.ok());
  return *w;
}

// ---------------------------------------------------------------------------------------
// 2FA helpers

int64_t NowS(const HostSecurityFixture& fixture) {
  return fixture.wall_clock.NowUnixMs() / 1000;
}

std::string CodeAt(const std::vector<uint8_t>& secret, int64_t unix_s) {
  auto code = ComputeTotp(secret, unix_s);
  REQUIRE(code.ok());
  return *code;
}

// A code that is none of the codes valid at `unix_s` (current step, one back, one ahead).
std::string WrongCodeAt(const std::vector<uint8_t>& secret, int64_t unix_s) {
  const std::vector<std::string> valid = {CodeAt(secret, unix_s - 30), CodeAt(secret, unix_s),
                                          CodeAt(secret, unix_s + 30)};
  std::string code = CodeAt(secret, unix_s);
  for (char digit = '0'; digit <= '9'; ++digit) {
    code.back() = digit;
    if (std::find(valid.begin(), valid.end(), code) == valid.end())
      return code;
  }
  FAIL("no wrong code found");
  return {};
}

struct EnabledTwoFactor {
  std::unique_ptr<TwoFactor> store;
  std::vector<uint8_t> secret;
};

// Enrols 2FA as the settings dialog would (StartEnrollment, code from the "phone",
// FinishEnrollment) and plugs it into the fixture. The clock then moves to the next time
// step, because the enrolment code's step counts as used.
EnabledTwoFactor EnableTwoFactor(HostSecurityFixture& fixture) {
  auto loaded = TwoFactor::Load(fixture.dir.File("two_factor.toml"), fixture.wall_clock);
  REQUIRE(loaded.ok());
  EnabledTwoFactor result;
  result.store = std::move(loaded).value();
  REQUIRE_FALSE(result.store->enabled());
  auto enrollment = result.store->StartEnrollment(fixture.credentials->host_id());
  REQUIRE(enrollment.ok());
  auto secret = Base32Decode(enrollment->secret_base32);
  REQUIRE(secret.ok());
  result.secret = *secret;
  REQUIRE(result.store->FinishEnrollment(CodeAt(result.secret, NowS(fixture))).ok());
  REQUIRE(result.store->enabled());
  fixture.wall_clock.AdvanceMs(30'000);
  fixture.security.two_factor = result.store.get();
  return result;
}

// One complete connection attempt with a real ViewerAuthenticator.
struct Attempt {
  Transcript transcript;
  HostState host_state;
  ViewerState viewer_state;
  bool attempt_counted;
  int totp_requests = 0;
};

Attempt Connect(HostSecurityFixture& fixture,
                const std::string& password,
                const std::string& totp_code = {},
                const Binding& binding = MakeBinding(1)) {
  Attempt attempt;
  HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
  int* requests = &attempt.totp_requests;
  ViewerAuthenticator viewer(fixture.viewer_id(), password, binding, [requests, totp_code] {
    ++*requests;
    return totp_code;
  });
  attempt.transcript = Exchange(host, viewer, fixture.viewer_id(), fixture);
  attempt.host_state = host.state();
  attempt.viewer_state = viewer.state();
  attempt.attempt_counted = host.attempt_counted();
  return attempt;
}

void CheckGenericHostRefusal(const std::optional<Error>& close) {
  REQUIRE(close);
  CHECK(close->code == ErrorCode::kAuthFailed);
  CHECK(close->message == kGenericAuthFailure);
}

// ---------------------------------------------------------------------------------------
// 1. Happy path, with and without 2FA.

TEST_CASE("Auth: the right password authenticates both sides", "[app][auth]") {
  HostSecurityFixture fixture;
  const Binding binding = MakeBinding(1);
  HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
  // Typed in lower case with the display dashes and a space: normalized by the viewer.
  ViewerAuthenticator viewer(fixture.viewer_id(), "abcd-efgh jk", binding, [] {
    FAIL("no 2FA code may be asked for when 2FA is off");
    return std::string();
  });
  const Transcript transcript = Exchange(host, viewer, fixture.viewer_id(), fixture);

  CHECK_FALSE(transcript.host_close);
  CHECK_FALSE(transcript.viewer_close);
  CHECK(Types(transcript.to_host) ==
        std::vector<int>{wire::Envelope::kAuthShare, wire::Envelope::kAuthConfirm});
  REQUIRE(Types(transcript.to_viewer) == std::vector<int>{wire::Envelope::kAuthShareReply});
  CHECK(transcript.to_host[0].auth_share().share().size() == 65);
  CHECK(transcript.to_host[0].auth_share().share()[0] == '\x04');
  CHECK(transcript.to_viewer[0].auth_share_reply().share().size() == 65);
  CHECK(transcript.to_viewer[0].auth_share_reply().confirmation().size() == 32);
  CHECK(transcript.to_host[1].auth_confirm().confirmation().size() == 32);

  CHECK(host.state() == HostState::kAuthenticated);
  CHECK(host.attempt_counted());
  CHECK(host.peer().device_id == fixture.viewer_id());
  CHECK(host.peer().fingerprint == fixture.viewer_identity.fingerprint());
  CHECK(fixture.throttle->consecutive_failures() == 0);
  CHECK(fixture.AuditEvents() == std::vector<std::string>{"attempt", "auth_succeeded"});

  // The viewer waits for the host's AuthResult (sent after consent and the indicator).
  CHECK(viewer.state() == ViewerState::kAwaitResult);
  CHECK(viewer.host_id() == fixture.credentials->host_id());
  const AuthStep done = viewer.OnMessage(ResultMessage(true));
  CHECK_FALSE(done.close);
  CHECK(done.to_send.empty());
  CHECK(viewer.state() == ViewerState::kAuthenticated);
}

TEST_CASE("Auth: 2FA codes are required, checked, single use and time limited", "[app][auth]") {
  HostSecurityFixture fixture;
  EnabledTwoFactor two_factor = EnableTwoFactor(fixture);
  const std::string code = CodeAt(two_factor.secret, NowS(fixture));

  SECTION("the right code authenticates") {
    const Attempt attempt = Connect(fixture, kTestPassword, code);
    CHECK(attempt.totp_requests == 1);
    CHECK_FALSE(attempt.transcript.host_close);
    CHECK_FALSE(attempt.transcript.viewer_close);
    CHECK(Types(attempt.transcript.to_viewer) ==
          std::vector<int>{wire::Envelope::kAuthShareReply, wire::Envelope::kAuthTotpRequired});
    REQUIRE(Types(attempt.transcript.to_host) == std::vector<int>{wire::Envelope::kAuthShare,
                                                                  wire::Envelope::kAuthConfirm,
                                                                  wire::Envelope::kAuthTotp});
    CHECK(attempt.transcript.to_host[2].auth_totp().code() == code);
    CHECK(attempt.host_state == HostState::kAuthenticated);
    CHECK(fixture.throttle->consecutive_failures() == 0);
    CHECK(fixture.AuditEvents() == std::vector<std::string>{"attempt", "auth_succeeded"});
  }

  SECTION("a wrong code fails and counts as a failed attempt") {
    const Attempt attempt =
        Connect(fixture, kTestPassword, WrongCodeAt(two_factor.secret, NowS(fixture)));
    CHECK(attempt.totp_requests == 1);
    CheckGenericHostRefusal(attempt.transcript.host_close);
    CHECK(attempt.host_state == HostState::kFailed);
    CHECK(fixture.throttle->consecutive_failures() == 1);  // Requirement 17.
    CHECK(fixture.AuditEvents() == std::vector<std::string>{"attempt", "auth_failed"});
  }

  SECTION("a code already used is refused on the next connection (replay)") {
    const Attempt first = Connect(fixture, kTestPassword, code);
    REQUIRE(first.host_state == HostState::kAuthenticated);
    const Attempt second = Connect(fixture, kTestPassword, code, MakeBinding(2));
    CHECK(second.totp_requests == 1);
    CheckGenericHostRefusal(second.transcript.host_close);
    CHECK(second.host_state == HostState::kFailed);
    CHECK(fixture.throttle->consecutive_failures() == 1);
    // A reload (host restart) does not reopen the window either.
    auto reloaded = TwoFactor::Load(fixture.dir.File("two_factor.toml"), fixture.wall_clock);
    REQUIRE(reloaded.ok());
    CHECK_FALSE((*reloaded)->Verify(code));
  }

  SECTION("codes two steps away fail; one step back still works") {
    fixture.wall_clock.AdvanceMs(3 * 30'000);
    const int64_t now_s = NowS(fixture);
    const Attempt two_back = Connect(fixture, kTestPassword, CodeAt(two_factor.secret, now_s - 60));
    CheckGenericHostRefusal(two_back.transcript.host_close);
    CHECK(two_back.host_state == HostState::kFailed);
    const Attempt two_ahead =
        Connect(fixture, kTestPassword, CodeAt(two_factor.secret, now_s + 60), MakeBinding(2));
    CheckGenericHostRefusal(two_ahead.transcript.host_close);
    CHECK(two_ahead.host_state == HostState::kFailed);
    CHECK(fixture.throttle->consecutive_failures() == 2);
    // Newer than anything used so far, one step back: network delay is tolerated.
    const Attempt one_back =
        Connect(fixture, kTestPassword, CodeAt(two_factor.secret, now_s - 30), MakeBinding(3));
    CHECK_FALSE(one_back.transcript.host_close);
    CHECK(one_back.host_state == HostState::kAuthenticated);
    CHECK(fixture.throttle->consecutive_failures() == 0);
  }

  SECTION("no code from the person at the viewer: the viewer gives up") {
    const Attempt attempt = Connect(fixture, kTestPassword, "");
    CHECK(attempt.totp_requests == 1);
    REQUIRE(attempt.transcript.viewer_close);
    CHECK(attempt.transcript.viewer_close->code == ErrorCode::kAuthFailed);
    CHECK(attempt.viewer_state == ViewerState::kFailed);
    CHECK(attempt.host_state == HostState::kAwaitTotp);
  }

  SECTION("a 2FA code sent before key confirmation is refused and not consumed") {
    const Binding binding = MakeBinding(4);
    HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
    REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
    RawPakeViewer raw(fixture.viewer_id(), fixture.credentials->host_id(),
                      ScalarFor(kTestPassword, fixture.credentials->host_id()), binding);
    const AuthStep reply = host.OnMessage(raw.Share());
    REQUIRE(reply.to_send.size() == 1);
    wire::Envelope totp;
    totp.mutable_auth_totp()->set_code(code);
    const AuthStep early = host.OnMessage(totp);
    REQUIRE(early.close);
    CHECK(early.close->code == ErrorCode::kUnexpectedMessage);
    CHECK(early.to_send.empty());
    CHECK(host.state() == HostState::kFailed);
    // The code was not looked at: it still works on a proper connection.
    REQUIRE(fixture.throttle->RecordSuccess().ok());
    const Attempt proper = Connect(fixture, kTestPassword, code, MakeBinding(5));
    CHECK(proper.host_state == HostState::kAuthenticated);
  }
}

// ---------------------------------------------------------------------------------------
// 2. Requirement 4: a splicing relay that knows the password.

TEST_CASE("Auth: a relay splicing two TLS sessions fails even with the password", "[app][auth]") {
  HostSecurityFixture fixture;
  const std::string host_id = fixture.credentials->host_id();
  const Spake2Scalar w = ScalarFor(kTestPassword, host_id);
  const Binding viewer_side = MakeBinding(10);  // Exporter of viewer <-> relay.
  const Binding host_side = MakeBinding(20);    // Exporter of relay <-> host.

  SECTION("messages relayed unchanged: the viewer's check of cB fails") {
    HostAuthenticator host(&fixture.security, HostChannel(fixture, host_side));
    ViewerAuthenticator viewer(fixture.viewer_id(), kTestPassword, viewer_side, nullptr);
    const Transcript transcript = Exchange(host, viewer, fixture.viewer_id(), fixture);
    REQUIRE(transcript.viewer_close);
    CHECK(transcript.viewer_close->code == ErrorCode::kAuthFailed);
    CHECK(viewer.state() == ViewerState::kFailed);
    // The viewer said nothing after the share: the host never sees a confirmation.
    CHECK(Types(transcript.to_host) == std::vector<int>{wire::Envelope::kAuthShare});
    CHECK(host.state() != HostState::kAuthenticated);
  }

  SECTION("the viewer's confirmation forwarded anyway: the host's check of cA fails") {
    HostAuthenticator host(&fixture.security, HostChannel(fixture, host_side));
    REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
    RawPakeViewer viewer(fixture.viewer_id(), host_id, w, viewer_side);
    AuthStep reply = host.OnMessage(viewer.Share());
    REQUIRE(reply.to_send.size() == 1);
    CHECK_FALSE(viewer.TakeReply(reply.to_send[0]));  // The viewer side would stop here.
    const AuthStep confirmed = host.OnMessage(viewer.Confirm());
    CheckGenericHostRefusal(confirmed.close);
    CHECK(host.state() == HostState::kFailed);
    CHECK(fixture.AuditEvents() == std::vector<std::string>{"attempt", "auth_failed"});
  }

  SECTION("a relay running its own viewer toward the host with another binding fails") {
    const Binding relay_own = MakeBinding(30);
    HostAuthenticator host(&fixture.security, HostChannel(fixture, host_side));
    ViewerAuthenticator relay(fixture.viewer_id(), kTestPassword, relay_own, nullptr);
    const Transcript transcript = Exchange(host, relay, fixture.viewer_id(), fixture);
    REQUIRE(transcript.viewer_close);
    CHECK(transcript.viewer_close->code == ErrorCode::kAuthFailed);
    CHECK(host.state() != HostState::kAuthenticated);

    HostAuthenticator host2(&fixture.security, HostChannel(fixture, host_side));
    REQUIRE_FALSE(host2.OnHello(ViewerHello(fixture.viewer_id())).close);
    RawPakeViewer forced(fixture.viewer_id(), host_id, w, relay_own);
    AuthStep reply = host2.OnMessage(forced.Share());
    REQUIRE(reply.to_send.size() == 1);
    CHECK_FALSE(forced.TakeReply(reply.to_send[0]));
    CheckGenericHostRefusal(host2.OnMessage(forced.Confirm()).close);
    CHECK(host2.state() == HostState::kFailed);
  }

  SECTION("control: the same raw viewer on the host's own binding succeeds") {
    // Shows that the binding, and nothing else in this setup, makes the cases above fail.
    HostAuthenticator host(&fixture.security, HostChannel(fixture, host_side));
    REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
    RawPakeViewer viewer(fixture.viewer_id(), host_id, w, host_side);
    AuthStep reply = host.OnMessage(viewer.Share());
    REQUIRE(reply.to_send.size() == 1);
    CHECK(viewer.TakeReply(reply.to_send[0]));
    const AuthStep confirmed = host.OnMessage(viewer.Confirm());
    CHECK_FALSE(confirmed.close);
    CHECK(host.state() == HostState::kAuthenticated);
  }
}

TEST_CASE("Auth: replayed messages of an earlier exchange do not authenticate", "[app][auth]") {
  HostSecurityFixture fixture;
  const Binding binding = MakeBinding(1);
  HostAuthenticator first_host(&fixture.security, HostChannel(fixture, binding));
  ViewerAuthenticator first_viewer(fixture.viewer_id(), kTestPassword, binding, nullptr);
  const Transcript recorded = Exchange(first_host, first_viewer, fixture.viewer_id(), fixture);
  REQUIRE(first_host.state() == HostState::kAuthenticated);
  REQUIRE(recorded.to_host.size() == 2);

  // Even on a connection with the same exporter, the host's fresh ephemeral scalar makes
  // the old cA worthless (and a fresh viewer never repeats its pA).
  HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
  REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
  const AuthStep reply = host.OnMessage(recorded.to_host[0]);
  REQUIRE(reply.to_send.size() == 1);
  CHECK(reply.to_send[0].auth_share_reply().share() !=
        recorded.to_viewer[0].auth_share_reply().share());
  CheckGenericHostRefusal(host.OnMessage(recorded.to_host[1]).close);
  CHECK(host.state() == HostState::kFailed);

  ViewerAuthenticator second_viewer(fixture.viewer_id(), kTestPassword, binding, nullptr);
  const AuthStep second_share = second_viewer.OnHello(HostHello(fixture));
  REQUIRE(second_share.to_send.size() == 1);
  CHECK(second_share.to_send[0].auth_share().share() != recorded.to_host[0].auth_share().share());
}

// ---------------------------------------------------------------------------------------
// 3. Wrong password.

TEST_CASE("Auth: a wrong password fails at the viewer and costs one attempt", "[app][auth]") {
  HostSecurityFixture fixture;
  const Binding binding = MakeBinding(1);
  HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
  ViewerAuthenticator viewer(fixture.viewer_id(), kWrongPassword, binding, nullptr);
  const Transcript transcript = Exchange(host, viewer, fixture.viewer_id(), fixture);

  REQUIRE(transcript.viewer_close);
  CHECK(transcript.viewer_close->code == ErrorCode::kAuthFailed);
  CHECK(viewer.state() == ViewerState::kFailed);
  CHECK(Types(transcript.to_host) == std::vector<int>{wire::Envelope::kAuthShare});
  CHECK_FALSE(transcript.host_close);
  CHECK(host.state() == HostState::kAwaitConfirm);  // HostSession audits the hang-up.
  CHECK(host.attempt_counted());
  CHECK(fixture.throttle->consecutive_failures() == 1);
  CHECK(fixture.AuditEvents() == std::vector<std::string>{"attempt"});

  SECTION("a confirmation made with the wrong password is refused by the host") {
    HostAuthenticator host2(&fixture.security, HostChannel(fixture, binding));
    REQUIRE_FALSE(host2.OnHello(ViewerHello(fixture.viewer_id())).close);
    RawPakeViewer raw(fixture.viewer_id(), fixture.credentials->host_id(),
                      ScalarFor(kWrongPassword, fixture.credentials->host_id()), binding);
    const AuthStep reply = host2.OnMessage(raw.Share());
    REQUIRE(reply.to_send.size() == 1);
    CHECK_FALSE(raw.TakeReply(reply.to_send[0]));
    CheckGenericHostRefusal(host2.OnMessage(raw.Confirm()).close);
    CHECK(host2.state() == HostState::kFailed);
    CHECK(fixture.throttle->consecutive_failures() == 2);
    CHECK(fixture.AuditEvents() == std::vector<std::string>{"attempt", "attempt", "auth_failed"});
  }
}

// ---------------------------------------------------------------------------------------
// 4. Requirement 8: every message type out of order ends the connection.

// One message of every payload type a peer can get past the MessageChannel. ErrorReport and
// Goodbye are consumed by the channel (they close it) and never reach an authenticator.
std::vector<std::pair<std::string, wire::Envelope>> EveryMessage(const std::string& device_id) {
  std::vector<std::pair<std::string, wire::Envelope>> all;
  wire::Envelope m;
  m.mutable_hello()->set_role(wire::ROLE_VIEWER);
  m.mutable_hello()->set_device_id(device_id);
  all.emplace_back("Hello", m);
  m.Clear();
  m.mutable_ping()->set_id(1);
  all.emplace_back("Ping", m);
  m.Clear();
  m.mutable_pong()->set_id(1);
  all.emplace_back("Pong", m);
  m.Clear();
  m.mutable_video_chunk()->set_frame_id(1);
  m.mutable_video_chunk()->set_total_size(4);
  m.mutable_video_chunk()->set_data("abcd");
  m.mutable_video_chunk()->mutable_info()->set_codec(1);
  m.mutable_video_chunk()->mutable_info()->set_width(320);
  m.mutable_video_chunk()->mutable_info()->set_height(240);
  m.mutable_video_chunk()->mutable_info()->set_keyframe(true);
  all.emplace_back("VideoChunk", m);
  m.Clear();
  m.mutable_frame_ack()->set_frame_id(1);
  m.mutable_frame_ack()->set_decoded(true);
  all.emplace_back("FrameAck", m);
  m.Clear();
  m.mutable_keyframe_request()->set_last_good_frame_id(0);
  all.emplace_back("KeyframeRequest", m);
  m.Clear();
  m.mutable_auth_share()->set_share(std::string(65, '\x04'));
  all.emplace_back("AuthShare", m);
  m.Clear();
  m.mutable_auth_share_reply()->set_share(std::string(65, '\x04'));
  m.mutable_auth_share_reply()->set_confirmation(std::string(32, '\x01'));
  all.emplace_back("AuthShareReply", m);
  m.Clear();
  m.mutable_auth_confirm()->set_confirmation(std::string(32, '\x01'));
  all.emplace_back("AuthConfirm", m);
  m.Clear();
  m.mutable_auth_totp_required();
  all.emplace_back("AuthTotpRequired", m);
  m.Clear();
  m.mutable_auth_totp()->set_code("123456");
  all.emplace_back("AuthTotp", m);
  m.Clear();
  m.mutable_auth_result()->set_accepted(true);
  all.emplace_back("AuthResult", m);
  m.Clear();
  m.mutable_pointer_event()->set_x(1);
  all.emplace_back("PointerEvent", m);
  m.Clear();
  m.mutable_key_event()->set_keysym('a');
  all.emplace_back("KeyEvent", m);
  m.Clear();
  m.mutable_text_event()->set_text("a");
  all.emplace_back("TextEvent", m);
  m.Clear();
  m.mutable_clipboard_text()->set_text("a");
  all.emplace_back("ClipboardText", m);
  m.Clear();
  all.emplace_back("empty Envelope", m);
  return all;
}

void CheckClosedAsUnexpected(const AuthStep& step) {
  REQUIRE(step.close);
  CHECK(step.close->code == ErrorCode::kUnexpectedMessage);
  CHECK(step.to_send.empty());
}

TEST_CASE("Auth: the host closes on any message but AuthShare after Hello", "[app][auth]") {
  HostSecurityFixture fixture;
  const Binding binding = MakeBinding(1);
  for (const auto& [name, message] : EveryMessage(fixture.viewer_id())) {
    if (message.payload_case() == wire::Envelope::kAuthShare)
      continue;
    INFO("early message: " << name);
    HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
    REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
    REQUIRE(host.state() == HostState::kAwaitShare);
    CheckClosedAsUnexpected(host.OnMessage(message));
    CHECK(host.state() == HostState::kFailed);
    CHECK_FALSE(host.attempt_counted());
    // Failed stays failed: a proper share afterwards gets no answer.
    const AuthStep after = host.OnMessage(ShareMessage(std::string(65, '\x04')));
    CHECK(after.close);
    CHECK(after.to_send.empty());
    CHECK(host.state() == HostState::kFailed);
  }
  CHECK(fixture.throttle->consecutive_failures() == 0);
  CHECK(Count(fixture.AuditEvents(), "attempt") == 0);
}

TEST_CASE("Auth: the host closes on any message but AuthConfirm after its share", "[app][auth]") {
  HostSecurityFixture fixture;
  const Binding binding = MakeBinding(1);
  const Spake2Scalar w = ScalarFor(kTestPassword, fixture.credentials->host_id());
  for (const auto& [name, message] : EveryMessage(fixture.viewer_id())) {
    if (message.payload_case() == wire::Envelope::kAuthConfirm)
      continue;
    INFO("early message: " << name);
    REQUIRE(fixture.throttle->RecordSuccess().ok());  // Keep the throttle out of the way.
    HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
    REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
    RawPakeViewer viewer(fixture.viewer_id(), fixture.credentials->host_id(), w, binding);
    const AuthStep reply = host.OnMessage(viewer.Share());
    REQUIRE(reply.to_send.size() == 1);
    REQUIRE(host.state() == HostState::kAwaitConfirm);
    REQUIRE(viewer.TakeReply(reply.to_send[0]));
    const size_t failures_before = Count(fixture.AuditEvents(), "auth_failed");
    CheckClosedAsUnexpected(host.OnMessage(message));
    CHECK(host.state() == HostState::kFailed);
    CHECK(fixture.throttle->consecutive_failures() == 1);  // Still counted.
    CHECK(Count(fixture.AuditEvents(), "auth_failed") == failures_before + 1);
    // The right confirmation afterwards does not revive the exchange.
    const AuthStep late = host.OnMessage(viewer.Confirm());
    CHECK(late.close);
    CHECK(host.state() == HostState::kFailed);
  }
  CHECK(Count(fixture.AuditEvents(), "auth_succeeded") == 0);
}

TEST_CASE("Auth: the host closes on any message but AuthTotp while waiting for the code",
          "[app][auth]") {
  HostSecurityFixture fixture;
  EnabledTwoFactor two_factor = EnableTwoFactor(fixture);
  const Binding binding = MakeBinding(1);
  const Spake2Scalar w = ScalarFor(kTestPassword, fixture.credentials->host_id());
  for (const auto& [name, message] : EveryMessage(fixture.viewer_id())) {
    if (message.payload_case() == wire::Envelope::kAuthTotp)
      continue;
    INFO("early message: " << name);
    REQUIRE(fixture.throttle->RecordSuccess().ok());
    HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
    REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
    RawPakeViewer viewer(fixture.viewer_id(), fixture.credentials->host_id(), w, binding);
    const AuthStep reply = host.OnMessage(viewer.Share());
    REQUIRE(reply.to_send.size() == 1);
    REQUIRE(viewer.TakeReply(reply.to_send[0]));
    const AuthStep totp_required = host.OnMessage(viewer.Confirm());
    REQUIRE(Types(totp_required.to_send) == std::vector<int>{wire::Envelope::kAuthTotpRequired});
    REQUIRE(host.state() == HostState::kAwaitTotp);
    CheckClosedAsUnexpected(host.OnMessage(message));
    CHECK(host.state() == HostState::kFailed);
    CHECK(fixture.throttle->consecutive_failures() == 1);
  }
  // Nothing consumed the current code.
  CHECK(two_factor.store->Verify(CodeAt(two_factor.secret, NowS(fixture))));
}

TEST_CASE("Auth: the viewer closes on any message but AuthShareReply after its share",
          "[app][auth]") {
  HostSecurityFixture fixture;
  const Binding binding = MakeBinding(1);
  for (const auto& [name, original] : EveryMessage(fixture.viewer_id())) {
    if (original.payload_case() == wire::Envelope::kAuthShareReply)
      continue;
    wire::Envelope message = original;
    if (message.has_hello())
      message.mutable_hello()->set_role(wire::ROLE_HOST);
    INFO("early message: " << name);
    int totp_requests = 0;
    ViewerAuthenticator viewer(fixture.viewer_id(), kTestPassword, binding, [&totp_requests] {
      ++totp_requests;
      return std::string("123456");
    });
    REQUIRE(viewer.OnHello(HostHello(fixture)).to_send.size() == 1);
    REQUIRE(viewer.state() == ViewerState::kAwaitReply);
    CheckClosedAsUnexpected(viewer.OnMessage(message));
    CHECK(viewer.state() == ViewerState::kFailed);
    CHECK(totp_requests == 0);  // No 2FA code leaves before the host proved the password.
    // An AuthResult now still does not authenticate.
    CHECK(viewer.OnMessage(ResultMessage(true)).close);
    CHECK(viewer.state() != ViewerState::kAuthenticated);
  }
}

TEST_CASE("Auth: the viewer closes on anything but the result after confirming", "[app][auth]") {
  HostSecurityFixture fixture;
  const Binding binding = MakeBinding(1);
  std::vector<std::pair<std::string, wire::Envelope>> messages;
  for (auto& entry : EveryMessage(fixture.viewer_id())) {
    const auto type = entry.second.payload_case();
    if (type == wire::Envelope::kAuthResult || type == wire::Envelope::kAuthTotpRequired) {
      continue;
    }
    if (entry.second.has_hello())
      entry.second.mutable_hello()->set_role(wire::ROLE_HOST);
    messages.push_back(std::move(entry));
  }
  messages.emplace_back("AuthResult(accepted = false)", ResultMessage(false));
  for (const auto& [name, message] : messages) {
    INFO("early message: " << name);
    HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
    ViewerAuthenticator viewer(fixture.viewer_id(), kTestPassword, binding, nullptr);
    const Transcript transcript = Exchange(host, viewer, fixture.viewer_id(), fixture);
    REQUIRE_FALSE(transcript.viewer_close);
    REQUIRE(viewer.state() == ViewerState::kAwaitResult);
    CheckClosedAsUnexpected(viewer.OnMessage(message));
    CHECK(viewer.state() == ViewerState::kFailed);
    CHECK(viewer.OnMessage(ResultMessage(true)).close);
    CHECK(viewer.state() != ViewerState::kAuthenticated);
  }
}

// ---------------------------------------------------------------------------------------
// 5. Requirement 6 through the protocol: malformed shares.

// w·M on P-256: the share that makes the host's K the point at infinity (RFC 9382).
std::string PasswordTimesM(const Spake2Scalar& w) {
  static constexpr uint8_t kM[33] = {0x02, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55,
                                     0xba, 0x9d, 0xd7, 0x24, 0x25, 0x79, 0xf2, 0x99, 0x3b,
                                     0x64, 0xe1, 0x6e, 0xf3, 0xdc, 0xab, 0x95, 0xaf, 0xd4,
                                     0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f};
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_POINT* m = EC_POINT_new(group);
  EC_POINT* product = EC_POINT_new(group);
  BIGNUM* scalar = BN_bin2bn(w.data(), static_cast<int>(w.size()), nullptr);
  std::string out(65, '\0');
  const bool ok =
      group && m && product && scalar &&
      EC_POINT_oct2point(group, m, kM, sizeof(kM), nullptr) == 1 &&
      EC_POINT_mul(group, product, nullptr, m, scalar, nullptr) == 1 &&
      EC_POINT_point2oct(group, product, POINT_CONVERSION_UNCOMPRESSED,
                         reinterpret_cast<unsigned char*>(out.data()), out.size(), nullptr) == 65;
  BN_clear_free(scalar);
  EC_POINT_free(product);
  EC_POINT_free(m);
  EC_GROUP_free(group);
  REQUIRE(ok);
  return out;
}

TEST_CASE("Auth: malformed shares are refused after the attempt was counted", "[app][auth]") {
  HostSecurityFixture fixture;
  const Binding binding = MakeBinding(1);
  // A real pA to derive malformed ones from.
  RawPakeViewer donor(fixture.viewer_id(), fixture.credentials->host_id(),
                      ScalarFor(kTestPassword, fixture.credentials->host_id()), binding);
  const std::string real = donor.Share().auth_share().share();
  REQUIRE(real.size() == 65);
  std::string garbage(65, '\0');
  for (size_t i = 0; i < garbage.size(); ++i)
    garbage[i] = static_cast<char>(0x5a + i * 13);
  std::string off_curve = real;
  off_curve[64] = static_cast<char>(off_curve[64] ^ 1);
  std::string prefix_00 = real;
  prefix_00[0] = '\0';
  std::string compressed = real.substr(0, 33);
  compressed[0] = static_cast<char>(2 + (static_cast<uint8_t>(real[64]) & 1));

  const std::vector<std::pair<std::string, std::string>> shares = {
      {"empty", ""},
      {"the identity (00)", std::string(1, '\0')},
      {"33 bytes, compressed form of a valid point", compressed},
      {"65 bytes of garbage", garbage},
      {"65 bytes with prefix 00", prefix_00},
      {"off the curve", off_curve},
      {"66 bytes", real + '\x01'},
      {"w*M (K would be the identity)",
       PasswordTimesM(ScalarFor(kTestPassword, fixture.credentials->host_id()))},
  };
  for (const auto& [name, share] : shares) {
    INFO("share: " << name);
    REQUIRE(fixture.throttle->RecordSuccess().ok());
    const size_t failures_before = Count(fixture.AuditEvents(), "auth_failed");
    HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
    REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
    const AuthStep step = host.OnMessage(ShareMessage(share));
    CheckGenericHostRefusal(step.close);
    CHECK(step.to_send.empty());  // No AuthShareReply for a bad share.
    CHECK(host.state() == HostState::kFailed);
    // The attempt is counted before the share is parsed (the safe order).
    CHECK(host.attempt_counted());
    CHECK(fixture.throttle->consecutive_failures() == 1);
    CHECK(Count(fixture.AuditEvents(), "auth_failed") == failures_before + 1);
  }
  // Control: the unmodified share is answered.
  REQUIRE(fixture.throttle->RecordSuccess().ok());
  HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
  REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
  const AuthStep step = host.OnMessage(ShareMessage(real));
  CHECK_FALSE(step.close);
  CHECK(Types(step.to_send) == std::vector<int>{wire::Envelope::kAuthShareReply});
}

// ---------------------------------------------------------------------------------------
// 6. Requirements 13 and 15: refused viewers see exactly what a wrong password shows.

// What the viewer can observe of one attempt.
struct ViewerView {
  std::vector<int> types;
  std::vector<size_t> share_sizes;
  std::vector<size_t> confirmation_sizes;
  std::optional<ErrorCode> close_code;
  std::string close_message;
};

ViewerView Observe(const Attempt& attempt) {
  ViewerView view;
  view.types = Types(attempt.transcript.to_viewer);
  for (const auto& message : attempt.transcript.to_viewer) {
    if (!message.has_auth_share_reply())
      continue;
    view.share_sizes.push_back(message.auth_share_reply().share().size());
    view.confirmation_sizes.push_back(message.auth_share_reply().confirmation().size());
  }
  if (attempt.transcript.viewer_close) {
    view.close_code = attempt.transcript.viewer_close->code;
    view.close_message = attempt.transcript.viewer_close->message;
  }
  return view;
}

void CheckSameAsWrongPassword(const ViewerView& refused, const ViewerView& wrong) {
  CHECK(refused.types == wrong.types);
  CHECK(refused.share_sizes == wrong.share_sizes);
  CHECK(refused.confirmation_sizes == wrong.confirmation_sizes);
  REQUIRE(refused.close_code);
  REQUIRE(wrong.close_code);
  CHECK(*refused.close_code == *wrong.close_code);
  CHECK(refused.close_message == wrong.close_message);
}

TEST_CASE("Auth: blocked, not allowlisted and throttled viewers look like a wrong password",
          "[app][auth]") {
  // The reference: a wrong password on a fresh host.
  ViewerView wrong;
  {
    HostSecurityFixture reference;
    const Attempt attempt = Connect(reference, kWrongPassword);
    REQUIRE(attempt.viewer_state == ViewerState::kFailed);
    wrong = Observe(attempt);
    REQUIRE(wrong.types == std::vector<int>{wire::Envelope::kAuthShareReply});
    CHECK(wrong.share_sizes == std::vector<size_t>{65});
    CHECK(wrong.confirmation_sizes == std::vector<size_t>{32});
    CHECK(*wrong.close_code == ErrorCode::kAuthFailed);
  }

  HostSecurityFixture fixture;
  AccessList access;
  fixture.security.access_list = &access;
  std::string expected_audit;
  int64_t expected_failures = 0;

  SECTION("blocked by device ID") {
    REQUIRE(access.AddBlocked({fixture.viewer_id(), "", "test"}).ok());
    expected_audit = "blocked";
  }
  SECTION("blocked by key fingerprint") {
    REQUIRE(access.AddBlocked({"", fixture.viewer_identity.fingerprint(), "test"}).ok());
    expected_audit = "blocked";
  }
  SECTION("not on the active allowlist") {
    REQUIRE(access.AddAllowed({"", fixture.host_identity.fingerprint(), "someone else"}).ok());
    access.set_allowlist_enabled(true);
    expected_audit = "blocked";
  }
  SECTION("allowlisted ID presented with another key (requirement 15)") {
    REQUIRE(access.AddAllowed({fixture.viewer_id(), fixture.host_identity.fingerprint(), ""}).ok());
    expected_audit = "blocked";
  }
  SECTION("throttled") {
    for (int i = 0; i < 3; ++i)
      REQUIRE(fixture.throttle->RecordAttemptStarted().ok());
    REQUIRE_FALSE(fixture.throttle->Check().allowed());
    expected_audit = "throttled";
    expected_failures = 3;
  }

  // The refused viewer even has the right password.
  const Attempt attempt = Connect(fixture, kTestPassword);
  CheckSameAsWrongPassword(Observe(attempt), wrong);
  CHECK(attempt.viewer_state == ViewerState::kFailed);
  CHECK(attempt.host_state == HostState::kAwaitConfirm);  // As after a real share.
  CHECK_FALSE(attempt.attempt_counted);
  CHECK(fixture.throttle->consecutive_failures() == expected_failures);
  const auto events = fixture.AuditEvents();
  CHECK(events == std::vector<std::string>{expected_audit});

  // The decoy share is a valid point (else the viewer would report "invalid answer").
  const std::string& decoy = attempt.transcript.to_viewer.at(0).auth_share_reply().share();
  CHECK(decoy[0] == '\x04');

  // A refused viewer that ignores cB and confirms anyway is still refused, generically.
  HostAuthenticator host(&fixture.security, HostChannel(fixture, MakeBinding(7)));
  REQUIRE_FALSE(host.OnHello(ViewerHello(fixture.viewer_id())).close);
  RawPakeViewer raw(fixture.viewer_id(), fixture.credentials->host_id(),
                    ScalarFor(kTestPassword, fixture.credentials->host_id()), MakeBinding(7));
  const AuthStep reply = host.OnMessage(raw.Share());
  REQUIRE(reply.to_send.size() == 1);
  CHECK_FALSE(raw.TakeReply(reply.to_send[0]));
  CheckGenericHostRefusal(host.OnMessage(raw.Confirm()).close);
  CHECK(host.state() == HostState::kFailed);
  CHECK(fixture.throttle->consecutive_failures() == expected_failures);
}

TEST_CASE("Auth: an allowlisted viewer with its own key gets through", "[app][auth]") {
  // Control for the allowlist cases above: the same list shape with the right key.
  HostSecurityFixture fixture;
  AccessList access;
  REQUIRE(access.AddAllowed({fixture.viewer_id(), fixture.viewer_identity.fingerprint(), ""}).ok());
  REQUIRE(access.AddBlocked({"123456789", "", "someone else"}).ok());
  REQUIRE(access.allowlist_active());
  fixture.security.access_list = &access;
  const Attempt attempt = Connect(fixture, kTestPassword);
  CHECK_FALSE(attempt.transcript.viewer_close);
  CHECK(attempt.host_state == HostState::kAuthenticated);
  CHECK(fixture.AuditEvents() == std::vector<std::string>{"attempt", "auth_succeeded"});
}

// ---------------------------------------------------------------------------------------
// 7. Requirement 12: the throttle in the protocol, with the fake clock.

TEST_CASE("Auth: after 3 failures attempts are refused until the wait has passed", "[app][auth]") {
  HostSecurityFixture fixture;
  for (int i = 1; i <= 3; ++i) {
    INFO("failure " << i);
    const Attempt attempt = Connect(fixture, kWrongPassword);
    CHECK(attempt.attempt_counted);
    CHECK(fixture.throttle->consecutive_failures() == i);
  }
  const int64_t wait_ms = AuthThrottle::DelayAfterFailuresMs(3);
  REQUIRE(wait_ms == 2000);

  // Right away, and just before the wait ends: refused even with the right password.
  const Attempt early = Connect(fixture, kTestPassword);
  CHECK_FALSE(early.attempt_counted);
  CHECK(early.viewer_state == ViewerState::kFailed);
  CHECK(early.host_state != HostState::kAuthenticated);
  fixture.wall_clock.AdvanceMs(wait_ms - 1);
  const Attempt almost = Connect(fixture, kTestPassword);
  CHECK_FALSE(almost.attempt_counted);
  CHECK(almost.viewer_state == ViewerState::kFailed);
  CHECK(fixture.throttle->consecutive_failures() == 3);  // Refusals are not counted.
  CHECK(Count(fixture.AuditEvents(), "throttled") == 2);

  fixture.wall_clock.AdvanceMs(1);
  const Attempt after = Connect(fixture, kTestPassword);
  CHECK(after.attempt_counted);
  CHECK_FALSE(after.transcript.viewer_close);
  CHECK(after.host_state == HostState::kAuthenticated);
  CHECK(fixture.throttle->consecutive_failures() == 0);  // Success resets.
}

TEST_CASE("Auth: the 10th consecutive failure asks for a new password", "[app][auth]") {
  HostSecurityFixture fixture;
  for (int k = 1; k <= 10; ++k) {
    INFO("failure " << k);
    fixture.wall_clock.AdvanceMs(AuthThrottle::DelayAfterFailuresMs(k - 1));
    CHECK_FALSE(fixture.throttle->ShouldRotatePassword());
    const Attempt attempt = Connect(fixture, kWrongPassword);
    REQUIRE(attempt.attempt_counted);
    CHECK(fixture.throttle->consecutive_failures() == k);
  }
  CHECK(fixture.throttle->ShouldRotatePassword());
  CHECK(Count(fixture.AuditEvents(), "attempt") == 10);
}

// throttle.h, RecordFailure: "The attempt failed (wrong password, bad key confirmation,
// wrong TOTP code) ... this moves the last failure to now so that the wait runs from the
// end of the attempt." Otherwise a viewer that knows the password and guesses 2FA codes
// could let the wait elapse while it holds the connection open.
TEST_CASE("Auth: the throttle wait runs from the end of a failed 2FA attempt", "[app][auth]") {
  HostSecurityFixture fixture;
  EnabledTwoFactor two_factor = EnableTwoFactor(fixture);
  REQUIRE(fixture.throttle->RecordAttemptStarted().ok());
  REQUIRE(fixture.throttle->RecordAttemptStarted().ok());  // k = 2: the next one is free.

  const Binding binding = MakeBinding(1);
  HostAuthenticator host(&fixture.security, HostChannel(fixture, binding));
  std::string wrong_code;
  ViewerAuthenticator viewer(fixture.viewer_id(), kTestPassword, binding, [&] {
    fixture.wall_clock.AdvanceMs(10'000);  // The code takes ten seconds to arrive.
    wrong_code = WrongCodeAt(two_factor.secret, NowS(fixture));
    return wrong_code;
  });
  const Transcript transcript = Exchange(host, viewer, fixture.viewer_id(), fixture);
  CheckGenericHostRefusal(transcript.host_close);
  REQUIRE(host.state() == HostState::kFailed);
  REQUIRE(fixture.throttle->consecutive_failures() == 3);

  CHECK(fixture.throttle->last_failure_unix_ms() == fixture.wall_clock.NowUnixMs());
  fixture.wall_clock.AdvanceMs(AuthThrottle::DelayAfterFailuresMs(3) / 2);
  CHECK_FALSE(fixture.throttle->Check().allowed());
}

}  // namespace
}  // namespace lifeline
