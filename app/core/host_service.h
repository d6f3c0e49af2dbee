// HostService: the host's whole lifecycle, shared by the terminal host (`lifeline host`)
// and the desktop app's main window.
//
//   direct mode  listens on `listen`, accepts one viewer at a time;
//   relay mode   registers with a relay (the relay's ID is shown), keeps that control
//                connection alive, reconnects with back-off when it drops, and opens a
//                data connection for each viewer the relay announces.
// Either way each viewer gets the inner TLS 1.3 handshake (our device certificate) and a
// HostSession (SPAKE2, consent, indicator, streaming), one session at a time.
//
// THREADING (the contract the front-ends rely on)
//   - Run() blocks on the calling thread (the "service thread") until `stop` becomes true
//     or a fatal error. The CLI calls it on its main thread; a GUI calls Start(), which
//     runs Run() on a thread owned by the service, and Stop() (any thread but the service
//     thread) to end it and join.
//   - HostSession runs on the service thread, so HostSessionUi (consent, indicator,
//     password changes) is called on the service thread; a GUI marshals to its UI thread.
//   - The status callback is called on the service thread or, in relay mode, on the relay
//     client's control thread; it must not block and must not call back into the service.
//     It is set before Run()/Start() and not changed afterwards.
//   - `security` (HostSecurityState) must outlive the service.
//
// ERRORS
//   Run() returns Ok when stopped, or after the one session with `once`; otherwise the
//   fatal error: kListenFailed (direct mode cannot listen), capture/encoder failures
//   (kCaptureFailed, kDisplayUnavailable, kEncoderInitFailed: about this machine, so the
//   service stops), kRelayCertificateInvalid / kRelayBindingInvalid (the relay is not the
//   one pinned: never retried). A relay that cannot be reached is not fatal: the service
//   reports kRelayUnreachable in its status and retries with back-off.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "app/core/host_security_state.h"
#include "app/core/host_session.h"
#include "base/status.h"
#include "net/proxy/proxy_config.h"

namespace lifeline {

// Where the relay is and how to trust it (relay mode).
struct HostRelayOptions {
  std::string address;           // "relay.example:7000"
  std::string fallback_address;  // Tried when `address` does not answer; "" = port 443 of it.
  std::string pin;               // Hex SHA-256 of the relay's public key (64 hex digits).
  ProxyConfig proxy;             // How to get out (ConnectOutbound).
  int keepalive_interval_ms = 15000;
};

struct HostServiceOptions {
  HostOptions session;     // Capture, codec, bitrate... for every session.
  std::string listen;      // Direct mode: address to listen on (port 0: a free one).
  bool use_relay = false;  // Relay mode instead of direct mode.
  HostRelayOptions relay;  // Relay mode.
  bool once = false;       // Return after the first session (tests).
  int tls_handshake_timeout_ms = 10'000;
};

enum class HostServiceState {
  kStarting,
  kListening,          // Direct mode: waiting for a viewer on `address`.
  kConnectingToRelay,  // Relay mode: connecting/registering.
  kRegistered,         // Relay mode: registered, `id` is the relay's ID for this host.
  kRelayUnreachable,   // Relay mode: lost or no connection; retrying in `retry_in_ms`.
  kSessionStarted,     // A viewer connected (before authentication).
  kSessionEnded,       // `error` says how (kOk for a viewer that left normally).
  kStopped,
};

struct HostServiceStatus {
  HostServiceState state = HostServiceState::kStarting;
  std::string text;     // One sentence for people: "Connected to relay 127.0.0.1:7000 (direct)".
  std::string id;       // 9 digits, once known (relay ID in relay mode, local ID in direct).
  std::string address;  // Direct: the address listened on. Relay: the relay's address.
  int retry_in_ms = 0;  // kRelayUnreachable.
  Error error;          // kSessionEnded, kRelayUnreachable.
};

using HostStatusCallback = std::function<void(const HostServiceStatus&)>;

// The source of viewer connections: a TCP listener (direct) or the relay client.
// Threading: Next() is called on the service thread only; Close() from any thread.
class IncomingConnections {
 public:
  virtual ~IncomingConnections() = default;
  // Waits up to `timeout_ms` for the next viewer's raw stream (before inner TLS).
  // kConnectionTimedOut when none came; other errors are fatal for the service.
  virtual Expected<std::unique_ptr<Transport>> Next(int timeout_ms) = 0;
  virtual void Close() = 0;
};

class HostService {
 public:
  HostService(HostServiceOptions options,
              HostSecurityState* security,
              CapturerFactory capturer_factory = CreateScreenCapturer);
  ~HostService();  // Calls Stop().

  HostService(const HostService&) = delete;
  HostService& operator=(const HostService&) = delete;

  // Set before Run()/Start().
  void set_status_callback(HostStatusCallback callback);

  // Opens the incoming side (listens, or starts the relay client) and serves until
  // `stop` is true. See ERRORS above.
  Status Run(const std::atomic<bool>& stop);

  // GUI use: Run() on a service-owned thread. `on_finished` (may be empty) is called on
  // that thread with Run()'s result. Error kInvalidArgument if already started.
  Status Start(std::function<void(Status)> on_finished = {});
  // Ends Start()'s thread (the session in progress says Goodbye) and joins it.
  // Idempotent; not from the service thread or a callback.
  void Stop();

  // Ends the session in progress, if any, as if the viewer had been told Goodbye; the
  // service keeps serving (the overlay's Disconnect button). Any thread, never blocks.
  void EndCurrentSession();

  // "Pause control" (the overlay's button, issue 7): while paused, the viewer's keyboard
  // and mouse are blocked in the session core (InputFilter) and keys it held are
  // released. Applies to the session in progress; every new session starts unpaused.
  // Any thread, never blocks for long.
  void SetControlPaused(bool paused);

  // The last status reported (any thread).
  HostServiceStatus status() const;

 private:
  void Report(HostServiceStatus status);
  Expected<std::unique_ptr<IncomingConnections>> OpenIncoming();
  // Runs one session on `transport`; returns a fatal error or Ok.
  Status ServeOne(std::unique_ptr<Transport> transport, const std::atomic<bool>& stop);

  const HostServiceOptions options_;
  HostSecurityState* const security_;
  CapturerFactory capturer_factory_;
  HostStatusCallback callback_;

  mutable std::mutex mutex_;
  HostServiceStatus status_;  // Guarded by mutex_.
  // Guarded by mutex_; shared so Stop() can Close() it without holding mutex_ (the relay
  // client's thread reports status, which takes mutex_, while Close() joins it).
  std::shared_ptr<IncomingConnections> incoming_;
  RemoteControlHost* remote_control_ = nullptr;  // Guarded by mutex_: the running session's.

  std::atomic<bool> thread_stop_{false};
  std::atomic<bool> session_stop_{false};           // The running session's stop flag.
  std::atomic<bool> end_session_requested_{false};  // Set by EndCurrentSession().
  std::thread thread_;
};

}  // namespace lifeline
