#include "app/core/host_service.h"

#include <chrono>
#include <utility>

#include "base/log.h"
#include "net/tcp.h"
#include "net/tls/tls_transport.h"

namespace lifeline {
namespace {

constexpr int kPollSliceMs = 200;

class DirectIncoming final : public IncomingConnections {
 public:
  explicit DirectIncoming(std::unique_ptr<TcpListener> listener) : listener_(std::move(listener)) {}
  Expected<std::unique_ptr<Transport>> Next(int timeout_ms) override {
    return listener_->Accept(timeout_ms);
  }
  void Close() override { listener_->Close(); }
  const HostPort& local_address() const { return listener_->local_address(); }

 private:
  std::unique_ptr<TcpListener> listener_;
};

bool IsMachineFailure(ErrorCode code) {
  return code == ErrorCode::kCaptureFailed || code == ErrorCode::kDisplayUnavailable ||
         code == ErrorCode::kEncoderInitFailed;
}

}  // namespace

// Defined in host_service_relay.cc: the relay client as a source of viewer connections.
Expected<std::unique_ptr<IncomingConnections>> OpenRelayIncoming(
    const HostRelayOptions& options,
    const DeviceIdentity& identity,
    std::function<void(HostServiceStatus)> report);

HostService::HostService(HostServiceOptions options,
                         HostSecurityState* security,
                         CapturerFactory capturer_factory)
    : options_(std::move(options)),
      security_(security),
      capturer_factory_(std::move(capturer_factory)) {}

HostService::~HostService() {
  Stop();
}

void HostService::set_status_callback(HostStatusCallback callback) {
  callback_ = std::move(callback);
}

HostServiceStatus HostService::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void HostService::Report(HostServiceStatus status) {
  {
    std::lock_guard lock(mutex_);
    if (status.id.empty())
      status.id = status_.id;
    status_ = status;
  }
  log::Info("host: {}", status.text);
  if (callback_)
    callback_(status);
}

Expected<std::unique_ptr<IncomingConnections>> HostService::OpenIncoming() {
  if (options_.use_relay) {
    return OpenRelayIncoming(options_.relay, security_->identity,
                             [this](HostServiceStatus status) { Report(std::move(status)); });
  }
  auto address = ParseListenAddress(options_.listen);
  if (!address.ok())
    return address.error();
  auto listener = TcpListener::Listen(*address);
  if (!listener.ok())
    return listener.error();
  auto direct = std::make_unique<DirectIncoming>(std::move(listener).value());
  HostServiceStatus status;
  status.state = HostServiceState::kListening;
  status.address = direct->local_address().ToString();
  status.id = security_->credentials->host_id();
  status.text = "Listening on " + status.address;
  Report(status);
  return std::unique_ptr<IncomingConnections>(std::move(direct));
}

Status HostService::Run(const std::atomic<bool>& stop) {
  auto incoming = OpenIncoming();
  if (!incoming.ok())
    return incoming.error();
  std::shared_ptr<IncomingConnections> source = std::move(incoming).value();
  {
    std::lock_guard lock(mutex_);
    incoming_ = source;
  }
  Status result;
  while (!stop.load() && !thread_stop_.load()) {
    auto transport = source->Next(kPollSliceMs);
    if (!transport.ok()) {
      if (transport.error().code == ErrorCode::kConnectionTimedOut)
        continue;
      if (transport.error().code == ErrorCode::kCancelled)
        break;
      result = transport.error();
      break;
    }
    Status served = ServeOne(std::move(transport).value(), stop);
    if (!served.ok() && IsMachineFailure(served.code())) {
      result = served;
      break;
    }
    if (options_.once) {
      result = served;
      break;
    }
  }
  source->Close();
  {
    std::lock_guard lock(mutex_);
    incoming_.reset();
  }
  HostServiceStatus stopped;
  stopped.state = HostServiceState::kStopped;
  stopped.text = result.ok() ? "Stopped" : "Stopped: " + result.error().ToString();
  stopped.error = result.ok() ? Error{ErrorCode::kOk, ""} : result.error();
  Report(stopped);
  return result;
}

Status HostService::ServeOne(std::unique_ptr<Transport> transport, const std::atomic<bool>& stop) {
  const std::string peer = transport->PeerDescription();
  auto tls = TlsHandshake(std::move(transport), TlsRole::kServer, security_->identity,
                          options_.tls_handshake_timeout_ms, &stop);
  if (!tls.ok()) {
    // Someone who cannot even complete TLS 1.3 gets nothing; keep serving.
    log::Warning("host: {}", tls.error().ToString());
    if (security_->audit) {
      AuditEvent event;
      event.type = AuditEventType::kAuthFailed;
      event.details = "TLS handshake from " + peer + " failed";
      static_cast<void>(security_->audit->Append(event));
    }
    return tls.error();
  }
  HostServiceStatus started;
  started.state = HostServiceState::kSessionStarted;
  started.address = peer;
  started.text = "Viewer connecting from " + peer;
  Report(started);

  SecureChannelInfo channel_info;
  channel_info.channel_binding = (*tls)->channel_binding();
  channel_info.peer_fingerprint = (*tls)->peer_fingerprint();
  channel_info.peer_address = peer;
  HostSession session(options_.session, &security_->security, channel_info, std::move(tls).value(),
                      capturer_factory_);
  // The session ends on `stop` or on EndCurrentSession() (the overlay's Disconnect): a
  // small watcher folds both into the one flag HostSession::Run polls.
  session_stop_.store(false);
  end_session_requested_.store(false);  // A click from before this session does not count.
  {
    std::lock_guard lock(mutex_);
    remote_control_ = &session.remote_control();
  }
  std::atomic<bool> session_over{false};
  std::thread watcher([&] {
    while (!session_over.load() && !session_stop_.load()) {
      if (stop.load() || end_session_requested_.exchange(false))
        session_stop_.store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  Status result = session.Run(session_stop_);
  {
    std::lock_guard lock(mutex_);
    remote_control_ = nullptr;
  }
  session_over.store(true);
  watcher.join();
  const HostSessionStats stats = session.stats();
  log::Info(
      "host: {} frames captured, {} encoded ({} keyframes, {} refreshes), {} skipped, {} "
      "bytes sent",
      stats.frames_captured, stats.frames_encoded, stats.keyframes, stats.refreshes,
      stats.frames_skipped, stats.bytes_sent);
  HostServiceStatus ended;
  ended.state = HostServiceState::kSessionEnded;
  ended.address = peer;
  ended.error = result.ok() ? Error{ErrorCode::kOk, ""} : result.error();
  ended.text = result.ok() ? "Session with " + peer + " ended"
                           : "Session with " + peer + " ended: " + result.error().ToString();
  Report(ended);
  return result;
}

Status HostService::Start(std::function<void(Status)> on_finished) {
  if (thread_.joinable())
    return Error{ErrorCode::kInvalidArgument, "the host service is already running"};
  thread_stop_.store(false);
  thread_ = std::thread([this, on_finished = std::move(on_finished)] {
    Status result = Run(thread_stop_);
    if (on_finished)
      on_finished(result);
  });
  return {};
}

void HostService::EndCurrentSession() {
  end_session_requested_.store(true);
}

void HostService::SetControlPaused(bool paused) {
  std::lock_guard lock(mutex_);
  if (remote_control_)
    remote_control_->SetPaused(paused);
}

void HostService::Stop() {
  thread_stop_.store(true);
  std::shared_ptr<IncomingConnections> incoming;
  {
    std::lock_guard lock(mutex_);
    incoming = incoming_;
  }
  if (incoming)
    incoming->Close();
  if (thread_.joinable())
    thread_.join();
}

}  // namespace lifeline
