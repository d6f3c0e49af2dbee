// Transport: a non-blocking, reliable byte stream (TCP now; TLS, proxy tunnels and the
// relay later wrap or replace it).
//
// Threading: after construction a transport is used by one thread at a time: the
// MessageChannel's network thread once the channel has started.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"

namespace lifeline {

enum class IoStatus {
  kOk,          // `bytes` were transferred (> 0).
  kWouldBlock,  // Nothing now; poll the fd for PollEvents() and try again.
  kClosed,      // Orderly end of stream from the peer.
  kError,       // The stream is broken; `error` says why.
};

struct IoResult {
  IoStatus status = IoStatus::kOk;
  size_t bytes = 0;
  Error error;
};

class Transport {
 public:
  virtual ~Transport() = default;  // Closes the stream.

  // Reads up to `buffer.size()` bytes without blocking.
  virtual IoResult Read(std::span<uint8_t> buffer) = 0;
  // Writes up to `data.size()` bytes without blocking; may write fewer.
  virtual IoResult Write(std::span<const uint8_t> data) = 0;

  // The descriptor to poll(), and the poll events to wait for, given whether the caller
  // has bytes waiting to be written.
  virtual int fd() const = 0;
  virtual short PollEvents(bool want_write) const;

  // True when Read() would return data without the fd becoming readable (a TLS layer
  // that decrypted more than was read). The poll loop then does not wait.
  virtual bool HasBufferedInput() const { return false; }

  // Shuts the stream down both ways; later reads and writes fail. Idempotent.
  virtual void Shutdown() = 0;

  // "127.0.0.1:5000", for logs and status text.
  virtual std::string PeerDescription() const = 0;
};

}  // namespace lifeline
