// A private D-Bus session bus for one test, optionally with a real GNOME Keyring on it
// (unlocked with an empty password, its files in a temporary folder). The bus has no
// activatable services, so nothing starts behind the test's back; every process is
// stopped by its PID in the destructor.
#pragma once

#include <memory>
#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline::testing {

class SessionBus {
 public:
  // Throws std::runtime_error when dbus-daemon (or gnome-keyring-daemon) does not come up
  // within 10 s.
  explicit SessionBus(bool with_keyring);
  ~SessionBus();
  SessionBus(const SessionBus&) = delete;
  SessionBus& operator=(const SessionBus&) = delete;

  const std::string& address() const { return address_; }
  // Environment for a child that should use this bus (and this keyring).
  std::map<std::string, std::string> Env() const;
  // Points this process's DBUS_SESSION_BUS_ADDRESS at the bus until destruction.
  void Export();
  const std::string& folder() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::unique_ptr<Subprocess> bus_;
  std::unique_ptr<Subprocess> keyring_;
  std::string address_;
  bool exported_ = false;
  std::string previous_address_;
  bool had_previous_ = false;
};

}  // namespace lifeline::testing
