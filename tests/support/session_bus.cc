#include "tests/support/session_bus.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <thread>

namespace lifeline::testing {
namespace {

constexpr char kBusConfig[] = R"(<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=@DIR@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
)";

bool WaitFor(const std::function<bool()>& done, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace

SessionBus::SessionBus(bool with_keyring) {
  std::string config = kBusConfig;
  config.replace(config.find("@DIR@"), 5, dir_.path());
  WriteStringToFile(dir_.File("bus.conf"), config);
  Subprocess::Options bus;
  bus.argv = {"dbus-daemon", "--config-file=" + dir_.File("bus.conf"), "--nofork",
              "--print-address=1"};
  bus.stdout_path = dir_.File("bus.address");
  bus.stderr_path = dir_.File("bus.log");
  bus_ = std::make_unique<Subprocess>(bus);
  if (!WaitFor(
          [&] {
            address_ = ReadFileToString(dir_.File("bus.address"));
            return address_.find('\n') != std::string::npos;
          },
          10000)) {
    throw std::runtime_error("dbus-daemon did not print its address: " +
                             ReadFileToString(dir_.File("bus.log")));
  }
  address_.resize(address_.find('\n'));
  if (!with_keyring)
    return;

  mkdir(dir_.File("data").c_str(), 0700);
  mkdir(dir_.File("run").c_str(), 0700);
  WriteStringToFile(dir_.File("empty-password"), "\n");
  Subprocess::Options keyring;
  keyring.argv = {"gnome-keyring-daemon", "--unlock", "--foreground", "--components=secrets"};
  keyring.set_env = Env();
  keyring.stdin_path = dir_.File("empty-password");
  keyring.stdout_path = dir_.File("keyring.out");
  keyring.stderr_path = dir_.File("keyring.log");
  keyring_ = std::make_unique<Subprocess>(keyring);
  // Ready when the name is owned: ask the bus with dbus-send.
  const bool ready = WaitFor(
      [&] {
        RunResult r =
            RunCommand({"dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                        "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                        "string:org.freedesktop.secrets"},
                       2000, Env());
        return r.exit_status == 0 && r.output.find("boolean true") != std::string::npos;
      },
      10000);
  if (!ready) {
    throw std::runtime_error("gnome-keyring-daemon did not come up: " +
                             ReadFileToString(dir_.File("keyring.log")));
  }
}

std::map<std::string, std::string> SessionBus::Env() const {
  return {{"DBUS_SESSION_BUS_ADDRESS", address_},
          {"XDG_DATA_HOME", dir_.File("data")},
          {"XDG_RUNTIME_DIR", dir_.File("run")},
          {"NO_AT_BRIDGE", "1"}};
}

void SessionBus::Export() {
  if (!exported_) {
    const char* previous = std::getenv("DBUS_SESSION_BUS_ADDRESS");
    had_previous_ = previous != nullptr;
    if (previous)
      previous_address_ = previous;
  }
  setenv("DBUS_SESSION_BUS_ADDRESS", address_.c_str(), 1);
  exported_ = true;
}

SessionBus::~SessionBus() {
  if (exported_) {
    if (had_previous_)
      setenv("DBUS_SESSION_BUS_ADDRESS", previous_address_.c_str(), 1);
    else
      unsetenv("DBUS_SESSION_BUS_ADDRESS");
  }
  if (keyring_)
    keyring_->Stop(1000);
  if (bus_)
    bus_->Stop(1000);
}

}  // namespace lifeline::testing
