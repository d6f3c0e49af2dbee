#include "net/message_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "base/log.h"
#include "base/time.h"
#include "net/posix_util.h"

namespace lifeline {
namespace {

using net_internal::ErrnoText;
using Payload = wire::Envelope::PayloadCase;

constexpr size_t kReadBufferBytes = 64 * 1024;
// Reading stops after this much in one go so that writes (acks, input) are not starved by
// a peer that sends without pause; poll() reports the rest at once.
constexpr size_t kMaxReadPerRoundBytes = 1024 * 1024;
// Queued control messages are written together up to this size (video: one chunk at a
// time, so control never waits for more than one chunk).
constexpr size_t kMaxCoalescedControlBytes = 64 * 1024;
constexpr int64_t kFlushTimeoutUs = 1'000'000;
// Text we put into Goodbye/ErrorReport stays well within their size limits.
constexpr size_t kMaxReportTextBytes = 1024;
// Text from the peer we show in our own errors.
constexpr size_t kMaxPeerTextBytes = 300;

// Length of the valid UTF-8 sequence at the start of `text`, 0 if invalid (the rules of
// protobuf's UTF-8 check: no overlong forms, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80)
    return 1;
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0)
      low = 0xa0;
    if (lead == 0xed)
      high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0)
      low = 0x90;
    if (lead == 0xf4)
      high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length)
    return 0;
  if (byte(1) < low || byte(1) > high)
    return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf)
      return 0;
  }
  return length;
}

// `text` as valid UTF-8 without control characters (each invalid byte or control
// character becomes '?'), at most `max_bytes` long plus "...". Used both ways: protobuf
// rejects messages whose strings are not UTF-8, and peer text ends up in logs and the UI.
std::string SanitizeText(std::string_view text, size_t max_bytes) {
  std::string out;
  while (!text.empty()) {
    size_t length = Utf8SequenceLength(text);
    const bool control =
        length == 1 && (static_cast<unsigned char>(text[0]) < 0x20 || text[0] == 0x7f);
    const bool replace = length == 0 || control;
    if (replace)
      length = 1;
    if (out.size() + (replace ? 1 : length) > max_bytes) {
      out += "...";
      break;
    }
    if (replace) {
      out += '?';
    } else {
      out.append(text.substr(0, length));
    }
    text.remove_prefix(length);
  }
  return out;
}

int RemainingMs(int64_t deadline_us) {
  const int64_t remaining_us = deadline_us - MonotonicNowUs();
  if (remaining_us <= 0)
    return 0;
  return static_cast<int>(std::min<int64_t>((remaining_us + 999) / 1000, 1 << 30));
}

ChannelOptions WithVersionsFilledIn(ChannelOptions options) {
  if (options.hello.protocol_version() == 0) {
    options.hello.set_protocol_version(options.protocol_version);
  }
  if (options.hello.min_protocol_version() == 0) {
    options.hello.set_min_protocol_version(options.min_protocol_version);
  }
  return options;
}

}  // namespace

