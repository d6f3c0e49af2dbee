#include "net/relay/relay_client.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "base/log.h"
#include "base/time.h"
#include "net/openssl_handles.h"
#include "net/tls/tls_transport.h"

namespace lifeline {
namespace {

constexpr int kPollSliceMs = 100;
constexpr int kRegisterTimeoutMs = 10'000;
constexpr int kPairTimeoutMs = 20'000;
constexpr int kFirstRetryMs = 250;
constexpr int kMaxRetryMs = 2'000;
constexpr uint16_t kFallbackPort = 443;

bool Cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load();
}

// Polls `stream` for `events` up to `wait_ms`; false on a poll failure.
bool WaitFor(Transport* stream, bool want_write, int wait_ms) {
  pollfd pfd{stream->fd(), stream->PollEvents(want_write), 0};
  return poll(&pfd, 1, wait_ms) >= 0 || errno == EINTR;
}

bool IsUnreachable(ErrorCode code) {
  return code == ErrorCode::kConnectionRefused || code == ErrorCode::kConnectionTimedOut ||
         code == ErrorCode::kNetworkIo || code == ErrorCode::kAddressInvalid;
}

}  // namespace

Expected<std::string> NormalizeRelayPin(std::string_view text) {
  std::string pin;
  for (char c : text) {
    if (c == ':' || c == ' ')
      continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return Error{ErrorCode::kInvalidArgument,
                   "the relay pin must be 64 hex digits (SHA-256 of the relay's key)"};
    pin.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (pin.size() != 64)
    return Error{ErrorCode::kInvalidArgument,
                 "the relay pin must be 64 hex digits, got " + std::to_string(pin.size())};
  return pin;
}

Status VerifyRelayBinding(const RelayBinding& binding, std::string_view pin) {
  auto invalid = [](std::string what) {
    return Error{ErrorCode::kRelayBindingInvalid, "the relay's ID statement " + what};
  };
  if (!IsRelayId(binding.id))
    return invalid("has no valid ID");
  const auto* spki = reinterpret_cast<const uint8_t*>(binding.relay_spki.data());
  if (DeviceIdentity::FingerprintOfSpki({spki, binding.relay_spki.size()}) != pin)
    return invalid("is signed by a key that is not the pinned relay key");
  const unsigned char* cursor = spki;
  openssl::EvpPkeyPtr key(
      d2i_PUBKEY(nullptr, &cursor, static_cast<long>(binding.relay_spki.size())));
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_ED25519)
    return invalid("carries an unusable relay key");
  openssl::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  const std::vector<uint8_t> signed_bytes = BindingSignedBytes(binding);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const uint8_t*>(binding.signature.data()),
                       binding.signature.size(), signed_bytes.data(), signed_bytes.size()) != 1) {
    return invalid("has a bad signature");
  }
  return {};
}

Expected<RelayConnection> ConnectToRelay(const RelayEndpoint& endpoint,
                                         const DeviceIdentity& identity,
                                         const std::atomic<bool>* cancel) {
  std::vector<HostPort> addresses{endpoint.address};
  HostPort fallback = endpoint.fallback.value_or(HostPort{endpoint.address.host, kFallbackPort});
  if (fallback.host != endpoint.address.host || fallback.port != endpoint.address.port)
    addresses.push_back(fallback);
  std::string failures;
  for (const HostPort& address : addresses) {
    OutboundOptions options;
    options.timeout_ms = endpoint.connect_timeout_ms;
    options.cancel = cancel;
    OutboundRoute route;
    auto stream = ConnectOutbound(address, endpoint.proxy, options, &route);
    if (!stream.ok()) {
      if (stream.error().code == ErrorCode::kCancelled)
        return stream.error();
      if (!IsUnreachable(stream.error().code))
        return stream.error();  // Proxy errors say themselves what to fix.
      failures +=
          (failures.empty() ? "" : "; ") + address.ToString() + ": " + stream.error().message;
      continue;
    }
    auto tls = TlsHandshake(std::move(stream).value(), TlsRole::kClient, identity,
                            endpoint.connect_timeout_ms, cancel);
    if (!tls.ok()) {
      if (tls.error().code == ErrorCode::kCancelled)
        return tls.error();
      failures += (failures.empty() ? "" : "; ") + address.ToString() + ": " + tls.error().message;
      continue;
    }
    if ((*tls)->peer_fingerprint() != endpoint.pin) {
      return Error{ErrorCode::kRelayCertificateInvalid,
                   "the relay at " + address.ToString() + " presented key " +
                       ShortFingerprint((*tls)->peer_fingerprint()) + ", not the pinned key " +
                       ShortFingerprint(endpoint.pin) + "; refusing to use it"};
    }
    RelayConnection connection;
    connection.channel_binding = (*tls)->channel_binding();
    connection.stream = std::move(tls).value();
    connection.address = address;
    connection.route = route.description.empty() ? "direct" : route.description;
    return connection;
  }
  return Error{ErrorCode::kRelayUnreachable, "relay unreachable (" + failures + ")"};
}

