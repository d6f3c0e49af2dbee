#include "net/tcp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "base/log.h"
#include "base/time.h"
#include "net/posix_util.h"
#include "net/scoped_fd.h"

namespace lifeline {
namespace {

using net_internal::ErrnoText;
using net_internal::Printable;

// How often a connect in progress checks its cancel flag.
constexpr int kCancelCheckSliceMs = 50;
constexpr size_t kMaxHostNameBytes = 253;

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool IsValidHostName(std::string_view host) {
  return !host.empty() && host.size() <= kMaxHostNameBytes &&
         std::all_of(host.begin(), host.end(), IsHostNameChar);
}

// An IPv6 literal, optionally with a zone ("fe80::1%eth0").
bool IsIpv6Literal(std::string_view text) {
  std::string_view address = text;
  const size_t percent = text.find('%');
  if (percent != std::string_view::npos) {
    address = text.substr(0, percent);
    if (!IsValidHostName(text.substr(percent + 1)))
      return false;
  }
  // Only hex digits, ':' and '.' (an embedded NUL would end the C string early and let
  // "::cc\0junk" pass as "::cc").
  for (char c : address) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
      return false;
  }
  const std::string copy(address);
  in6_addr parsed{};
  return inet_pton(AF_INET6, copy.c_str(), &parsed) == 1;
}

// "127.0.0.1:5000" / "[::1]:5000" for a socket address; "unknown" when not IP.
std::string SockaddrToString(const sockaddr* address, socklen_t length) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (address->sa_family != AF_INET && address->sa_family != AF_INET6)
    return "unknown";
  if (getnameinfo(address, length, host, sizeof(host), service, sizeof(service),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "unknown";
  }
  HostPort host_port;
  host_port.host = host;
  host_port.port = static_cast<uint16_t>(std::strtoul(service, nullptr, 10));
  return host_port.ToString();
}

void SetNoDelay(int fd) {
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    log::Warning("could not set TCP_NODELAY: {}", ErrnoText(errno));
  }
}

// A connected stream socket (TCP or, in tests, AF_UNIX).
class SocketTransport final : public Transport {
 public:
  SocketTransport(ScopedFd fd, std::string peer_description)
      : fd_(std::move(fd)), peer_description_(std::move(peer_description)) {}

  // An empty `buffer` reads nothing and returns kOk with 0 bytes.
  IoResult Read(std::span<uint8_t> buffer) override {
    if (shut_down_)
      return ShutDownResult();
    if (buffer.empty())
      return IoResult{IoStatus::kOk, 0, {}};
    while (true) {
      const ssize_t n = recv(fd_.get(), buffer.data(), buffer.size(), 0);
      if (n > 0)
        return IoResult{IoStatus::kOk, static_cast<size_t>(n), {}};
      if (n == 0)
        return IoResult{IoStatus::kClosed, 0, {}};
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return IoResult{IoStatus::kWouldBlock, 0, {}};
      return IoResult{IoStatus::kError, 0, IoError("reading from", errno)};
    }
  }

  // An empty `data` writes nothing and returns kOk with 0 bytes.
  IoResult Write(std::span<const uint8_t> data) override {
    if (shut_down_)
      return ShutDownResult();
    if (data.empty())
      return IoResult{IoStatus::kOk, 0, {}};
    while (true) {
      const ssize_t n = send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0)
        return IoResult{IoStatus::kOk, static_cast<size_t>(n), {}};
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return IoResult{IoStatus::kWouldBlock, 0, {}};
      return IoResult{IoStatus::kError, 0, IoError("writing to", errno)};
    }
  }

  int fd() const override { return fd_.get(); }

  // The descriptor stays open (and pollable) until destruction.
  void Shutdown() override {
    if (!shut_down_.exchange(true))
      shutdown(fd_.get(), SHUT_RDWR);
  }

  std::string PeerDescription() const override { return peer_description_; }

 private:
  Error IoError(std::string_view verb, int error_number) const {
    switch (error_number) {
      case ECONNRESET:
        return Error{ErrorCode::kNetworkIo,
                     fmt::format("connection reset by {}", peer_description_)};
      case EPIPE:
        return Error{ErrorCode::kNetworkIo,
                     fmt::format("connection to {} is broken (peer closed it)", peer_description_)};
      default:
        return Error{ErrorCode::kNetworkIo, fmt::format("{} {} failed: {}", verb, peer_description_,
                                                        ErrnoText(error_number))};
    }
  }

  IoResult ShutDownResult() const {
    return IoResult{
        IoStatus::kError, 0,
        Error{ErrorCode::kConnectionClosed,
              fmt::format("connection to {} was shut down locally", peer_description_)}};
  }

  ScopedFd fd_;
  const std::string peer_description_;
  std::atomic<bool> shut_down_{false};
};

