// File transfer over a session, either way (wire: FileOffer, FileAnswer, FileChunk,
// FileProgress, FileResult; net/proto/lifeline.proto).
//
//   sender (OutgoingFile)                  receiver (IncomingFiles)
//   FileOffer(name, size, sha256)  ---->   validated, queued for confirmation
//                                  <----   FileAnswer(accepted, offset)   [Answer()]
//   FileChunk x N (low priority)   ---->   written with FileReceiver (file_receiver.h)
//                                  <----   FileProgress every 256 KiB (the sender keeps at
//                                          most 1 MiB unacknowledged)
//                                  <----   FileResult after the SHA-256 check
//
// Resuming: when the receiver still has the part file of the same name, size and hash
// (a connection cut earlier), it answers with offset = its size and the sender continues
// there. One transfer at a time per direction and session.
//
// Malformed or unexpected messages (bad name length, wrong offset, unknown id) are errors
// that close the connection; file-system problems end the one transfer with a
// FileResult carrying the error (kDiskFull, kFileExists, ...).
//
// Threading: HandleMessage() on the channel's network thread; IncomingFiles::Answer() and
// TakePendingOffer() on the owner's thread (the host's Run() thread, where the UI is
// asked); OutgoingFile runs its own thread (hashing, reading, pacing).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "app/core/file_receiver.h"
#include "app/core/session_ui.h"
#include "base/status.h"
#include "net/message_channel.h"
#include "net/proto/lifeline.pb.h"

namespace lifeline {

using SendFunction = std::function<bool(const wire::Envelope&, SendPriority)>;

inline constexpr uint64_t kFileWindowBytes = 1 << 20;
inline constexpr uint64_t kFileProgressEveryBytes = 256 * 1024;

// Error kMalformedMessage when `offer` breaks the wire rules (hash length). A name the
// receiver refuses is not malformed: it gets a FileAnswer with kFileNameRefused.
Status ValidateFileOffer(const wire::FileOffer& offer);

class IncomingFiles {
 public:
  // `folder` null: every offer is declined ("this side receives no files").
  IncomingFiles(std::unique_ptr<ReceiveFolder> folder, SendFunction send);
  ~IncomingFiles();  // An unfinished transfer keeps its part file (resumable).

  static bool Handles(const wire::Envelope& message);
  // Network thread.
  Status HandleMessage(const wire::Envelope& message);

  // The offer waiting for a decision, if any (owner's thread). `*exists` tells whether a
  // file of that name is already in the folder; `*resume_from` the bytes a cut transfer
  // of the same file left (or -1).
  std::optional<wire::FileOffer> TakePendingOffer(bool* exists, int64_t* resume_from);
  // Sends the FileAnswer (owner's thread).
  void Answer(const wire::FileOffer& offer, FileDecision decision);

  // Called (network thread) with each finished transfer: name and result.
  std::function<void(const std::string&, const Status&)> on_finished;
  // Called (network thread) about every 10 %: name, bytes received, size.
  std::function<void(const std::string&, uint64_t, uint64_t)> on_progress;
  // Called (network thread) when an offer is waiting (to wake the owner's thread).
  std::function<void()> on_offer;

 private:
  void Finish(uint64_t id, const Status& result);  // Needs mutex_.

  std::unique_ptr<ReceiveFolder> folder_;
  SendFunction send_;
  std::mutex mutex_;
  std::optional<wire::FileOffer> pending_;  // Guarded by mutex_.
  std::optional<wire::FileOffer> active_;   // Guarded by mutex_.
  std::unique_ptr<FileReceiver> receiver_;  // Guarded by mutex_.
  uint64_t last_progress_sent_ = 0;         // Guarded by mutex_.
  int last_decile_ = -1;                    // Guarded by mutex_.
};

// IncomingFiles for `receive_dir` (empty or unusable: declines every offer, with a
// warning naming `side`), logging progress and results. Shared by host and viewer.
std::unique_ptr<IncomingFiles> MakeIncomingFiles(const std::string& receive_dir,
                                                 const char* side,
                                                 SendFunction send);

class OutgoingFile {
 public:
  struct Outcome {
    Status status;              // Ok: the receiver verified and stored the file.
    uint64_t resumed_from = 0;  // Offset the receiver asked to start at.
    uint64_t bytes_sent = 0;    // Chunk bytes sent in this session.
  };

  OutgoingFile(std::string path, uint64_t transfer_id, SendFunction send);
  ~OutgoingFile();  // Stops the thread (the transfer is abandoned, resumable).

  // Starts the sender thread: hashes the file, offers it, sends it.
  void Start();
  static bool Handles(const wire::Envelope& message);
  // Network thread.
  Status HandleMessage(const wire::Envelope& message);
  // Blocks until the transfer ended (or `timeout_ms`, < 0: no limit); nullopt on timeout.
  std::optional<Outcome> Wait(int timeout_ms);
  // Ends the transfer (the session ended): Wait() returns kConnectionClosed.
  void Cancel(const Status& reason);

  // Called on the network thread at each FileProgress: bytes acknowledged, size.
  std::function<void(uint64_t, uint64_t)> on_progress;

 private:
  void Run();
  void End(Status status);  // Any thread.

  const std::string path_;
  const uint64_t id_;
  SendFunction send_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<wire::FileAnswer> answer_;  // Guarded by mutex_.
  uint64_t acknowledged_ = 0;               // Guarded by mutex_.
  std::optional<Outcome> outcome_;          // Guarded by mutex_.
  uint64_t resumed_from_ = 0;               // Guarded by mutex_.
  uint64_t bytes_sent_ = 0;                 // Guarded by mutex_.
  uint64_t size_ = 0;                       // Guarded by mutex_.
  bool all_sent_ = false;                   // Guarded by mutex_.
};

// Routes a sender-side message (OutgoingFile::Handles) to `file`; kUnexpectedMessage
// when there is no transfer. Callers hold the lock that guards `file`.
Status RouteToOutgoingFile(OutgoingFile* file, const wire::Envelope& message);

}  // namespace lifeline