Status AddDeviceProof(const DeviceIdentity& identity,
                      const RelayConnection& connection,
                      RelayMessage* message) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(identity.private_key(), &der);
  if (length <= 0)
    return Error{ErrorCode::kInternal, "cannot encode the device key"};
  message->device_spki.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  const std::vector<uint8_t> bytes = DeviceProofSignedBytes(connection.channel_binding);
  openssl::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char signature[64];
  size_t signature_length = sizeof(signature);
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, identity.private_key()) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &signature_length, bytes.data(), bytes.size()) != 1)
    return Error{ErrorCode::kInternal, "cannot sign the device proof"};
  message->device_proof.assign(reinterpret_cast<const char*>(signature), signature_length);
  return {};
}

Status SendRelayMessage(Transport* stream,
                        const RelayMessage& message,
                        int timeout_ms,
                        const std::atomic<bool>* cancel) {
  auto bytes = EncodeRelayMessage(message);
  if (!bytes.ok())
    return bytes.error();
  const int64_t deadline_us = MonotonicNowUs() + int64_t{timeout_ms} * 1000;
  std::span<const uint8_t> rest(*bytes);
  while (!rest.empty()) {
    if (Cancelled(cancel))
      return Error{ErrorCode::kCancelled, "cancelled"};
    IoResult result = stream->Write(rest);
    if (result.status == IoStatus::kOk) {
      rest = rest.subspan(result.bytes);
      continue;
    }
    if (result.status != IoStatus::kWouldBlock)
      return result.status == IoStatus::kClosed
                 ? Error{ErrorCode::kConnectionClosed, "the relay closed the connection"}
                 : result.error;
    if (MonotonicNowUs() >= deadline_us)
      return Error{ErrorCode::kConnectionTimedOut, "the relay did not take our message in time"};
    WaitFor(stream, true, kPollSliceMs);
  }
  // Hand the ciphertext on (TLS keeps it until the next call otherwise).
  static_cast<void>(stream->PollEvents(false));
  return {};
}

Expected<RelayMessage> ReceiveRelayMessage(Transport* stream,
                                           int timeout_ms,
                                           const std::atomic<bool>* cancel) {
  const int64_t deadline_us = MonotonicNowUs() + int64_t{timeout_ms} * 1000;
  RelayMessageReader reader;
  uint8_t buffer[kMaxRelayBodyBytes + kRelayHeaderBytes];
  while (true) {
    if (Cancelled(cancel))
      return Error{ErrorCode::kCancelled, "cancelled"};
    const size_t want = reader.bytes_wanted();
    IoResult result = stream->Read({buffer, want});
    if (result.status == IoStatus::kOk) {
      std::span<const uint8_t> input(buffer, result.bytes);
      RelayMessage message;
      switch (reader.Read(&input, &message)) {
        case RelayMessageReader::Result::kMessage:
          return message;
        case RelayMessageReader::Result::kError:
          return reader.error();
        case RelayMessageReader::Result::kNeedMore:
          continue;
      }
    }
    if (result.status == IoStatus::kClosed)
      return Error{ErrorCode::kConnectionClosed, "the relay closed the connection"};
    if (result.status == IoStatus::kError)
      return result.error;
    const int64_t now_us = MonotonicNowUs();
    if (now_us >= deadline_us)
      return Error{ErrorCode::kConnectionTimedOut, "no answer from the relay in time"};
    if (stream->HasBufferedInput())
      continue;
    WaitFor(stream, false,
            static_cast<int>(std::min<int64_t>(kPollSliceMs, (deadline_us - now_us) / 1000 + 1)));
  }
}