Error ConnectError(int error_number, const std::string& label) {
  switch (error_number) {
    case ECONNREFUSED:
      return Error{ErrorCode::kConnectionRefused,
                   fmt::format("connection refused by {}: nothing listens there", label)};
    case ETIMEDOUT:
      return Error{ErrorCode::kConnectionTimedOut,
                   fmt::format("connecting to {} timed out", label)};
    default:
      return Error{ErrorCode::kNetworkIo,
                   fmt::format("cannot connect to {}: {}", label, ErrnoText(error_number))};
  }
}

// Milliseconds left until `deadline_us`, rounded up, at least 0.
int RemainingMs(int64_t deadline_us) {
  const int64_t remaining_us = deadline_us - MonotonicNowUs();
  if (remaining_us <= 0)
    return 0;
  return static_cast<int>(std::min<int64_t>((remaining_us + 999) / 1000, 1 << 30));
}

Expected<std::unique_ptr<Transport>> ConnectOne(const addrinfo& info,
                                                const std::string& name,
                                                int timeout_ms,
                                                int64_t deadline_us,
                                                const std::atomic<bool>* cancel) {
  const std::string peer = SockaddrToString(info.ai_addr, info.ai_addrlen);
  const std::string label = peer == name ? name : fmt::format("{} ({})", name, peer);
  ScopedFd fd(
      socket(info.ai_family, info.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, info.ai_protocol));
  if (!fd.valid()) {
    return Error{ErrorCode::kNetworkIo, fmt::format("cannot create a socket to connect to {}: {}",
                                                    label, ErrnoText(errno))};
  }
  if (connect(fd.get(), info.ai_addr, info.ai_addrlen) != 0) {
    // EINTR: the connection still proceeds asynchronously, as with EINPROGRESS.
    if (errno != EINPROGRESS && errno != EINTR)
      return ConnectError(errno, label);
    while (true) {
      if (cancel != nullptr && cancel->load()) {
        return Error{ErrorCode::kCancelled, fmt::format("connecting to {} was cancelled", label)};
      }
      int wait_ms = kCancelCheckSliceMs;
      if (timeout_ms >= 0) {
        const int remaining_ms = RemainingMs(deadline_us);
        if (remaining_ms == 0) {
          return Error{ErrorCode::kConnectionTimedOut,
                       fmt::format("no answer from {} within {} ms", label, timeout_ms)};
        }
        wait_ms = std::min(wait_ms, remaining_ms);
      }
      pollfd poll_fd{fd.get(), POLLOUT, 0};
      const int n = poll(&poll_fd, 1, wait_ms);
      if (n < 0 && errno != EINTR) {
        return Error{ErrorCode::kNetworkIo,
                     fmt::format("waiting to connect to {} failed: {}", label, ErrnoText(errno))};
      }
      if (n > 0)
        break;
    }
    int socket_error = 0;
    socklen_t length = sizeof(socket_error);
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &socket_error, &length) != 0) {
      socket_error = errno;
    }
    if (socket_error != 0)
      return ConnectError(socket_error, label);
  }
  SetNoDelay(fd.get());
  return std::unique_ptr<Transport>(std::make_unique<SocketTransport>(std::move(fd), peer));
}

}  // namespace

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos)
    return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

