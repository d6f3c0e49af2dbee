// The relay flags shared by `lifeline host` and `lifeline view`:
//   --relay HOST:PORT, --relay-fallback HOST:PORT, --relay-pin HEX, --relay-pin-file FILE.
#pragma once

#include <string>

#include "app/core/host_service.h"
#include "base/status.h"

namespace CLI {
class App;
}

namespace lifeline {

struct RelayCliOptions {
  std::string address;   // Empty: no relay (direct mode).
  std::string fallback;  // Empty: port 443 of the relay's host.
  std::string pin;       // 64 hex digits.
  std::string pin_file;  // First line: the pin.
};

// Adds the four flags to `command`; `options` must outlive the parse.
void AddRelayCliOptions(CLI::App* command, RelayCliOptions* options);

// Checks and completes the flags (reads the pin file, checks the pin is 64 hex digits,
// the addresses parse). Errors name the flag: kInvalidArgument, kAddressInvalid,
// kFileIo (pin file).
Expected<HostRelayOptions> ResolveRelayCliOptions(const RelayCliOptions& options);

}  // namespace lifeline