Expected<RelayPairing> ConnectViaRelay(const RelayEndpoint& endpoint,
                                       const DeviceIdentity& identity,
                                       std::string_view id,
                                       const std::atomic<bool>* cancel) {
  if (!IsRelayId(id))
    return Error{ErrorCode::kInvalidArgument,
                 "a relay ID has 9 digits, got \"" + std::string(id) + "\""};
  auto connection = ConnectToRelay(endpoint, identity, cancel);
  if (!connection.ok())
    return connection.error();
  RelayMessage connect;
  connect.type = RelayMessageType::kConnect;
  connect.id = std::string(id);
  if (Status st = SendRelayMessage(connection->stream.get(), connect, kRegisterTimeoutMs, cancel);
      !st.ok())
    return st.error();
  auto answer = ReceiveRelayMessage(connection->stream.get(), kPairTimeoutMs, cancel);
  if (!answer.ok()) {
    if (answer.error().code == ErrorCode::kConnectionClosed)
      return Error{ErrorCode::kRelayProtocol, "the relay closed the connection without an answer"};
    return answer.error();
  }
  if (answer->type == RelayMessageType::kRefused) {
    const auto code = static_cast<ErrorCode>(answer->error_code);
    if (code == ErrorCode::kPeerUnknownOrOffline)
      return Error{code, "ID " + FormatDeviceId(id) + " is unknown or offline"};
    return Error{code, "the relay refused: " + answer->error_message};
  }
  if (answer->type != RelayMessageType::kPaired)
    return Error{ErrorCode::kRelayProtocol,
                 "the relay answered Connect with an unexpected message"};
  if (Status st = VerifyRelayBinding(answer->binding, endpoint.pin); !st.ok())
    return st.error();
  if (answer->binding.id != id)
    return Error{ErrorCode::kRelayBindingInvalid,
                 "the relay paired us with ID " + answer->binding.id + ", not " + std::string(id)};
  RelayPairing pairing;
  pairing.stream = std::move(connection->stream);
  pairing.binding = std::move(answer->binding);
  pairing.relay_address = connection->address.ToString();
  pairing.route = connection->route;
  return pairing;
}

// ---------------------------------------------------------------------------------------
// RelayHostClient

RelayHostClient::RelayHostClient(RelayEndpoint endpoint,
                                 const DeviceIdentity* identity,
                                 StatusCallback callback)
    : endpoint_(std::move(endpoint)), identity_(identity), callback_(std::move(callback)) {}

RelayHostClient::~RelayHostClient() {
  Stop();
}

void RelayHostClient::Start() {
  std::lock_guard lock(thread_mutex_);
  if (thread_.joinable())
    return;
  stop_.store(false);
  thread_ = std::thread([this] { ControlLoop(); });
}

void RelayHostClient::Stop() {
  stop_.store(true);
  {
    std::lock_guard lock(mutex_);  // No lost wake-up between the check and the wait.
    cv_.notify_all();
  }
  std::lock_guard lock(thread_mutex_);
  if (thread_.joinable())
    thread_.join();
}

void RelayHostClient::Report(Update update) {
  if (update.relay_address.empty())
    update.relay_address = endpoint_.address.ToString();
  if (callback_)
    callback_(update);
}