namespace {

Expected<HostPort> ParseAddress(std::string_view text,
                                uint16_t default_port,
                                bool allow_port_zero) {
  auto invalid = [&](std::string_view why) {
    return Error{ErrorCode::kAddressInvalid,
                 fmt::format("invalid address \"{}\": {}", Printable(text), why)};
  };
  if (text.empty())
    return invalid("empty; expected HOST:PORT");

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos)
      return invalid("missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return invalid("expected \":PORT\" after ']'");
      port_text = rest.substr(1);
      has_port = true;
    }
    if (!IsIpv6Literal(host))
      return invalid("not an IPv6 address inside the brackets");
  } else {
    const size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      // Several colons: a bare IPv6 literal, which cannot carry a port.
      if (!IsIpv6Literal(text))
        return invalid("not a valid host name or IPv6 address");
      if (default_port == 0)
        return invalid("missing port; write IPv6 addresses as [ADDRESS]:PORT");
      host = text;
    } else {
      if (colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        has_port = true;
      } else {
        host = text;
      }
      if (host.empty())
        return invalid("missing host before ':'");
      if (!IsValidHostName(host))
        return invalid("the host is not a valid name or address");
    }
  }

  uint16_t port = default_port;
  if (has_port) {
    if (port_text.empty())
      return invalid("missing port after ':'");
    uint32_t value = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || value > 65535)
        return invalid("the port must be a number in 1..65535");
      value = value * 10 + static_cast<uint32_t>(c - '0');
    }
    if ((value < 1 && !allow_port_zero) || value > 65535)
      return invalid(allow_port_zero ? "the port must be a number in 0..65535"
                                     : "the port must be a number in 1..65535");
    port = static_cast<uint16_t>(value);
  } else if (default_port == 0) {
    return invalid("missing port; expected HOST:PORT");
  }
  return HostPort{std::string(host), port};
}

}  // namespace

Expected<HostPort> ParseHostPort(std::string_view text, uint16_t default_port) {
  return ParseAddress(text, default_port, /*allow_port_zero=*/false);
}

Expected<HostPort> ParseListenAddress(std::string_view text) {
  return ParseAddress(text, 0, /*allow_port_zero=*/true);
}

Expected<std::unique_ptr<Transport>> ConnectTcp(const HostPort& address,
                                                int timeout_ms,
                                                const std::atomic<bool>* cancel) {
  const std::string name = address.ToString();
  if (cancel != nullptr && cancel->load()) {
    return Error{ErrorCode::kCancelled, fmt::format("connecting to {} was cancelled", name)};
  }
  if (address.host.empty() || address.port == 0) {
    return Error{ErrorCode::kAddressInvalid,
                 fmt::format("cannot connect to \"{}\": host and port are required", name)};
  }
  const int64_t deadline_us = MonotonicNowUs() + int64_t{std::max(timeout_ms, 0)} * 1000;

  // Name resolution blocks and cannot be cancelled; numeric addresses return at once.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port_text = std::to_string(address.port);
  const int rc = getaddrinfo(address.host.c_str(), port_text.c_str(), &hints, &list);
  if (rc != 0) {
    const std::string reason = rc == EAI_SYSTEM ? ErrnoText(errno) : gai_strerror(rc);
    return Error{ErrorCode::kAddressInvalid,
                 fmt::format("cannot resolve \"{}\": {}", Printable(address.host), reason)};
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned_list(list, &freeaddrinfo);

  Error last_error{ErrorCode::kAddressInvalid, fmt::format("\"{}\" has no address", name)};
  for (const addrinfo* info = list; info != nullptr; info = info->ai_next) {
    auto transport = ConnectOne(*info, name, timeout_ms, deadline_us, cancel);
    if (transport.ok())
      return transport;
    last_error = transport.error();
    // The time limit and cancellation cover all addresses together.
    if (last_error.code == ErrorCode::kCancelled)
      break;
    if (last_error.code == ErrorCode::kConnectionTimedOut && timeout_ms >= 0 &&
        RemainingMs(deadline_us) == 0) {
      break;
    }
  }
  return last_error;
}

// static
Expected<std::unique_ptr<TcpListener>> TcpListener::Listen(const HostPort& address) {
  const std::string name = address.ToString();
  auto failed = [&](const std::string& why) {
    return Error{ErrorCode::kListenFailed, fmt::format("cannot listen on {}: {}", name, why)};
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port_text = std::to_string(address.port);
  const int rc = getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(),
                             port_text.c_str(), &hints, &list);
  if (rc != 0) {
    return failed(fmt::format("cannot resolve the host: {}",
                              rc == EAI_SYSTEM ? ErrnoText(errno) : gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned_list(list, &freeaddrinfo);

  std::string last_reason = "no address";
  for (const addrinfo* info = list; info != nullptr; info = info->ai_next) {
    ScopedFd fd(socket(info->ai_family, info->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       info->ai_protocol));
    if (!fd.valid()) {
      last_reason = fmt::format("socket: {}", ErrnoText(errno));
      continue;
    }
    const int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd.get(), info->ai_addr, info->ai_addrlen) != 0) {
      last_reason = ErrnoText(errno);
      continue;
    }
    if (listen(fd.get(), SOMAXCONN) != 0) {
      last_reason = fmt::format("listen: {}", ErrnoText(errno));
      continue;
    }
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof(bound);
    if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
      last_reason = fmt::format("getsockname: {}", ErrnoText(errno));
      continue;
    }
    char host[NI_MAXHOST];
    char service[NI_MAXSERV];
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&bound), bound_length, host, sizeof(host),
                    service, sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
      last_reason = "cannot read the bound address";
      continue;
    }
    int wake[2];
    if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0)
      return failed(fmt::format("pipe: {}", ErrnoText(errno)));
    HostPort local;
    local.host = host;
    local.port = static_cast<uint16_t>(std::strtoul(service, nullptr, 10));
    return std::unique_ptr<TcpListener>(new TcpListener(fd.release(), wake[0], wake[1], local));
  }
  return failed(last_reason);
}

