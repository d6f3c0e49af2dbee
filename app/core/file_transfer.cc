#include "app/core/file_transfer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "base/log.h"
#include "net/framing.h"

namespace lifeline {
namespace {

// What a transfer may announce: far more than any support case needs.
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 40;

Status Malformed(const std::string& what) {
  return Status(ErrorCode::kMalformedMessage, what);
}

std::array<uint8_t, 32> HashOf(const wire::FileOffer& offer) {
  std::array<uint8_t, 32> sha{};
  std::memcpy(sha.data(), offer.sha256().data(), sha.size());
  return sha;
}

wire::Envelope Result(uint64_t id, const Status& status) {
  wire::Envelope message;
  message.mutable_file_result()->set_transfer_id(id);
  message.mutable_file_result()->set_error_code(static_cast<uint32_t>(status.code()));
  if (!status.ok())
    message.mutable_file_result()->set_message(status.error().message.substr(0, 900));
  return message;
}

Status StatusFromWire(uint32_t code, const std::string& message) {
  if (code == 0)
    return Status::Ok();
  const ErrorCode error =
      IsKnownErrorCode(code) ? static_cast<ErrorCode>(code) : ErrorCode::kPeerError;
  return Status(error, message.empty() ? std::string(ToString(error)) : message);
}

}  // namespace

Status ValidateFileOffer(const wire::FileOffer& offer) {
  if (offer.sha256().size() != 32)
    return Malformed("FileOffer with a SHA-256 of " + std::to_string(offer.sha256().size()) +
                     " bytes");
  if (offer.name().size() > 255)
    return Malformed("FileOffer with a name longer than 255 bytes");
  return Status::Ok();
}

// ---- IncomingFiles ----

IncomingFiles::IncomingFiles(std::unique_ptr<ReceiveFolder> folder, SendFunction send)
    : folder_(std::move(folder)), send_(std::move(send)) {}

IncomingFiles::~IncomingFiles() = default;

bool IncomingFiles::Handles(const wire::Envelope& message) {
  return message.payload_case() == wire::Envelope::kFileOffer ||
         message.payload_case() == wire::Envelope::kFileChunk;
}

Status IncomingFiles::HandleMessage(const wire::Envelope& message) {
  std::function<void()> wake;
  std::function<void(const std::string&, uint64_t, uint64_t)> progress;
  std::string progress_name;
  uint64_t progress_at = 0;
  uint64_t progress_of = 0;
  {
    std::lock_guard lock(mutex_);
    if (message.has_file_offer()) {
      const wire::FileOffer& offer = message.file_offer();
      if (Status st = ValidateFileOffer(offer); !st.ok())
        return st;
      if (pending_ || active_) {
        wire::Envelope answer;
        answer.mutable_file_answer()->set_transfer_id(offer.transfer_id());
        answer.mutable_file_answer()->set_error_code(
            static_cast<uint32_t>(ErrorCode::kFileTransferRefused));
        answer.mutable_file_answer()->set_message("one transfer at a time");
        send_(answer, SendPriority::kControl);
        return Status::Ok();
      }
      pending_ = offer;
      wake = on_offer;
    } else {
      const wire::FileChunk& chunk = message.file_chunk();
      if (!active_ || !receiver_ || chunk.transfer_id() != active_->transfer_id())
        return Status(ErrorCode::kUnexpectedMessage, "FileChunk for no accepted transfer");
      if (chunk.offset() != receiver_->offset())
        return Malformed("FileChunk at offset " + std::to_string(chunk.offset()) + ", expected " +
                         std::to_string(receiver_->offset()));
      if (chunk.data().size() > kMaxFileChunkDataBytes)
        return Malformed("FileChunk larger than " + std::to_string(kMaxFileChunkDataBytes));
      const auto* bytes = reinterpret_cast<const uint8_t*>(chunk.data().data());
      if (Status st = receiver_->Write({bytes, chunk.data().size()}); !st.ok()) {
        receiver_.reset();  // Write() removed the part file.
        Finish(chunk.transfer_id(), st);
        return Status::Ok();
      }
      const uint64_t received = receiver_->offset();
      const uint64_t size = receiver_->expected_size();
      if (received == size) {
        Status result = receiver_->Finish();
        receiver_.reset();
        Finish(chunk.transfer_id(), result);
        return Status::Ok();
      }
      if (received - last_progress_sent_ >= kFileProgressEveryBytes) {
        last_progress_sent_ = received;
        wire::Envelope ack;
        ack.mutable_file_progress()->set_transfer_id(chunk.transfer_id());
        ack.mutable_file_progress()->set_received(received);
        send_(ack, SendPriority::kControl);
      }
      const int decile = static_cast<int>(received * 10 / std::max<uint64_t>(size, 1));
      if (decile != last_decile_) {
        last_decile_ = decile;
        progress = on_progress;
        progress_name = active_->name();
        progress_at = received;
        progress_of = size;
      }
    }
  }
  if (wake)
    wake();
  if (progress)
    progress(progress_name, progress_at, progress_of);
  return Status::Ok();
}

void IncomingFiles::Finish(uint64_t id, const Status& result) {
  send_(Result(id, result), SendPriority::kControl);
  const std::string name = active_ ? active_->name() : std::string();
  active_.reset();
  if (on_finished)
    on_finished(name, result);
}

std::optional<wire::FileOffer> IncomingFiles::TakePendingOffer(bool* exists, int64_t* resume_from) {
  std::lock_guard lock(mutex_);
  if (!pending_)
    return std::nullopt;
  *exists =
      folder_ && ValidateTransferName(pending_->name()).ok() && folder_->Contains(pending_->name());
  *resume_from = folder_ && ValidateTransferName(pending_->name()).ok()
                     ? folder_->PartialSize(pending_->name(), HashOf(*pending_))
                     : -1;
  return pending_;
}

void IncomingFiles::Answer(const wire::FileOffer& offer, FileDecision decision) {
  std::lock_guard lock(mutex_);
  if (!pending_ || pending_->transfer_id() != offer.transfer_id())
    return;
  pending_.reset();
  wire::Envelope answer;
  wire::FileAnswer* reply = answer.mutable_file_answer();
  reply->set_transfer_id(offer.transfer_id());
  auto refuse = [&](const Error& error) {
    reply->set_accepted(false);
    reply->set_error_code(static_cast<uint32_t>(error.code));
    reply->set_message(error.message.substr(0, 900));
    send_(answer, SendPriority::kControl);
  };
  if (!folder_) {
    refuse(Error{ErrorCode::kFileTransferRefused, "this side does not receive files"});
    return;
  }
  if (Status st = ValidateTransferName(offer.name()); !st.ok()) {
    refuse(st.error());
    return;
  }
  if (decision == FileDecision::kDecline) {
    refuse(Error{ErrorCode::kFileTransferRefused, "declined at the host"});
    return;
  }
  if (offer.size() > kMaxFileBytes) {
    refuse(Error{ErrorCode::kFileTransferRefused, "the file is too large"});
    return;
  }
  const ReplacePolicy replace = decision == FileDecision::kAcceptReplace
                                    ? ReplacePolicy::kReplaceAgreed
                                    : ReplacePolicy::kNeverReplace;
  const auto sha = HashOf(offer);
  Expected<std::unique_ptr<FileReceiver>> receiver =
      ValidateTransferName(offer.name()).ok() && folder_->PartialSize(offer.name(), sha) >= 0
          ? FileReceiver::Resume(*folder_, offer.name(), offer.size(), sha, replace)
          : FileReceiver::Create(*folder_, offer.name(), offer.size(), sha, replace);
  if (!receiver.ok()) {
    refuse(receiver.error());
    return;
  }
  receiver_ = std::move(receiver).value();
  active_ = offer;
  last_progress_sent_ = receiver_->offset();
  last_decile_ = -1;
  reply->set_accepted(true);
  reply->set_offset(receiver_->offset());
  send_(answer, SendPriority::kControl);
  if (receiver_->offset() > 0)
    log::Info("files: resuming {} at byte {}", offer.name(), receiver_->offset());
  if (receiver_->offset() == offer.size()) {  // Empty, or all there already: finish now.
    Status result = receiver_->Finish();
    receiver_.reset();
    Finish(offer.transfer_id(), result);
  }
}

// ---- OutgoingFile ----

OutgoingFile::OutgoingFile(std::string path, uint64_t transfer_id, SendFunction send)
    : path_(std::move(path)), id_(transfer_id), send_(std::move(send)) {}

OutgoingFile::~OutgoingFile() {
  Cancel(Status(ErrorCode::kCancelled, "the transfer was abandoned"));
  if (thread_.joinable())
    thread_.join();
}

void OutgoingFile::Start() {
  thread_ = std::thread([this] { Run(); });
}

bool OutgoingFile::Handles(const wire::Envelope& message) {
  return message.payload_case() == wire::Envelope::kFileAnswer ||
         message.payload_case() == wire::Envelope::kFileProgress ||
         message.payload_case() == wire::Envelope::kFileResult;
}

Status OutgoingFile::HandleMessage(const wire::Envelope& message) {
  std::function<void(uint64_t, uint64_t)> progress;
  uint64_t acknowledged = 0;
  uint64_t size = 0;
  {
    std::lock_guard lock(mutex_);
    if (message.has_file_answer()) {
      if (message.file_answer().transfer_id() != id_ || answer_)
        return Status(ErrorCode::kUnexpectedMessage, "FileAnswer for no offered file");
      answer_ = message.file_answer();
    } else if (message.has_file_progress()) {
      if (message.file_progress().transfer_id() != id_ || !answer_)
        return Status(ErrorCode::kUnexpectedMessage, "FileProgress for no transfer");
      acknowledged_ = std::max(acknowledged_, message.file_progress().received());
      acknowledged = acknowledged_;
      size = size_;
      progress = on_progress;
    } else if (message.has_file_result()) {
      if (message.file_result().transfer_id() != id_)
        return Status(ErrorCode::kUnexpectedMessage, "FileResult for no transfer");
      if (!outcome_) {
        outcome_ = Outcome{
            StatusFromWire(message.file_result().error_code(), message.file_result().message()),
            resumed_from_, bytes_sent_};
      }
    }
  }
  cv_.notify_all();
  if (progress)
    progress(acknowledged, size);
  return Status::Ok();
}

void OutgoingFile::End(Status status) {
  {
    std::lock_guard lock(mutex_);
    if (!outcome_)
      outcome_ = Outcome{std::move(status), resumed_from_, bytes_sent_};
  }
  cv_.notify_all();
}

void OutgoingFile::Cancel(const Status& reason) {
  End(reason);
}

std::optional<OutgoingFile::Outcome> OutgoingFile::Wait(int timeout_ms) {
  std::unique_lock lock(mutex_);
  auto done = [&] { return outcome_.has_value(); };
  if (timeout_ms < 0)
    cv_.wait(lock, done);
  else
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done);
  return outcome_;
}