Expected<std::string> RelayHostClient::NextIncoming(int timeout_ms) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return stop_.load() || fatal_.has_value() || !incoming_.empty(); });
  if (fatal_)
    return *fatal_;
  if (!incoming_.empty()) {
    std::string token = std::move(incoming_.front());
    incoming_.pop_front();
    return token;
  }
  if (stop_.load())
    return Error{ErrorCode::kCancelled, "the relay client stopped"};
  return Error{ErrorCode::kConnectionTimedOut, "no viewer yet"};
}

Expected<std::unique_ptr<Transport>> RelayHostClient::OpenDataConnection(const std::string& token) {
  RelayEndpoint endpoint = endpoint_;
  {
    std::lock_guard lock(mutex_);
    if (connected_) {
      endpoint.address = *connected_;  // The address that answered (maybe the fallback).
      endpoint.fallback = *connected_;
    }
  }
  auto connection = ConnectToRelay(endpoint, *identity_, &stop_);
  if (!connection.ok())
    return connection.error();
  RelayMessage accept;
  accept.type = RelayMessageType::kAccept;
  accept.token = token;
  if (Status st = AddDeviceProof(*identity_, *connection, &accept); !st.ok())
    return st.error();
  if (Status st = SendRelayMessage(connection->stream.get(), accept, kRegisterTimeoutMs, &stop_);
      !st.ok())
    return st.error();
  return std::move(connection->stream);
}

void RelayHostClient::ControlLoop() {
  int retry_ms = kFirstRetryMs;
  while (!stop_.load()) {
    Update connecting;
    connecting.event = Event::kConnecting;
    connecting.text = "Connecting to relay " + endpoint_.address.ToString();
    Report(connecting);
    auto connection = ConnectToRelay(endpoint_, *identity_, &stop_);
    Error ended;
    bool registered = false;
    if (connection.ok()) {
      {
        std::lock_guard lock(mutex_);
        connected_ = connection->address;
      }
      ended = ServeControl(std::move(connection).value());
      registered = ended.code != ErrorCode::kRelayRegistrationFailed;
    } else {
      ended = connection.error();
    }
    if (stop_.load() || ended.code == ErrorCode::kCancelled)
      break;
    if (ended.code == ErrorCode::kRelayCertificateInvalid ||
        ended.code == ErrorCode::kRelayBindingInvalid) {
      Update fatal;
      fatal.event = Event::kFatal;
      fatal.error = ended;
      fatal.text = ended.ToString();
      Report(fatal);
      std::lock_guard lock(mutex_);
      fatal_ = ended;
      cv_.notify_all();
      break;
    }
    if (registered)
      retry_ms = kFirstRetryMs;  // Lost a working connection: come back quickly.
    // Jitter (up to 20 %) so hosts do not return in lock step after a relay restart.
    uint16_t random = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&random), sizeof(random));
    const int wait_ms = retry_ms - static_cast<int>(retry_ms / 5 * (random % 1000) / 1000);
    Update unreachable;
    unreachable.event = Event::kUnreachable;
    unreachable.error = ended;
    unreachable.retry_in_ms = wait_ms;
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.1f", wait_ms / 1000.0);
    unreachable.text =
        "Relay unreachable, retrying in " + std::string(seconds) + " s (" + ended.message + ")";
    Report(unreachable);
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stop_.load(); });
    retry_ms = std::min(retry_ms * 2, kMaxRetryMs);
  }
}