MessageChannel::MessageChannel(std::unique_ptr<Transport> transport,
                               ChannelOptions options,
                               Delegate* delegate)
    : transport_(std::move(transport)),
      options_(WithVersionsFilledIn(std::move(options))),
      delegate_(delegate),
      peer_description_(transport_ ? transport_->PeerDescription() : std::string("nobody")) {
  std::lock_guard lock(mutex_);
  if (!transport_) {
    closing_ = true;
    close_reason_ = Error{ErrorCode::kInvalidArgument, "MessageChannel created without transport"};
  } else if (pipe2(wake_fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
    wake_fds_[0] = wake_fds_[1] = -1;
    closing_ = true;
    close_reason_ = Error{ErrorCode::kInternal,
                          fmt::format("cannot create the wake pipe for the connection to {}: {}",
                                      peer_description_, ErrnoText(errno))};
  }
}

MessageChannel::~MessageChannel() {
  Stop();
  for (int& fd : wake_fds_) {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
}

void MessageChannel::Start() {
  if (started_)
    return;
  started_ = true;
  {
    std::lock_guard lock(mutex_);
    wire::Envelope hello;
    *hello.mutable_hello() = options_.hello;
    auto encoded = EncodeEnvelope(hello);
    if (!encoded.ok()) {
      BeginCloseLocked(
          Error{encoded.error().code, "our Hello cannot be sent: " + encoded.error().message});
    } else if (transport_ && wake_fds_[0] >= 0) {
      // Hello goes first, before anything Send() queued (or what an early Close() queued).
      control_queue_bytes_ += encoded->size();
      control_queue_.push_front(std::move(encoded).value());
    }
  }
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    FinishClose(Error{
        ErrorCode::kInternal,
        fmt::format("cannot start the network thread for {}: {}", peer_description_, e.what())});
  }
}

SendResult MessageChannel::Send(const wire::Envelope& message, SendPriority priority) {
  auto encoded = EncodeEnvelope(message);
  if (!encoded.ok()) {
    // A bug on our side (the peer would reject the message anyway): end loudly.
    log::Error("cannot send a message (type {}) to {}: {}", MessageTypeName(message.payload_case()),
               peer_description_, encoded.error().ToString());
    Close(encoded.error());
    return SendResult::kClosed;
  }
  const size_t size = encoded->size();
  bool wake = false;
  SendResult result = SendResult::kOk;
  {
    std::lock_guard lock(mutex_);
    if (closing_ || closed_.load())
      return SendResult::kClosed;
    const bool full = priority == SendPriority::kControl
                          ? control_queue_.size() >= options_.max_control_messages
                          : video_queue_bytes_ + size > options_.max_video_bytes;
    if (full) {
      BeginCloseLocked(
          Error{ErrorCode::kSendQueueFull,
                fmt::format("the send queue to {} is full ({} control messages, {} video bytes "
                            "queued): the peer is not reading",
                            peer_description_, control_queue_.size(), video_queue_bytes_)});
      result = SendResult::kQueueFull;
      wake = true;
    } else {
      // The network thread sleeps without waiting to write only when both queues are
      // empty, so only then does it need a wake-up.
      wake = control_queue_.empty() && video_queue_.empty();
      if (priority == SendPriority::kControl) {
        control_queue_bytes_ += size;
        control_queue_.push_back(std::move(encoded).value());
      } else {
        video_queue_bytes_ += size;
        video_queue_.push_back(std::move(encoded).value());
      }
    }
  }
  if (wake)
    Wake();
  return result;
}

void MessageChannel::Close(const Error& reason) {
  bool began = false;
  {
    std::lock_guard lock(mutex_);
    began = BeginCloseLocked(reason);
  }
  if (began)
    Wake();
}

void MessageChannel::Stop() {
  if (!started_) {
    // Never started: close here, on the caller's thread. A later Start() does nothing.
    started_ = true;
    Error reason;
    {
      std::lock_guard lock(mutex_);
      reason = closing_ ? close_reason_
                        : Error{ErrorCode::kCancelled, "connection stopped before it started"};
    }
    FinishClose(reason);
    return;
  }
  if (thread_.joinable() && thread_.get_id() == std::this_thread::get_id()) {
    log::Error("MessageChannel::Stop() called from a channel callback; closing without joining");
    Close(Error{ErrorCode::kCancelled, "connection stopped"});
    return;
  }
  Close(Error{ErrorCode::kCancelled, "connection stopped"});
  if (thread_.joinable())
    thread_.join();
}

bool MessageChannel::WaitClosed(int timeout_ms) {
  std::unique_lock lock(mutex_);
  if (timeout_ms < 0) {
    closed_cv_.wait(lock, [this] { return closed_.load(); });
    return true;
  }
  return closed_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [this] { return closed_.load(); });
}

size_t MessageChannel::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return control_queue_bytes_ + video_queue_bytes_;
}

