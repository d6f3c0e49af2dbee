// Plain TCP: address parsing, connecting and listening.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/transport.h"

namespace lifeline {

struct HostPort {
  std::string host;  // Name or literal address, without brackets.
  uint16_t port = 0;
  std::string ToString() const;  // Brackets IPv6 literals: "[::1]:5000".
};

// Parses "host:port", "[v6]:port"; `default_port` is used when the port is missing
// (0: the port is required). Error kAddressInvalid naming the text otherwise.
Expected<HostPort> ParseHostPort(std::string_view text, uint16_t default_port = 0);

// Like ParseHostPort with the port required, but port 0 ("pick a free port") is allowed:
// for addresses to listen on.
Expected<HostPort> ParseListenAddress(std::string_view text);

// Connects within `timeout_ms`. Errors: kAddressInvalid (does not resolve),
// kConnectionRefused, kConnectionTimedOut, kNetworkIo, kCancelled (when `*cancel` became
// true). The returned transport is non-blocking with TCP_NODELAY set.
Expected<std::unique_ptr<Transport>> ConnectTcp(const HostPort& address,
                                                int timeout_ms,
                                                const std::atomic<bool>* cancel = nullptr);

// Threading: one owner thread; Close() may be called from any thread to wake Accept().
class TcpListener {
 public:
  // Binds and listens (port 0: a free port). Error kListenFailed with the reason.
  static Expected<std::unique_ptr<TcpListener>> Listen(const HostPort& address);
  ~TcpListener();

  // The bound address, with the real port.
  const HostPort& local_address() const { return local_address_; }

  // Waits up to `timeout_ms` (-1: forever) for a connection. Errors:
  // kConnectionTimedOut, kCancelled (after Close()), kNetworkIo.
  Expected<std::unique_ptr<Transport>> Accept(int timeout_ms);

  void Close();

 private:
  TcpListener(int fd, int wake_read_fd, int wake_write_fd, HostPort local);
  int fd_;
  int wake_read_fd_;
  int wake_write_fd_;
  HostPort local_address_;
  std::atomic<bool> closed_{false};
};

// Wraps an already connected stream socket (takes ownership of `fd`; sets it
// non-blocking).
std::unique_ptr<Transport> WrapConnectedSocket(int fd, std::string peer_description);

}  // namespace lifeline