Error RelayHostClient::ServeControl(RelayConnection connection) {
  Transport* stream = connection.stream.get();
  RelayMessage reg;
  reg.type = RelayMessageType::kRegister;
  if (Status st = AddDeviceProof(*identity_, connection, &reg); !st.ok())
    return st.error();
  if (Status st = SendRelayMessage(stream, reg, kRegisterTimeoutMs, &stop_); !st.ok())
    return Error{ErrorCode::kRelayRegistrationFailed, st.error().message};
  auto answer = ReceiveRelayMessage(stream, kRegisterTimeoutMs, &stop_);
  if (!answer.ok())
    return Error{answer.error().code == ErrorCode::kCancelled ? ErrorCode::kCancelled
                                                              : ErrorCode::kRelayRegistrationFailed,
                 "registration: " + answer.error().message};
  if (answer->type == RelayMessageType::kRefused)
    return Error{ErrorCode::kRelayRegistrationFailed,
                 "the relay refused the registration: " + answer->error_message};
  if (answer->type != RelayMessageType::kRegistered)
    return Error{ErrorCode::kRelayRegistrationFailed, "unexpected answer to Register"};
  if (Status st = VerifyRelayBinding(answer->binding, endpoint_.pin); !st.ok())
    return st.error();
  if (answer->binding.fingerprint != identity_->fingerprint())
    return Error{ErrorCode::kRelayBindingInvalid,
                 "the relay bound an ID to a key that is not ours"};
  const int interval_ms =
      static_cast<int>(std::clamp<uint32_t>(answer->keepalive_interval_ms, 200, 600'000));
  Update registered;
  registered.event = Event::kRegistered;
  registered.id = answer->binding.id;
  registered.relay_address = connection.address.ToString();
  registered.text =
      "Connected to relay " + connection.address.ToString() + " (" + connection.route + ")";
  Report(registered);

  // Keep-alive: a Ping every interval; nothing heard for 3 intervals means the relay (or
  // the path to it) is dead.
  int64_t last_heard_us = MonotonicNowUs();
  int64_t next_ping_us = last_heard_us + int64_t{interval_ms} * 1000;
  uint64_t nonce = 0;
  RelayMessageReader reader;
  uint8_t buffer[256];
  while (!stop_.load()) {
    const int64_t now_us = MonotonicNowUs();
    if (now_us - last_heard_us > int64_t{interval_ms} * 3000)
      return Error{ErrorCode::kRelayUnreachable, "the relay stopped answering keep-alives"};
    if (now_us >= next_ping_us) {
      RelayMessage ping;
      ping.type = RelayMessageType::kPing;
      ping.nonce = ++nonce;
      if (Status st = SendRelayMessage(stream, ping, interval_ms, &stop_); !st.ok())
        return Error{ErrorCode::kRelayUnreachable, "lost the relay: " + st.error().message};
      next_ping_us = now_us + int64_t{interval_ms} * 1000;
    }
    IoResult result = stream->Read(buffer);
    if (result.status == IoStatus::kWouldBlock) {
      WaitFor(stream, false, kPollSliceMs);
      continue;
    }
    if (result.status == IoStatus::kClosed)
      return Error{ErrorCode::kRelayUnreachable, "the relay closed the connection"};
    if (result.status == IoStatus::kError)
      return Error{ErrorCode::kRelayUnreachable, "lost the relay: " + result.error.message};
    last_heard_us = MonotonicNowUs();
    std::span<const uint8_t> input(buffer, result.bytes);
    while (!input.empty()) {
      RelayMessage message;
      auto read = reader.Read(&input, &message);
      if (read == RelayMessageReader::Result::kError)
        return Error{ErrorCode::kRelayUnreachable, reader.error().message};
      if (read == RelayMessageReader::Result::kNeedMore)
        break;
      if (message.type == RelayMessageType::kPing) {
        RelayMessage pong;
        pong.type = RelayMessageType::kPong;
        pong.nonce = message.nonce;
        if (Status st = SendRelayMessage(stream, pong, interval_ms, &stop_); !st.ok())
          return Error{ErrorCode::kRelayUnreachable, "lost the relay: " + st.error().message};
      } else if (message.type == RelayMessageType::kIncoming) {
        std::lock_guard lock(mutex_);
        if (incoming_.size() < kMaxPendingIncoming) {
          incoming_.push_back(std::move(message.token));
          cv_.notify_all();
        } else {
          log::Warning("relay: {} viewers already waiting; one more ignored", incoming_.size());
        }
      }
      // Pong: being heard is all that matters.
    }
  }
  return Error{ErrorCode::kCancelled, "stopped"};
}

}  // namespace lifeline
