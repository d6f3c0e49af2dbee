// Test doubles for the Transport seam: a connected in-process pair, and a decorator that
// injects partial transfers and failures. Linked only by tests (lifeline_net_testing).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

#include "net/transport.h"

namespace lifeline {

struct TransportPairOptions {
  // SO_SNDBUF and SO_RCVBUF for both sockets; 0 keeps the system default (~200 KiB).
  // Small buffers make back-pressure tests fast.
  int socket_buffer_bytes = 0;
};

// Two connected transports (socketpair(AF_UNIX, SOCK_STREAM)), non-blocking. Each one's
// PeerDescription() names the other end: the first ("A") says "test peer B", the second
// says "test peer A". Aborts the program if socketpair() fails.
std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>> CreateTransportPair(
    const TransportPairOptions& options = {});

struct FaultOptions {
  size_t max_write_bytes = 0;  // Per Write() call; 0: no limit. Forces partial writes.
  size_t max_read_bytes = 0;   // Per Read() call; 0: no limit.
  // After this many bytes have been written in total, Write() fails with kNetworkIo.
  std::optional<size_t> fail_writes_after_bytes;
  // After this many bytes have been read in total, Read() fails with kNetworkIo.
  std::optional<size_t> fail_reads_after_bytes;
};

// Wraps a transport and misbehaves as configured. Same threading as Transport; the
// counters may be read from any thread.
class FaultyTransport final : public Transport {
 public:
  FaultyTransport(std::unique_ptr<Transport> inner, FaultOptions options);

  IoResult Read(std::span<uint8_t> buffer) override;
  IoResult Write(std::span<const uint8_t> data) override;
  int fd() const override { return inner_->fd(); }
  short PollEvents(bool want_write) const override { return inner_->PollEvents(want_write); }
  void Shutdown() override { inner_->Shutdown(); }
  std::string PeerDescription() const override { return inner_->PeerDescription(); }

  size_t bytes_written() const { return bytes_written_.load(); }
  size_t bytes_read() const { return bytes_read_.load(); }
  size_t write_calls() const { return write_calls_.load(); }

 private:
  const std::unique_ptr<Transport> inner_;
  const FaultOptions options_;
  std::atomic<size_t> bytes_written_{0};
  std::atomic<size_t> bytes_read_{0};
  std::atomic<size_t> write_calls_{0};
};

}  // namespace lifeline
