// ViewerSession: receives a host's video, decodes it, and hands the newest picture to a
// front-end (SDL window or headless), with statistics.
//
// THREADING
//   Start() creates two threads owned by the session:
//   - the MessageChannel's network thread: reassembles video chunks into whole frames
//     and pushes them to a bounded decode queue (the host's ack window bounds what can
//     arrive; a host that overruns it is disconnected, nothing is dropped silently);
//     pongs update the clock estimate;
//   - the decode thread: decodes, acks each frame, puts the picture into a LatestSlot,
//     sends pings once a second and closes the stats interval (writing a JSON line to
//     `stats_path` if set).
//   The front-end calls frames().Take() from its own thread (the render thread).
//   A decoder that cannot decode (lost reference, corrupt data) asks for a keyframe and
//   acks frames as not decoded until one arrives.
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "app/core/auth_protocol.h"
#include "app/core/clock_sync.h"
#include "app/core/file_transfer.h"
#include "app/core/remote_control_viewer.h"
#include "app/core/stats.h"
#include "base/bounded_queue.h"
#include "base/latest_slot.h"
#include "base/status.h"
#include "capture/cursor.h"
#include "codec/video_decoder.h"
#include "net/message_channel.h"
#include "net/transport.h"
#include "net/video_chunks.h"

namespace lifeline {

struct ViewerOptions {
  // Authentication: our device ID, the host's one-time password as typed (wiped after
  // use), and where to get a 2FA code if the host asks for one.
  std::string own_device_id;
  std::string password;
  TotpCodeProvider totp_code;
  std::string stats_path;  // JSON lines, one per second; empty: none.
  // Files the host sends land here (accepted without asking: the user chose the folder);
  // empty: every file from the host is declined.
  std::string receive_dir;
  int handshake_timeout_ms = 5000;
  // Protocol range announced (tests use it to provoke a mismatch).
  uint32_t protocol_version = kProtocolVersion;
  uint32_t min_protocol_version = kMinProtocolVersion;
};

// The host's pointer: drawn by the viewer over the video (it is not in the picture).
struct RemoteCursor {
  std::shared_ptr<const CursorShape> shape;  // Null until the host sent one.
  int x = 0;                                 // In video pixels; the shape's hotspot goes here.
  int y = 0;
  bool visible = false;
  uint64_t shape_updates = 0;  // CursorShape messages accepted so far.
};

struct DecodedFrame {
  I420Image image;
  uint64_t frame_id = 0;
  int64_t capture_time_us = 0;          // Host clock.
  int64_t decoded_time_us = 0;          // Viewer clock.
  VideoCodec codec = VideoCodec::kVp8;  // The stream's codec (shown in the stats panel).
};

class ViewerSession : public MessageChannel::Delegate {
 public:
  static constexpr size_t kDecodeQueueCapacity = 16;

  // `channel_info` comes from the TLS handshake that produced `transport`.
  ViewerSession(ViewerOptions options,
                SecureChannelInfo channel_info,
                std::unique_ptr<Transport> transport);
  ~ViewerSession() override;  // Calls Stop().

  // Starts the channel and the decode thread. Error kFileIo when the stats file cannot
  // be opened.
  Status Start();

  // Ends the session (Goodbye to the host) and joins the threads. Idempotent.
  void Stop();

  // True once the session has ended; close_reason() says why (kConnectionClosed when
  // the host left in an orderly way).
  bool WaitClosed(int timeout_ms);
  bool closed() const;
  Error close_reason() const;
  bool connected() const;
  // True once the host accepted us (password, 2FA, consent, indicator all done).
  bool authenticated() const;
  // The host's ID as it announced it (empty before Hello).
  std::string host_id() const;

  // Newest decoded picture, for the render thread.
  LatestSlot<std::shared_ptr<const DecodedFrame>>& frames() { return frames_; }
  // The last decoded picture (kept for --snapshot even after frames() was drained).
  std::shared_ptr<const DecodedFrame> last_frame() const;
  // The host's pointer as last reported (any thread).
  RemoteCursor cursor() const;
  // Called on the decode thread after each new picture (e.g. to wake an event loop).
  void set_frame_callback(std::function<void()> callback);

  // Keyboard, mouse and clipboard towards the host (sends nothing before AuthResult).
  RemoteControlViewer& remote_control() { return remote_control_; }

  // Sends the file at `path` to the host (which confirms it; see file_transfer.h). One
  // at a time; call after authenticated(). The result: Wait() on the returned object,
  // which stays valid until the session is destroyed.
  // `on_progress` (bytes acknowledged, size) runs on the network thread.
  OutgoingFile* SendFile(const std::string& path,
                         std::function<void(uint64_t, uint64_t)> on_progress = nullptr);

  StatsSnapshot latest_stats() const { return stats_.last(); }
  std::string peer_description() const { return channel_->peer_description(); }

  // MessageChannel::Delegate implementation (network thread).
  void OnConnected(const wire::Hello& peer_hello) override;
  void OnMessage(const wire::Envelope& message) override;
  void OnClosed(const Error& reason) override;

 private:
  void DecodeLoop();
  void DecodeOne(AssembledFrame frame);
  void SendPing();
  void ApplyAuthStep(const AuthStep& step);

  ViewerOptions options_;  // Its password is wiped once auth_ has it.
  std::unique_ptr<MessageChannel> channel_;
  BoundedQueue<AssembledFrame> decode_queue_{kDecodeQueueCapacity};
  LatestSlot<std::shared_ptr<const DecodedFrame>> frames_;
  ChunkAssembler assembler_;  // Network thread only.
  ViewerAuthenticator auth_;  // Network thread only.
  RemoteControlViewer remote_control_;
  std::mutex files_mutex_;
  std::unique_ptr<OutgoingFile> outgoing_file_;    // Guarded by files_mutex_.
  std::unique_ptr<IncomingFiles> incoming_files_;  // Network thread (offers answered there).
  uint64_t next_transfer_id_ = 1;                  // Guarded by files_mutex_.
  ClockSync clock_sync_;
  StatsAccumulator stats_;

  mutable std::mutex mutex_;
  std::condition_variable closed_cv_;
  bool connected_ = false;                          // Guarded by mutex_.
  bool authenticated_ = false;                      // Guarded by mutex_.
  std::string host_id_;                             // Guarded by mutex_.
  bool closed_ = false;                             // Guarded by mutex_.
  Error close_reason_;                              // Guarded by mutex_.
  std::shared_ptr<const DecodedFrame> last_frame_;  // Guarded by mutex_.
  RemoteCursor cursor_;                             // Guarded by mutex_.
  std::function<void()> frame_callback_;            // Guarded by mutex_.

  // Decode thread only.
  std::unique_ptr<VideoDecoder> decoder_;
  bool waiting_for_keyframe_ = false;
  uint64_t last_good_frame_id_ = 0;
  uint64_t next_ping_id_ = 1;
  FILE* stats_file_ = nullptr;

  std::atomic<bool> stopping_{false};
  std::thread decode_thread_;
  bool started_ = false;
};

}  // namespace lifeline
