// MessageChannel: one connection to a peer, carrying Envelopes both ways.
//
// THREADING
//   Start() creates the channel's network thread, which owns the Transport from then on:
//   it polls, reads, parses, and writes queued messages. Delegate callbacks run on that
//   thread, one at a time. Send() and Close() may be called from any thread, including
//   from inside a callback. Stop() joins the thread and must not be called from a callback.
//
// SCHEDULING
//   Two bounded queues: control (everything but video) and video. Whenever the network
//   thread picks the next message to write, control goes first, so an input event or an
//   ack waits at most for one video chunk (<= 16 KiB) already being written. Nothing is
//   ever dropped: a full queue makes Send() return kQueueFull and closes the channel with
//   kSendQueueFull (a peer that stops reading ends the session, it never grows memory).
//
// HANDSHAKE
//   Each side sends Hello first. The first message received must be Hello with an
//   overlapping version range, within `handshake_timeout_ms`; otherwise the channel sends
//   ErrorReport(kProtocolVersionMismatch or kUnexpectedMessage) and closes. Messages
//   passed to Send() before the handshake completes are queued and sent after our Hello.
//
// CLOSING
//   OnClosed is called exactly once, with kConnectionClosed for an orderly end (Goodbye
//   or end of stream), kPeerError with the peer's message for an ErrorReport, or the
//   local reason (malformed input, I/O error, Close(error)).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "net/framing.h"
#include "net/proto/lifeline.pb.h"
#include "net/transport.h"

namespace lifeline {

inline constexpr uint32_t kProtocolVersion = 2;
inline constexpr uint32_t kMinProtocolVersion = 2;

struct ChannelOptions {
  wire::Hello hello;  // What we announce; the versions are filled in if left 0.
  // <= 0: no limit.
  int handshake_timeout_ms = 5000;
  size_t max_control_messages = 1024;
  size_t max_video_bytes = 64 * 1024 * 1024;
  // Protocol range we speak (tests override to provoke mismatches).
  uint32_t protocol_version = kProtocolVersion;
  uint32_t min_protocol_version = kMinProtocolVersion;
};

enum class SendPriority { kControl, kVideo };
enum class SendResult { kOk, kClosed, kQueueFull };

class MessageChannel {
 public:
  class Delegate {
   public:
    virtual ~Delegate() = default;
    // The peer's Hello was accepted.
    virtual void OnConnected(const wire::Hello& peer_hello) = 0;
    // Any message after Hello except ErrorReport and Goodbye (those close the channel).
    virtual void OnMessage(const wire::Envelope& message) = 0;
    // Exactly once, last.
    virtual void OnClosed(const Error& reason) = 0;
  };

  // `delegate` must outlive the channel.
  MessageChannel(std::unique_ptr<Transport> transport, ChannelOptions options, Delegate* delegate);
  ~MessageChannel();  // Calls Stop().

  void Start();

  // Queues `message`. kClosed after the channel closed or began closing.
  SendResult Send(const wire::Envelope& message, SendPriority priority);

  // Begins an orderly close: sends ErrorReport(reason) when `reason.code` is not kOk,
  // Goodbye otherwise, flushes for up to 1 s, then closes. OnClosed gets `reason`
  // (kConnectionClosed when kOk was given). Queued video is dropped; queued control
  // messages still go out before a Goodbye, not before an ErrorReport. Only the first
  // Close (or internal close) counts. Before Start(), the close happens once started.
  void Close(const Error& reason);

  // Closes (as Close with kCancelled if still open) and joins the network thread. On a
  // channel never started, calls OnClosed on the calling thread.
  void Stop();

  // Blocks until the channel has closed (OnClosed has returned) or `timeout_ms` passed
  // (< 0: no limit). True if closed.
  bool WaitClosed(int timeout_ms);

  bool closed() const { return closed_.load(); }
  uint64_t bytes_sent() const { return bytes_sent_.load(); }
  uint64_t bytes_received() const { return bytes_received_.load(); }
  // Bytes queued but not yet written (both queues).
  size_t queued_bytes() const;
  std::string peer_description() const { return peer_description_; }

 private:
  void Run();
  void Wake();
  bool FillWriteBuffer();
  void HandleMessage(wire::Envelope& message);
  void FinishClose(const Error& reason);
  // Starts closing with `reason`: drops queued video (and, for an error, queued control
  // messages) and queues Goodbye or ErrorReport. `text_for_peer`, when not empty, replaces
  // reason.message in the ErrorReport. False if already closing. Needs mutex_.
  bool BeginCloseLocked(const Error& reason, const std::string& text_for_peer = {});
  bool IsClosing() const;
  // Network thread: the connection is over, close without flushing.
  void FinishNow(const Error& reason);
  // Network thread: reads until the transport would block; writes until it would block
  // or nothing is queued.
  void ReadAvailable(std::vector<uint8_t>& buffer);
  void ProcessInput(std::span<const uint8_t> input);
  void WriteAvailable(bool* want_write);

  std::unique_ptr<Transport> transport_;
  const ChannelOptions options_;
  Delegate* const delegate_;
  const std::string peer_description_;
  int wake_fds_[2] = {-1, -1};

  mutable std::mutex mutex_;
  std::condition_variable closed_cv_;
  std::deque<std::vector<uint8_t>> control_queue_;  // Guarded by mutex_.
  std::deque<std::vector<uint8_t>> video_queue_;    // Guarded by mutex_.
  size_t video_queue_bytes_ = 0;                    // Guarded by mutex_.
  size_t control_queue_bytes_ = 0;                  // Guarded by mutex_.
  bool closing_ = false;                            // Guarded by mutex_.
  Error close_reason_;                              // Guarded by mutex_.

  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::thread thread_;
  bool started_ = false;

  // Network thread only.
  FrameReader reader_;
  std::vector<uint8_t> write_buffer_;
  size_t write_offset_ = 0;
  bool handshake_done_ = false;
  std::optional<Error> finish_reason_;  // Set when the loop must end; then OnClosed.
};

}  // namespace lifeline
