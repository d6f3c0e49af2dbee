// lifeline-handshake-bench: time of a full secure session set-up on loopback, as a viewer
// experiences it: TCP connect + TLS 1.3 handshake (both sides present device certs) +
// Hello + SPAKE2 over the one-time password, including the viewer's scrypt password
// hashing (N=2^15, r=8), until the host's AuthResult arrives. The host derives its
// password scalar once per password, as in production, so that is not in the loop.
//
// Usage: lifeline-handshake-bench [--runs N]   (default 50). Prints median, p95, min, max.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "app/bench/bench_host.h"
#include "app/core/audit_log.h"
#include "app/core/host_credentials.h"
#include "app/core/host_session.h"
#include "app/core/throttle.h"
#include "app/core/viewer_session.h"
#include "base/log.h"
#include "base/wall_clock.h"
#include "net/auth/one_time_password.h"
#include "net/tcp.h"
#include "net/tls/device_identity.h"
#include "net/tls/tls_transport.h"

namespace lifeline {
namespace {

int Main(int runs) {
  log::SetMinLevel(log::Level::kWarning);
  bench::BenchHost bench;
  if (!bench.Init())
    return 1;
  HostSecurity& security = bench.security;
  const DeviceIdentity* host_identity = &*bench.host_identity;
  const DeviceIdentity* viewer_identity = &*bench.viewer_identity;
  HostCredentials* credentials = bench.credentials.get();
  TcpListener* listener = bench.listener.get();
  const HostPort address = listener->local_address();

  std::vector<double> times_ms;
  for (int run = 0; run < runs; ++run) {
    std::string password = credentials->display_password();
    std::atomic<bool> stop{false};
    std::thread host_thread([&] {
      auto transport = listener->Accept(10'000);
      if (!transport.ok())
        return;
      auto tls =
          TlsHandshake(std::move(transport).value(), TlsRole::kServer, *host_identity, 10'000);
      if (!tls.ok())
        return;
      SecureChannelInfo info{(*tls)->channel_binding(), (*tls)->peer_fingerprint(), "bench"};
      HostOptions options;
      options.capture.source = CaptureSource::kSynthetic;
      options.capture.synthetic_size = Size{64, 48};
      HostSession session(options, &security, info, std::move(tls).value());
      static_cast<void>(session.Run(stop));
    });

    const auto start = std::chrono::steady_clock::now();
    auto transport = ConnectTcp(address, 10'000);
    if (!transport.ok())
      return 1;
    auto tls =
        TlsHandshake(std::move(transport).value(), TlsRole::kClient, *viewer_identity, 10'000);
    if (!tls.ok()) {
      std::fprintf(stderr, "%s\n", tls.error().ToString().c_str());
      return 1;
    }
    SecureChannelInfo info{(*tls)->channel_binding(), (*tls)->peer_fingerprint(), "bench"};
    ViewerOptions options;
    options.own_device_id = DeviceIdFromFingerprint(viewer_identity->fingerprint());
    options.password = password;
    ViewerSession viewer(options, info, std::move(tls).value());
    if (!viewer.Start().ok())
      return 1;
    while (!viewer.authenticated() && !viewer.closed()) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const auto end = std::chrono::steady_clock::now();
    if (!viewer.authenticated()) {
      std::fprintf(stderr, "run %d: not authenticated: %s\n", run,
                   viewer.close_reason().ToString().c_str());
      return 1;
    }
    times_ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    viewer.Stop();
    stop = true;
    host_thread.join();
  }
  std::sort(times_ms.begin(), times_ms.end());
  const auto at = [&](double q) {
    return times_ms[std::min(times_ms.size() - 1,
                             static_cast<size_t>(q * (times_ms.size() - 1) + 0.5))];
  };
  std::printf(
      "full handshake (TCP + TLS 1.3 + Hello + SPAKE2 with scrypt), %d runs on loopback:\n"
      "  median %.1f ms, p95 %.1f ms, min %.1f ms, max %.1f ms\n",
      runs, at(0.5), at(0.95), times_ms.front(), times_ms.back());
  return 0;
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) {
  int runs = 50;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0)
      runs = std::max(1, std::atoi(argv[i + 1]));
  }
  return lifeline::Main(runs);
}