void OutgoingFile::Run() {
  const std::string name = path_.substr(path_.find_last_of('/') + 1);
  if (Status st = ValidateTransferName(name); !st.ok()) {
    End(st);
    return;
  }
  struct stat file_stat {};
  if (stat(path_.c_str(), &file_stat) != 0 || !S_ISREG(file_stat.st_mode)) {
    End(Status(ErrorCode::kFileIo, path_ + " is not a readable file"));
    return;
  }
  const uint64_t size = static_cast<uint64_t>(file_stat.st_size);
  {
    std::lock_guard lock(mutex_);
    size_ = size;
  }
  auto sha = Sha256OfFile(path_);
  if (!sha.ok()) {
    End(sha.error());
    return;
  }
  wire::Envelope offer;
  offer.mutable_file_offer()->set_transfer_id(id_);
  offer.mutable_file_offer()->set_name(name);
  offer.mutable_file_offer()->set_size(size);
  offer.mutable_file_offer()->set_sha256(std::string(sha->begin(), sha->end()));
  if (!send_(offer, SendPriority::kControl)) {
    End(Status(ErrorCode::kConnectionClosed, "the session ended before the file was offered"));
    return;
  }
  uint64_t position = 0;
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return answer_.has_value() || outcome_.has_value(); });
    if (outcome_)
      return;
    if (!answer_->accepted()) {
      lock.unlock();
      End(StatusFromWire(answer_->error_code()
                             ? answer_->error_code()
                             : static_cast<uint32_t>(ErrorCode::kFileTransferRefused),
                         answer_->message()));
      return;
    }
    position = std::min(answer_->offset(), size);
    resumed_from_ = position;
    acknowledged_ = position;
  }
  const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || lseek(fd, static_cast<off_t>(position), SEEK_SET) < 0) {
    if (fd >= 0)
      close(fd);
    End(Status(ErrorCode::kFileIo, "cannot read " + path_));
    return;
  }
  std::vector<uint8_t> buffer(kMaxFileChunkDataBytes);
  while (position < size) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return outcome_ || position - acknowledged_ < kFileWindowBytes; });
      if (outcome_)
        break;
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - position));
    const ssize_t n = read(fd, buffer.data(), want);
    if (n <= 0) {
      End(Status(ErrorCode::kFileIo, path_ + " changed or could not be read while sending"));
      break;
    }
    wire::Envelope chunk;
    chunk.mutable_file_chunk()->set_transfer_id(id_);
    chunk.mutable_file_chunk()->set_offset(position);
    chunk.mutable_file_chunk()->set_data(buffer.data(), static_cast<size_t>(n));
    // Low priority: input and control messages overtake file data.
    if (!send_(chunk, SendPriority::kVideo)) {
      End(Status(ErrorCode::kConnectionClosed, "the session ended during the transfer"));
      break;
    }
    position += static_cast<uint64_t>(n);
    std::lock_guard lock(mutex_);
    bytes_sent_ += static_cast<uint64_t>(n);
  }
  close(fd);
  // The receiver's FileResult (or the session's end) completes the outcome.
}

std::unique_ptr<IncomingFiles> MakeIncomingFiles(const std::string& receive_dir,
                                                 const char* side,
                                                 SendFunction send) {
  std::unique_ptr<ReceiveFolder> folder;
  if (!receive_dir.empty()) {
    auto opened = ReceiveFolder::Open(receive_dir);
    if (opened.ok())
      folder = std::move(opened).value();
    else
      log::Warning("{}: incoming files will be declined: {}", side, opened.error().ToString());
  }
  auto files = std::make_unique<IncomingFiles>(std::move(folder), std::move(send));
  files->on_progress = [](const std::string& name, uint64_t done, uint64_t size) {
    log::Info("files: receiving {}: {}%", name, size ? done * 100 / size : 100);
  };
  files->on_finished = [](const std::string& name, const Status& result) {
    if (result.ok())
      log::Info("files: received {} (SHA-256 verified)", name);
    else
      log::Warning("files: {} not received: {}", name, result.ToString());
  };
  return files;
}

Status RouteToOutgoingFile(OutgoingFile* file, const wire::Envelope& message) {
  return file ? file->HandleMessage(message)
              : Status(ErrorCode::kUnexpectedMessage, "file transfer message without a transfer");
}

}  // namespace lifeline