TcpListener::TcpListener(int fd, int wake_read_fd, int wake_write_fd, HostPort local)
    : fd_(fd),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd),
      local_address_(std::move(local)) {}

TcpListener::~TcpListener() {
  Close();
  ::close(fd_);
  ::close(wake_read_fd_);
  ::close(wake_write_fd_);
}

Expected<std::unique_ptr<Transport>> TcpListener::Accept(int timeout_ms) {
  const std::string name = local_address_.ToString();
  auto cancelled = [&] {
    return Error{ErrorCode::kCancelled, fmt::format("listener on {} was closed", name)};
  };
  const int64_t deadline_us = MonotonicNowUs() + int64_t{std::max(timeout_ms, 0)} * 1000;
  while (true) {
    if (closed_.load())
      return cancelled();
    const int wait_ms = timeout_ms < 0 ? -1 : RemainingMs(deadline_us);
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
    const int n = poll(fds, 2, wait_ms);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error{ErrorCode::kNetworkIo,
                   fmt::format("waiting for connections on {} failed: {}", name, ErrnoText(errno))};
    }
    if (closed_.load() || fds[1].revents != 0)
      return cancelled();
    if (n == 0) {
      if (timeout_ms >= 0 && RemainingMs(deadline_us) == 0) {
        return Error{ErrorCode::kConnectionTimedOut,
                     fmt::format("nobody connected to {} within {} ms", name, timeout_ms)};
      }
      continue;
    }
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof(peer);
    const int client = accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &peer_length,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) {
      switch (errno) {
        // The connection went away before we took it, or a signal: wait for the next.
        case EAGAIN:
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
        case ENETDOWN:
        case ENOPROTOOPT:
        case EHOSTDOWN:
        case ENONET:
        case EHOSTUNREACH:
        case ENETUNREACH:
          continue;
        case EINVAL:  // Shut down by Close().
          if (closed_.load())
            return cancelled();
          [[fallthrough]];
        default:
          return Error{ErrorCode::kNetworkIo, fmt::format("accepting a connection on {} failed: {}",
                                                          name, ErrnoText(errno))};
      }
    }
    SetNoDelay(client);
    const std::string peer_name =
        SockaddrToString(reinterpret_cast<const sockaddr*>(&peer), peer_length);
    return std::unique_ptr<Transport>(
        std::make_unique<SocketTransport>(ScopedFd(client), peer_name));
  }
}

void TcpListener::Close() {
  if (closed_.exchange(true))
    return;
  // Stops listening at once (new connections are refused) while the descriptor stays valid
  // for a concurrent poll(); the wake byte ends that poll.
  shutdown(fd_, SHUT_RDWR);
  const char byte = 1;
  [[maybe_unused]] const ssize_t ignored = write(wake_write_fd_, &byte, 1);
}

std::unique_ptr<Transport> WrapConnectedSocket(int fd, std::string peer_description) {
  ScopedFd owned(fd);
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    log::Warning("could not make the socket to {} non-blocking: {}", peer_description,
                 ErrnoText(errno));
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  int domain = 0;
  socklen_t length = sizeof(domain);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 &&
      (domain == AF_INET || domain == AF_INET6)) {
    SetNoDelay(fd);
  }
  return std::make_unique<SocketTransport>(std::move(owned), std::move(peer_description));
}

}  // namespace lifeline