bool MessageChannel::BeginCloseLocked(const Error& reason, const std::string& text_for_peer) {
  if (closing_ || closed_.load())
    return false;
  closing_ = true;
  close_reason_ = reason;
  if (reason.code == ErrorCode::kOk) {
    close_reason_ = Error{ErrorCode::kConnectionClosed,
                          reason.message.empty() ? "connection closed" : reason.message};
  }
  video_queue_.clear();
  video_queue_bytes_ = 0;

  wire::Envelope last;
  if (reason.code == ErrorCode::kOk) {
    // Orderly: control messages queued before still go out, then Goodbye.
    last.mutable_goodbye()->set_reason(SanitizeText(reason.message, kMaxReportTextBytes));
  } else {
    // An error: the report goes out as soon as possible.
    control_queue_.clear();
    control_queue_bytes_ = 0;
    wire::ErrorReport* report = last.mutable_error();
    report->set_code(static_cast<uint32_t>(reason.code));
    report->set_message(
        SanitizeText(text_for_peer.empty() ? reason.message : text_for_peer, kMaxReportTextBytes));
  }
  auto encoded = EncodeEnvelope(last);
  if (encoded.ok()) {
    control_queue_bytes_ += encoded->size();
    control_queue_.push_back(std::move(encoded).value());
  }
  log::Info("closing the connection to {}: {}", peer_description_, close_reason_.ToString());
  return true;
}

bool MessageChannel::IsClosing() const {
  std::lock_guard lock(mutex_);
  return closing_;
}

void MessageChannel::Wake() {
  if (wake_fds_[1] < 0)
    return;
  const uint8_t byte = 1;
  // A full pipe (EAGAIN) already holds a pending wake-up.
  [[maybe_unused]] const ssize_t ignored = write(wake_fds_[1], &byte, 1);
}

// The network thread. Each round: write what is queued (control first), decide whether
// the channel is done, then poll the transport and the wake pipe and read what arrived.
void MessageChannel::Run() {
  {
    std::lock_guard lock(mutex_);
    if (!transport_ || wake_fds_[0] < 0)
      finish_reason_ = close_reason_;
  }
  std::vector<uint8_t> read_buffer(kReadBufferBytes);
  const int64_t handshake_deadline_us =
      MonotonicNowUs() + int64_t{std::max(options_.handshake_timeout_ms, 0)} * 1000;
  int64_t flush_deadline_us = 0;  // Set when closing begins.

  while (!finish_reason_) {
    bool want_write = false;
    WriteAvailable(&want_write);
    if (finish_reason_)
      break;

    bool closing = false;
    {
      std::lock_guard lock(mutex_);
      closing = closing_;
      if (closing && !want_write && control_queue_.empty() && video_queue_.empty()) {
        // Everything, Goodbye or ErrorReport included, has been written.
        finish_reason_ = close_reason_;
      } else if (closing && flush_deadline_us == 0) {
        flush_deadline_us = MonotonicNowUs() + kFlushTimeoutUs;
      } else if (closing && MonotonicNowUs() >= flush_deadline_us) {
        log::Warning("could not flush the connection to {} within {} ms", peer_description_,
                     kFlushTimeoutUs / 1000);
        finish_reason_ = close_reason_;
      }
    }
    if (finish_reason_)
      break;

    int timeout_ms = -1;
    if (closing) {
      timeout_ms = RemainingMs(flush_deadline_us);
    } else if (!handshake_done_ && options_.handshake_timeout_ms > 0) {
      timeout_ms = RemainingMs(handshake_deadline_us);
    }
    // A transport that already holds input (TLS records decrypted but not yet read)
    // will not make the socket readable again: do not sleep on it.
    const bool buffered_input = transport_->HasBufferedInput();
    if (buffered_input)
      timeout_ms = 0;
    pollfd fds[2] = {{transport_->fd(), transport_->PollEvents(want_write), 0},
                     {wake_fds_[0], POLLIN, 0}};
    const int n = poll(fds, 2, timeout_ms);
    if (n < 0 && errno != EINTR) {
      FinishNow(Error{ErrorCode::kInternal, fmt::format("poll() on the connection to {} failed: {}",
                                                        peer_description_, ErrnoText(errno))});
      break;
    }
    if (n > 0 && fds[1].revents != 0) {
      uint8_t drain[64];
      while (read(wake_fds_[0], drain, sizeof(drain)) > 0) {
      }
    }
    if (n > 0 && (fds[0].revents & POLLNVAL) != 0) {
      FinishNow(
          Error{ErrorCode::kInternal,
                fmt::format("the connection to {} has no valid descriptor", peer_description_)});
      break;
    }
    if (buffered_input || (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0))
      ReadAvailable(read_buffer);

    if (!finish_reason_ && !handshake_done_ && options_.handshake_timeout_ms > 0 &&
        MonotonicNowUs() >= handshake_deadline_us) {
      std::lock_guard lock(mutex_);
      BeginCloseLocked(Error{ErrorCode::kConnectionTimedOut,
                             fmt::format("no Hello from {} within {} ms", peer_description_,
                                         options_.handshake_timeout_ms)});
    }
  }
  FinishClose(*finish_reason_);
}

