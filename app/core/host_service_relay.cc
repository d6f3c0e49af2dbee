// Relay mode of HostService: the relay client as a source of viewer connections.
#include <mutex>

#include "app/core/host_service.h"
#include "base/log.h"
#include "net/relay/relay_client.h"

namespace lifeline {
namespace {

class RelayIncoming final : public IncomingConnections {
 public:
  RelayIncoming(RelayEndpoint endpoint,
                const DeviceIdentity* identity,
                std::function<void(HostServiceStatus)> report)
      : client_(std::move(endpoint), identity, [report](const RelayHostClient::Update& update) {
          HostServiceStatus status;
          status.text = update.text;
          status.address = update.relay_address;
          status.id = update.id;
          status.retry_in_ms = update.retry_in_ms;
          status.error = update.error;
          switch (update.event) {
            case RelayHostClient::Event::kConnecting:
              status.state = HostServiceState::kConnectingToRelay;
              break;
            case RelayHostClient::Event::kRegistered:
              status.state = HostServiceState::kRegistered;
              break;
            case RelayHostClient::Event::kUnreachable:
            case RelayHostClient::Event::kFatal:
              status.state = HostServiceState::kRelayUnreachable;
              break;
          }
          report(status);
        }) {
    client_.Start();
  }

  Expected<std::unique_ptr<Transport>> Next(int timeout_ms) override {
    auto token = client_.NextIncoming(timeout_ms);
    if (!token.ok())
      return token.error();
    auto stream = client_.OpenDataConnection(*token);
    if (!stream.ok()) {
      // The viewer is lost, the registration is not: keep serving.
      log::Warning("host: cannot open the relay data connection: {}", stream.error().ToString());
      return Error{ErrorCode::kConnectionTimedOut, stream.error().message};
    }
    return stream;
  }

  void Close() override { client_.Stop(); }

 private:
  RelayHostClient client_;
};

}  // namespace

Expected<std::unique_ptr<IncomingConnections>> OpenRelayIncoming(
    const HostRelayOptions& options,
    const DeviceIdentity& identity,
    std::function<void(HostServiceStatus)> report) {
  RelayEndpoint endpoint;
  auto address = ParseHostPort(options.address);
  if (!address.ok())
    return address.error();
  endpoint.address = *address;
  if (!options.fallback_address.empty()) {
    auto fallback = ParseHostPort(options.fallback_address);
    if (!fallback.ok())
      return fallback.error();
    endpoint.fallback = *fallback;
  }
  auto pin = NormalizeRelayPin(options.pin);
  if (!pin.ok())
    return pin.error();
  endpoint.pin = *pin;
  endpoint.proxy = options.proxy;
  return std::unique_ptr<IncomingConnections>(
      std::make_unique<RelayIncoming>(std::move(endpoint), &identity, std::move(report)));
}

}  // namespace lifeline
