// Helpers for the net tests: a blocking "raw peer" that speaks bytes over a Transport, a
// recording MessageChannel::Delegate, and message builders. All waits have generous
// limits (seconds) and return false instead of hanging.
#pragma once

#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/time.h"
#include "net/framing.h"
#include "net/message_channel.h"
#include "net/transport.h"

namespace lifeline::test {

inline constexpr int kWaitMs = 10'000;  // Generous: CI machines are slow and loaded.

inline wire::Envelope MakePing(uint64_t id, int64_t time_us = 0) {
  wire::Envelope envelope;
  envelope.mutable_ping()->set_id(id);
  envelope.mutable_ping()->set_sender_time_us(time_us);
  return envelope;
}

inline wire::Envelope MakeHello(uint32_t min_version,
                                uint32_t max_version,
                                const std::string& app_version = "test") {
  wire::Envelope envelope;
  envelope.mutable_hello()->set_protocol_version(max_version);
  envelope.mutable_hello()->set_min_protocol_version(min_version);
  envelope.mutable_hello()->set_app_version(app_version);
  return envelope;
}

inline std::vector<uint8_t> Encode(const wire::Envelope& envelope) {
  auto encoded = EncodeEnvelope(envelope);
  return encoded.ok() ? std::move(encoded).value() : std::vector<uint8_t>{};
}

// Milliseconds left until `deadline_us`, at least 0.
inline int MsUntil(int64_t deadline_us) {
  const int64_t left = deadline_us - MonotonicNowUs();
  return left <= 0 ? 0 : static_cast<int>((left + 999) / 1000);
}

// Drives one end of a connection by hand, blocking with time limits.
class RawPeer {
 public:
  explicit RawPeer(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}

  Transport& transport() { return *transport_; }

  // Writes all of `data`; false on error or after `timeout_ms`.
  bool WriteAll(std::span<const uint8_t> data, int timeout_ms = kWaitMs) {
    const int64_t deadline = MonotonicNowUs() + int64_t{timeout_ms} * 1000;
    while (!data.empty()) {
      IoResult result = transport_->Write(data);
      if (result.status == IoStatus::kOk) {
        data = data.subspan(result.bytes);
        continue;
      }
      if (result.status != IoStatus::kWouldBlock)
        return false;
      if (MsUntil(deadline) == 0)
        return false;
      pollfd fd{transport_->fd(), POLLOUT, 0};
      poll(&fd, 1, MsUntil(deadline));
    }
    return true;
  }

  bool Send(const wire::Envelope& envelope) { return WriteAll(Encode(envelope)); }

  // The next complete message, or nullopt on timeout, end of stream or a framing error.
  std::optional<wire::Envelope> ReadMessage(int timeout_ms = kWaitMs) {
    const int64_t deadline = MonotonicNowUs() + int64_t{timeout_ms} * 1000;
    wire::Envelope message;
    while (true) {
      std::span<const uint8_t> input(pending_.data() + pending_offset_,
                                     pending_.size() - pending_offset_);
      const size_t before = input.size();
      const FrameReader::Result result = reader_.Read(&input, &message);
      pending_offset_ += before - input.size();
      if (result == FrameReader::Result::kMessage)
        return message;
      if (result == FrameReader::Result::kError)
        return std::nullopt;
      pending_.clear();
      pending_offset_ = 0;
      if (!Fill(deadline))
        return std::nullopt;
    }
  }

  // Reads and drops everything until end of stream (or an error). False on timeout.
  bool WaitForEnd(int timeout_ms = kWaitMs) {
    const int64_t deadline = MonotonicNowUs() + int64_t{timeout_ms} * 1000;
    while (!ended_) {
      if (!Fill(deadline) && !ended_)
        return false;
    }
    return true;
  }

  bool ended() const { return ended_; }
  const FrameReader& reader() const { return reader_; }

 private:
  // Appends whatever arrives to pending_. False on timeout or end of stream.
  bool Fill(int64_t deadline_us) {
    uint8_t buffer[64 * 1024];
    while (true) {
      IoResult result = transport_->Read(buffer);
      if (result.status == IoStatus::kOk) {
        pending_.insert(pending_.end(), buffer, buffer + result.bytes);
        return true;
      }
      if (result.status != IoStatus::kWouldBlock) {
        ended_ = true;
        return false;
      }
      if (MsUntil(deadline_us) == 0)
        return false;
      pollfd fd{transport_->fd(), POLLIN, 0};
      poll(&fd, 1, MsUntil(deadline_us));
    }
  }

  std::unique_ptr<Transport> transport_;
  FrameReader reader_;
  std::vector<uint8_t> pending_;
  size_t pending_offset_ = 0;
  bool ended_ = false;
};

// Records every callback; waits with time limits. Thread-safe.
class RecordingDelegate : public MessageChannel::Delegate {
 public:
  // Optional hook, run on the network thread for each OnMessage (after recording).
  std::function<void(const wire::Envelope&)> on_message;

  void OnConnected(const wire::Hello& peer_hello) override {
    std::lock_guard lock(mutex_);
    peer_hello_ = peer_hello;
    ++connected_count_;
    cv_.notify_all();
  }
  void OnMessage(const wire::Envelope& message) override {
    {
      std::lock_guard lock(mutex_);
      messages_.push_back(message);
      cv_.notify_all();
    }
    if (on_message)
      on_message(message);
  }
  void OnClosed(const Error& reason) override {
    std::lock_guard lock(mutex_);
    closed_reasons_.push_back(reason);
    cv_.notify_all();
  }

  bool WaitConnected(int timeout_ms = kWaitMs) {
    return WaitFor([&] { return connected_count_ > 0; }, timeout_ms);
  }
  bool WaitMessages(size_t count, int timeout_ms = kWaitMs) {
    return WaitFor([&] { return messages_.size() >= count; }, timeout_ms);
  }
  bool WaitClosed(int timeout_ms = kWaitMs) {
    return WaitFor([&] { return !closed_reasons_.empty(); }, timeout_ms);
  }

  int connected_count() const {
    std::lock_guard lock(mutex_);
    return connected_count_;
  }
  std::optional<wire::Hello> peer_hello() const {
    std::lock_guard lock(mutex_);
    return peer_hello_;
  }
  std::vector<wire::Envelope> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  size_t closed_count() const {
    std::lock_guard lock(mutex_);
    return closed_reasons_.size();
  }
  // The first OnClosed reason (a default Error if none yet).
  Error closed_reason() const {
    std::lock_guard lock(mutex_);
    return closed_reasons_.empty() ? Error{} : closed_reasons_.front();
  }

 private:
  template <typename Predicate>
  bool WaitFor(Predicate predicate, int timeout_ms) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), predicate);
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  int connected_count_ = 0;
  std::optional<wire::Hello> peer_hello_;
  std::vector<wire::Envelope> messages_;
  std::vector<Error> closed_reasons_;
};

}  // namespace lifeline::test
