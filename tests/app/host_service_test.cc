// HostService, the host lifecycle shared by the CLI and the desktop app: its thread
// contract (Start/Stop), direct mode and relay mode with a real in-process relay.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "app/core/host_service.h"
#include "base/time.h"
#include "net/relay/relay_protocol.h"
#include "net/relay/relay_server.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

template <typename Predicate>
bool WaitUntil(Predicate predicate, int timeout_ms) {
  const int64_t deadline = MonotonicNowUs() + int64_t{timeout_ms} * 1000;
  while (MonotonicNowUs() < deadline && !predicate())
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return predicate();
}

std::unique_ptr<HostSecurityState> OpenState(const testing::TempDir& dir) {
  AppPaths paths;
  paths.config_dir = dir.File("config");
  paths.settings_file = paths.config_dir + "/settings.toml";
  paths.log_file = paths.config_dir + "/lifeline.log";
  auto state = HostSecurityState::Open(paths, Settings{}, false);
  REQUIRE(state.ok());
  return std::move(state).value();
}

HostServiceOptions SyntheticOptions() {
  HostServiceOptions options;
  options.session.capture.source = CaptureSource::kSynthetic;
  options.listen = "127.0.0.1:0";
  return options;
}

struct StatusLog {
  void Add(const HostServiceStatus& status) {
    std::lock_guard lock(mutex);
    all.push_back(status);
  }
  bool Has(HostServiceState state) {
    std::lock_guard lock(mutex);
    for (const auto& s : all)
      if (s.state == state)
        return true;
    return false;
  }
  std::mutex mutex;
  std::vector<HostServiceStatus> all;
};

TEST_CASE("HostService direct mode: Start listens, Stop ends it promptly", "[host_service]") {
  testing::TempDir dir;
  auto state = OpenState(dir);
  HostService service(SyntheticOptions(), state.get());
  StatusLog log;
  service.set_status_callback([&](const HostServiceStatus& s) { log.Add(s); });
  std::promise<Status> finished;
  REQUIRE(service.Start([&](Status st) { finished.set_value(st); }).ok());
  CHECK_FALSE(service.Start().ok());  // Already running.
  REQUIRE(WaitUntil([&] { return service.status().state == HostServiceState::kListening; }, 5000));
  const HostServiceStatus listening = service.status();
  CHECK(listening.address.rfind("127.0.0.1:", 0) == 0);
  CHECK(listening.address != "127.0.0.1:0");
  CHECK(listening.id == state->credentials->host_id());
  const int64_t stop_start = MonotonicNowUs();
  service.Stop();
  CHECK(MonotonicNowUs() - stop_start < 2'000'000);
  CHECK(finished.get_future().get().ok());
  CHECK(log.Has(HostServiceState::kStopped));
}

TEST_CASE("HostService direct mode: a bad listen address is the Run result", "[host_service]") {
  testing::TempDir dir;
  auto state = OpenState(dir);
  HostServiceOptions options = SyntheticOptions();
  options.listen = "no-port";
  HostService service(options, state.get());
  std::atomic<bool> stop{false};
  Status result = service.Run(stop);
  REQUIRE_FALSE(result.ok());
  CHECK(result.code() == ErrorCode::kAddressInvalid);
}

struct InProcessRelay {
  InProcessRelay() {
    RelayServerOptions options;
    options.listen = "127.0.0.1:0";
    auto key = RelayKey::Generate();
    REQUIRE(key.ok());
    auto store = OpenSqliteIdStore(":memory:");
    REQUIRE(store.ok());
    auto created = RelayServer::Create(options, std::move(key).value(), std::move(store).value());
    REQUIRE(created.ok());
    server = std::move(created).value();
    server->Start();
  }
  std::unique_ptr<RelayServer> server;
};

TEST_CASE("HostService relay mode registers and reports the relay's ID", "[host_service]") {
  testing::TempDir dir;
  auto state = OpenState(dir);
  InProcessRelay relay;
  HostServiceOptions options = SyntheticOptions();
  options.use_relay = true;
  options.relay.address = relay.server->listen_address().ToString();
  options.relay.fallback_address = options.relay.address;
  options.relay.pin = relay.server->pin();
  HostService service(options, state.get());
  StatusLog log;
  service.set_status_callback([&](const HostServiceStatus& s) { log.Add(s); });
  REQUIRE(service.Start().ok());
  REQUIRE(WaitUntil([&] { return service.status().state == HostServiceState::kRegistered; }, 5000));
  const HostServiceStatus registered = service.status();
  CHECK(IsRelayId(registered.id));
  CHECK(registered.text == "Connected to relay " + options.relay.address + " (direct)");
  CHECK(log.Has(HostServiceState::kConnectingToRelay));
  CHECK(relay.server->metrics().registered_hosts == 1);

  // The relay goes away: the service says so and keeps retrying (not fatal).
  relay.server->Stop();
  REQUIRE(WaitUntil([&] { return service.status().state == HostServiceState::kRelayUnreachable; },
                    5000));
  CHECK(service.status().text.find("Relay unreachable, retrying in") == 0);
  CHECK(service.status().retry_in_ms <= 2000);
  service.Stop();
}

TEST_CASE("HostService relay mode stops on a relay that is not the pinned one", "[host_service]") {
  testing::TempDir dir;
  auto state = OpenState(dir);
  InProcessRelay relay;
  HostServiceOptions options = SyntheticOptions();
  options.use_relay = true;
  options.relay.address = relay.server->listen_address().ToString();
  options.relay.fallback_address = options.relay.address;
  options.relay.pin = std::string(64, 'e');
  HostService service(options, state.get());
  std::promise<Status> finished;
  REQUIRE(service.Start([&](Status st) { finished.set_value(st); }).ok());
  auto future = finished.get_future();
  REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  const Status result = future.get();
  REQUIRE_FALSE(result.ok());
  CHECK(result.code() == ErrorCode::kRelayCertificateInvalid);
  service.Stop();
}

}  // namespace
}  // namespace lifeline
