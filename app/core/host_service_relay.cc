// Relay mode of HostService (first landing: not wired yet; the relay client follows).
#include "app/core/host_service.h"

namespace lifeline {

Expected<std::unique_ptr<IncomingConnections>> OpenRelayIncoming(
    const HostRelayOptions& /*options*/,
    const DeviceIdentity& /*identity*/,
    std::function<void(HostServiceStatus)> /*report*/) {
  return Error{ErrorCode::kInvalidArgument, "relay mode is not available in this build yet"};
}

}  // namespace lifeline
