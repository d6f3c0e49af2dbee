#include "app/cli/relay_options.h"

#include <CLI/CLI.hpp>

#include "app/cli/terminal_ui.h"
#include "net/relay/relay_client.h"
#include "net/tcp.h"

namespace lifeline {

void AddRelayCliOptions(CLI::App* command, RelayCliOptions* options) {
  command->add_option("--relay", options->address, "Go through this relay (HOST:PORT)");
  command->add_option("--relay-fallback", options->fallback,
                      "Relay address to try when --relay does not answer (default: port 443)");
  command->add_option("--relay-pin", options->pin,
                      "SHA-256 of the relay's public key (64 hex digits, as lifeline-relay "
                      "prints it)");
  command->add_option("--relay-pin-file", options->pin_file,
                      "Read --relay-pin from the first line of this file");
}

Expected<HostRelayOptions> ResolveRelayCliOptions(const RelayCliOptions& options) {
  HostRelayOptions relay;
  auto address = ParseHostPort(options.address);
  if (!address.ok())
    return Error{address.error().code, "--relay: " + address.error().message};
  relay.address = address->ToString();
  if (!options.fallback.empty()) {
    auto fallback = ParseHostPort(options.fallback);
    if (!fallback.ok())
      return Error{fallback.error().code, "--relay-fallback: " + fallback.error().message};
    relay.fallback_address = fallback->ToString();
  }
  std::string pin = options.pin;
  if (!options.pin_file.empty()) {
    auto line = ReadFirstLine(options.pin_file);
    if (!line.ok())
      return Error{line.error().code, "--relay-pin-file: " + line.error().message};
    pin = *line;
  }
  if (pin.empty())
    return Error{ErrorCode::kInvalidArgument,
                 "--relay needs --relay-pin or --relay-pin-file (the relay's key, as "
                 "lifeline-relay prints it)"};
  auto normalized = NormalizeRelayPin(pin);
  if (!normalized.ok())
    return Error{normalized.error().code, "--relay-pin: " + normalized.error().message};
  relay.pin = *normalized;
  return relay;
}

}  // namespace lifeline
