#include "net/testing/transport_pair.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "net/tcp.h"

namespace lifeline {

std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>> CreateTransportPair(
    const TransportPairOptions& options) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    std::fprintf(stderr, "CreateTransportPair: socketpair failed: %s\n", std::strerror(errno));
    std::abort();
  }
  if (options.socket_buffer_bytes > 0) {
    for (int fd : fds) {
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &options.socket_buffer_bytes,
                 sizeof(options.socket_buffer_bytes));
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.socket_buffer_bytes,
                 sizeof(options.socket_buffer_bytes));
    }
  }
  // Each end describes its peer: the first end talks to "test peer B" and vice versa.
  return {WrapConnectedSocket(fds[0], "test peer B"), WrapConnectedSocket(fds[1], "test peer A")};
}

FaultyTransport::FaultyTransport(std::unique_ptr<Transport> inner, FaultOptions options)
    : inner_(std::move(inner)), options_(options) {}

IoResult FaultyTransport::Read(std::span<uint8_t> buffer) {
  size_t limit = buffer.size();
  if (options_.max_read_bytes > 0)
    limit = std::min(limit, options_.max_read_bytes);
  if (options_.fail_reads_after_bytes) {
    const size_t done = bytes_read_.load();
    if (done >= *options_.fail_reads_after_bytes) {
      return IoResult{IoStatus::kError, 0,
                      Error{ErrorCode::kNetworkIo, "injected read failure (FaultyTransport)"}};
    }
    limit = std::min(limit, *options_.fail_reads_after_bytes - done);
  }
  IoResult result = inner_->Read(buffer.first(limit));
  if (result.status == IoStatus::kOk)
    bytes_read_ += result.bytes;
  return result;
}

IoResult FaultyTransport::Write(std::span<const uint8_t> data) {
  ++write_calls_;
  size_t limit = data.size();
  if (options_.max_write_bytes > 0)
    limit = std::min(limit, options_.max_write_bytes);
  if (options_.fail_writes_after_bytes) {
    const size_t done = bytes_written_.load();
    if (done >= *options_.fail_writes_after_bytes) {
      return IoResult{IoStatus::kError, 0,
                      Error{ErrorCode::kNetworkIo, "injected write failure (FaultyTransport)"}};
    }
    limit = std::min(limit, *options_.fail_writes_after_bytes - done);
  }
  IoResult result = inner_->Write(data.first(limit));
  if (result.status == IoStatus::kOk)
    bytes_written_ += result.bytes;
  return result;
}

}  // namespace lifeline
