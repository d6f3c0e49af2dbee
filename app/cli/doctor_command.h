// `lifeline doctor [--relay HOST:PORT] [--relay-pin HEX] [--fallback-port N] [proxy flags]`:
// prints a table of every way out (app/core/doctor.h) and exits 0 when at least one path
// to the relay works (without --relay: when no row failed), else 1; 2 for bad flags.
#pragma once

#include <atomic>
#include <string>

#include "app/cli/proxy_options.h"

namespace CLI {
class App;
}

namespace lifeline {

struct DoctorCommandOptions {
  std::string relay;     // HOST:PORT, or empty.
  std::string fallback;  // HOST:PORT, or empty: port `fallback_port` of the relay's host.
  int fallback_port = 443;
  std::string pin;       // 64 hex digits, or empty: stop at the tunnel.
  std::string pin_file;  // First line: the pin.
  int timeout_ms = 5000;
  bool no_detect = false;
  ProxyCliOptions proxy;
};

// Adds the `doctor` subcommand to `app`; `options` must outlive the parse.
CLI::App* AddDoctorCommand(CLI::App* app, DoctorCommandOptions* options);

// Called on the main thread; `stop` is set by SIGINT/SIGTERM.
int RunDoctorCommand(const DoctorCommandOptions& options, const std::atomic<bool>& stop);

}  // namespace lifeline
