// A relay that splices two real TLS 1.3 sessions (viewer <-> relay, relay <-> host) and
// copies the decrypted bytes between them unchanged. Even though the viewer has the right
// password, key confirmation must fail: the two TLS sessions have different exporters.
#include <catch2/catch.hpp>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "app/core/host_session.h"
#include "app/core/viewer_session.h"
#include "tests/app/secure_session_fixture.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using testing::HandshakePair;
using testing::HostSecurityFixture;
using testing::kTestPassword;

DeviceIdentity NewIdentity() {
  auto identity = DeviceIdentity::CreateEphemeral();
  REQUIRE(identity.ok());
  return std::move(identity).value();
}

// Copies bytes both ways between `a` and `b` until either side closes or `stop`.
void Relay(Transport& a, Transport& b, const std::atomic<bool>& stop) {
  std::vector<uint8_t> buffer(64 * 1024);
  auto pump = [&](Transport& from, Transport& to) -> bool {
    while (true) {
      IoResult read = from.Read(buffer);
      if (read.status == IoStatus::kWouldBlock)
        return true;
      if (read.status != IoStatus::kOk)
        return false;
      size_t sent = 0;
      while (sent < read.bytes) {
        IoResult write = to.Write(std::span(buffer.data() + sent, read.bytes - sent));
        if (write.status == IoStatus::kOk) {
          sent += write.bytes;
        } else if (write.status == IoStatus::kWouldBlock) {
          pollfd p{to.fd(), to.PollEvents(true), 0};
          poll(&p, 1, 10);
        } else {
          return false;
        }
      }
    }
  };
  while (!stop.load()) {
    pollfd fds[2] = {{a.fd(), a.PollEvents(false), 0}, {b.fd(), b.PollEvents(false), 0}};
    poll(fds, 2, 20);
    if (!pump(a, b) || !pump(b, a))
      return;
  }
}

TEST_CASE("A relay splicing two TLS sessions cannot complete SPAKE2, even with the password",
          "[app][auth][splice]") {
  HostSecurityFixture fixture;
  const DeviceIdentity relay_identity = NewIdentity();
  // viewer <-> relay (the relay acts as the host's TLS server) ...
  auto [relay_as_host, viewer_end] =
      HandshakePair(CreateTransportPair(), relay_identity, fixture.viewer_identity);
  // ... and relay <-> host (the relay acts as a viewer's TLS client).
  auto [host_end, relay_as_viewer] =
      HandshakePair(CreateTransportPair(), fixture.host_identity, relay_identity);
  REQUIRE(viewer_end.info.channel_binding != host_end.info.channel_binding);

  std::atomic<bool> relay_stop{false};
  std::thread relay(
      [&] { Relay(*relay_as_host.transport, *relay_as_viewer.transport, relay_stop); });

  HostOptions options;
  options.capture.source = CaptureSource::kSynthetic;
  options.capture.synthetic_size = Size{320, 240};
  std::atomic<bool> host_stop{false};
  Status host_result;
  HostSession host(options, &fixture.security, host_end.info, std::move(host_end.transport));
  std::thread host_thread([&] { host_result = host.Run(host_stop); });

  ViewerOptions viewer_options;
  viewer_options.own_device_id = fixture.viewer_id();
  viewer_options.password = kTestPassword;  // The right password.
  ViewerSession viewer(viewer_options, viewer_end.info, std::move(viewer_end.transport));
  REQUIRE(viewer.Start().ok());

  REQUIRE(viewer.WaitClosed(20'000));
  CHECK(viewer.close_reason().code == ErrorCode::kAuthFailed);
  CHECK_FALSE(viewer.authenticated());
  CHECK(viewer.last_frame() == nullptr);
  host_stop = true;
  host_thread.join();
  CHECK_FALSE(host_result.ok());
  CHECK_FALSE(host.authenticated());
  CHECK(fixture.ui.indicator_peers.empty());
  relay_stop = true;
  relay.join();
}

}  // namespace
}  // namespace lifeline