void MessageChannel::WriteAvailable(bool* want_write) {
  while (true) {
    if (write_offset_ >= write_buffer_.size()) {
      write_buffer_.clear();
      write_offset_ = 0;
      if (!FillWriteBuffer())
        return;
    }
    const IoResult result =
        transport_->Write(std::span<const uint8_t>(write_buffer_).subspan(write_offset_));
    switch (result.status) {
      case IoStatus::kOk:
        if (result.bytes == 0) {  // Not allowed by the contract; treat as "try later".
          *want_write = true;
          return;
        }
        write_offset_ += result.bytes;
        bytes_sent_ += result.bytes;
        break;
      case IoStatus::kWouldBlock:
        *want_write = true;
        return;
      case IoStatus::kClosed:
      case IoStatus::kError: {
        Error error = result.status == IoStatus::kError
                          ? result.error
                          : Error{ErrorCode::kConnectionClosed,
                                  fmt::format("{} closed the connection", peer_description_)};
        {
          std::lock_guard lock(mutex_);
          if (closing_)
            error = close_reason_;
        }
        // The peer may have explained itself (ErrorReport, Goodbye) before the stream
        // broke: read what arrived so its reason wins over "broken pipe".
        std::vector<uint8_t> buffer(kReadBufferBytes);
        ReadAvailable(buffer);
        if (!finish_reason_)
          FinishNow(error);
        return;
      }
    }
  }
}

// Control messages first (several at once), else one video chunk.
bool MessageChannel::FillWriteBuffer() {
  std::lock_guard lock(mutex_);
  if (!control_queue_.empty()) {
    write_buffer_ = std::move(control_queue_.front());
    control_queue_.pop_front();
    control_queue_bytes_ -= write_buffer_.size();
    while (!control_queue_.empty() &&
           write_buffer_.size() + control_queue_.front().size() <= kMaxCoalescedControlBytes) {
      const std::vector<uint8_t>& next = control_queue_.front();
      write_buffer_.insert(write_buffer_.end(), next.begin(), next.end());
      control_queue_bytes_ -= next.size();
      control_queue_.pop_front();
    }
    return true;
  }
  if (!video_queue_.empty()) {
    write_buffer_ = std::move(video_queue_.front());
    video_queue_.pop_front();
    video_queue_bytes_ -= write_buffer_.size();
    return true;
  }
  return false;
}

void MessageChannel::ReadAvailable(std::vector<uint8_t>& buffer) {
  size_t round_bytes = 0;
  while (!finish_reason_ && round_bytes < kMaxReadPerRoundBytes) {
    const IoResult result = transport_->Read(std::span<uint8_t>(buffer));
    switch (result.status) {
      case IoStatus::kOk:
        bytes_received_ += result.bytes;
        round_bytes += result.bytes;
        // While closing, input is read (so the peer is not blocked) and dropped.
        if (!IsClosing())
          ProcessInput(std::span<const uint8_t>(buffer.data(), result.bytes));
        if (result.bytes == 0)
          return;  // Not allowed by the contract; avoid spinning.
        break;
      case IoStatus::kWouldBlock:
        return;
      case IoStatus::kClosed: {
        std::string what = "closed the connection";
        if (!handshake_done_) {
          what = "closed the connection before the handshake completed";
        } else if (reader_.buffered_bytes() > 0) {
          what = "closed the connection in the middle of a message";
        }
        Error error{ErrorCode::kConnectionClosed, fmt::format("{} {}", peer_description_, what)};
        {
          std::lock_guard lock(mutex_);
          if (closing_)
            error = close_reason_;
        }
        FinishNow(error);
        return;
      }
      case IoStatus::kError: {
        Error error = result.error;
        {
          std::lock_guard lock(mutex_);
          if (closing_)
            error = close_reason_;
        }
        FinishNow(error);
        return;
      }
    }
  }
}

void MessageChannel::ProcessInput(std::span<const uint8_t> input) {
  wire::Envelope message;
  while (!input.empty() && !finish_reason_) {
    if (IsClosing())
      return;  // A callback closed the channel: drop the rest.
    switch (reader_.Read(&input, &message)) {
      case FrameReader::Result::kMessage:
        HandleMessage(message);
        break;
      case FrameReader::Result::kNeedMore:
        return;
      case FrameReader::Result::kError: {
        const Error& error = reader_.error();
        log::Warning("malformed input from {}: {}", peer_description_, error.ToString());
        std::lock_guard lock(mutex_);
        BeginCloseLocked(
            Error{error.code, fmt::format("from {}: {}", peer_description_, error.message)},
            error.message);
        return;
      }
    }
  }
}

void MessageChannel::HandleMessage(wire::Envelope& message) {
  switch (message.payload_case()) {
    case Payload::kError: {
      const wire::ErrorReport& report = message.error();
      const std::string code_text =
          IsKnownErrorCode(report.code())
              ? fmt::format("E{} {}", report.code(),
                            ToString(static_cast<ErrorCode>(report.code())))
              : fmt::format("unknown error code {}", report.code());
      const std::string text = SanitizeText(report.message(), kMaxPeerTextBytes);
      FinishNow(Error{ErrorCode::kPeerError,
                      fmt::format("{} reported an error: {} ({})", peer_description_,
                                  text.empty() ? "no details" : text, code_text)});
      return;
    }
    case Payload::kGoodbye: {
      const std::string text = SanitizeText(message.goodbye().reason(), kMaxPeerTextBytes);
      FinishNow(Error{ErrorCode::kConnectionClosed,
                      fmt::format("{} closed the connection{}{}", peer_description_,
                                  text.empty() ? "" : ": ", text)});
      return;
    }
    case Payload::kHello: {
      if (handshake_done_) {
        std::lock_guard lock(mutex_);
        BeginCloseLocked(Error{ErrorCode::kUnexpectedMessage,
                               fmt::format("{} sent a second Hello", peer_description_)},
                         "unexpected second Hello");
        return;
      }
      const wire::Hello& hello = message.hello();
      const uint32_t peer_max = hello.protocol_version();
      const uint32_t peer_min =
          hello.min_protocol_version() == 0 ? peer_max : hello.min_protocol_version();
      const uint32_t our_max = options_.hello.protocol_version();
      const uint32_t our_min = options_.hello.min_protocol_version();
      const bool overlap =
          peer_max != 0 && peer_min <= peer_max && peer_min <= our_max && our_min <= peer_max;
      if (!overlap) {
        std::lock_guard lock(mutex_);
        BeginCloseLocked(
            Error{ErrorCode::kProtocolVersionMismatch,
                  fmt::format("peer {} speaks protocol {}..{}, we speak {}..{}; update the older "
                              "side",
                              peer_description_, peer_min, peer_max, our_min, our_max)},
            fmt::format("no common protocol version: you speak {}..{}, we speak {}..{}", peer_min,
                        peer_max, our_min, our_max));
        return;
      }
      handshake_done_ = true;
      log::Info("connected to {} (protocol {}, peer app {})", peer_description_,
                std::min(peer_max, our_max), SanitizeText(hello.app_version(), 64));
      delegate_->OnConnected(hello);
      return;
    }
    default:
      if (!handshake_done_) {
        std::lock_guard lock(mutex_);
        BeginCloseLocked(
            Error{ErrorCode::kUnexpectedMessage,
                  fmt::format("{} sent {} before Hello", peer_description_,
                              MessageTypeName(message.payload_case()))},
            fmt::format("expected Hello, got {}", MessageTypeName(message.payload_case())));
        return;
      }
      delegate_->OnMessage(message);
      return;
  }
}

void MessageChannel::FinishNow(const Error& reason) {
  finish_reason_ = reason;
  std::lock_guard lock(mutex_);
  if (!closing_) {
    closing_ = true;
    close_reason_ = reason;
  }
}

void MessageChannel::FinishClose(const Error& reason) {
  if (transport_)
    transport_->Shutdown();
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    control_queue_.clear();
    video_queue_.clear();
    control_queue_bytes_ = 0;
    video_queue_bytes_ = 0;
  }
  log::Info("connection to {} closed: {}", peer_description_, reason.ToString());
  delegate_->OnClosed(reason);
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  closed_cv_.notify_all();
}

}  // namespace lifeline
