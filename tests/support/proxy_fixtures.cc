#include "tests/support/proxy_fixtures.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline::testing {
namespace {

constexpr int kIoTimeoutMs = 10'000;
constexpr int kStartTimeoutMs = 10'000;
constexpr size_t kMaxRequestHeadBytes = 16 * 1024;

// Reads exactly `size` bytes; false on end, error or timeout.
bool ReadExact(int fd, void* data, size_t size) {
  auto* out = static_cast<uint8_t*>(data);
  while (size > 0) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, kIoTimeoutMs) <= 0)
      return false;
    const ssize_t n = recv(fd, out, size, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    out += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool WriteAll(int fd, const void* data, size_t size) {
  const auto* in = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = send(fd, in, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    in += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool WriteString(int fd, const std::string& text) {
  return WriteAll(fd, text.data(), text.size());
}

// Reads an HTTP request head (up to the blank line). Empty on end, error or oversize.
std::string ReadRequestHead(int fd) {
  std::string head;
  char c = 0;
  while (head.size() < kMaxRequestHeadBytes) {
    if (!ReadExact(fd, &c, 1))
      return {};
    head += c;
    if (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0)
      return head;
  }
  return {};
}

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// The port of "CONNECT 127.0.0.1:PORT HTTP/1.1" when the target is loopback, else 0.
int LoopbackConnectPort(const std::string& head) {
  const std::string prefixes[] = {"CONNECT 127.0.0.1:", "CONNECT localhost:"};
  for (const auto& prefix : prefixes) {
    if (head.rfind(prefix, 0) == 0) {
      const int port = std::atoi(head.c_str() + prefix.size());
      return port > 0 && port < 65536 ? port : 0;
    }
  }
  return 0;
}

bool PortAccepts(int port) {
  const int fd = ConnectLoopback(port);
  if (fd < 0)
    return false;
  close(fd);
  return true;
}

// Waits until `port` accepts a connection while `process` runs. False if it exited or
// the time ran out.
bool WaitUntilListening(Subprocess& process, int port) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kStartTimeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process.running())
      return false;
    if (PortAccepts(port))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void KillAndWait(std::unique_ptr<Subprocess>& process) {
  if (!process)
    return;
  process->Signal(SIGKILL);
  process->Wait(kStartTimeoutMs);
  process.reset();
}

// Lets the unprivileged user a server drops to (squid: cache_effective_user `proxy`;
// dante here: `nobody`) read and write the fixture folder.
void OpenUpForServer(const TempDir& dir) {
  chmod(dir.path().c_str(), 0777);
}

std::string SquidConfig(const std::string& dir, int port, SquidAuth auth) {
  std::string conf = "http_port 127.0.0.1:" + std::to_string(port) + "\n";
  conf += "pid_filename " + dir + "/squid.pid\n";
  conf += "cache_log " + dir + "/cache.log\n";
  conf += "access_log stdio:" + dir + "/access.log\n";
  conf +=
      "cache_store_log none\n"
      "logfile_rotate 0\n"
      "coredump_dir " +
      dir +
      "\n"
      "cache deny all\n"
      "cache_mem 8 MB\n"
      "visible_hostname localhost\n"
      "dns_nameservers 127.0.0.1\n"
      "pinger_enable off\n"
      "shutdown_lifetime 0 seconds\n"
      "acl CONNECT method CONNECT\n"
      "acl tunnel_dst dst 127.0.0.1\n"
      "acl tunnel_ports port 1024-65535\n"
      "http_access deny CONNECT !tunnel_ports\n"
      "http_access deny CONNECT !tunnel_dst\n";
  switch (auth) {
    case SquidAuth::kNone:
      conf += "http_access allow CONNECT\nhttp_access deny all\n";
      return conf;
    case SquidAuth::kBasic:
      conf += "auth_param basic program /usr/lib/squid/basic_ncsa_auth " + dir +
              "/basic.passwd\n"
              "auth_param basic children 2 startup=1\n"
              "auth_param basic realm test\n";
      break;
    case SquidAuth::kDigest:
      conf += "auth_param digest program /usr/lib/squid/digest_file_auth -c " + dir +
              "/digest.passwd\n"
              "auth_param digest children 2 startup=1\n"
              "auth_param digest realm test\n";
      break;
    case SquidAuth::kNtlm:
      conf +=
          "auth_param ntlm program /usr/lib/squid/ntlm_fake_auth\n"
          "auth_param ntlm children 2 startup=1\n";
      break;
  }
  conf +=
      "acl authed proxy_auth REQUIRED\n"
      "http_access allow CONNECT authed\n"
      "http_access deny all\n";
  return conf;
}

void WritePasswordFiles(const TempDir& dir, SquidAuth auth) {
  if (auth == SquidAuth::kBasic) {
    const RunResult r = RunCommand(
        {"htpasswd", "-bc", dir.File("basic.passwd"), kProxyUser, kProxyPassword}, 10'000);
    if (r.exit_status != 0)
      throw std::runtime_error("htpasswd failed: " + r.output);
  } else if (auth == SquidAuth::kDigest) {
    const std::string script = std::string("printf '%s' '") + kProxyUser +
                               ":test:" + kProxyPassword + "' | md5sum | cut -d' ' -f1";
    const RunResult r = RunCommand({"sh", "-c", script}, 10'000);
    std::string ha1 = r.output;
    ha1.erase(std::remove(ha1.begin(), ha1.end(), '\n'), ha1.end());
    if (r.exit_status != 0 || ha1.size() != 32)
      throw std::runtime_error("md5sum failed: " + r.output);
    WriteStringToFile(dir.File("digest.passwd"), std::string(kProxyUser) + ":test:" + ha1 + "\n");
  }
  for (const char* name : {"basic.passwd", "digest.passwd"})
    chmod(dir.File(name).c_str(), 0644);
}

}  // namespace

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void SpliceSockets(int a, int b) {
  char buffer[16 * 1024];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0)
        continue;
      const ssize_t n = recv(fds[i].fd, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        // Pass the end on (half-close), then stop: TLS ends with close_notify anyway.
        shutdown(fds[1 - i].fd, SHUT_WR);
        return;
      }
      if (!WriteAll(fds[1 - i].fd, buffer, static_cast<size_t>(n)))
        return;
    }
  }
}

// --- LoopbackServer --------------------------------------------------------------------

LoopbackServer::LoopbackServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    const std::string reason = std::strerror(errno);
    if (listen_fd_ >= 0)
      close(listen_fd_);
    throw std::runtime_error("loopback server cannot listen: " + reason);
  }
  port_ = ntohs(address.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

LoopbackServer::~LoopbackServer() {
  Stop();
}

void LoopbackServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    if (fds[1].revents != 0 || stopping_.load())
      return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    std::lock_guard lock(mutex_);
    if (stopping_.load()) {
      close(fd);
      return;
    }
    connection_count_.fetch_add(1);
    connection_fds_.push_back(fd);
    connection_threads_.emplace_back([this, fd] {
      handler_(fd);
      std::lock_guard inner_lock(mutex_);
      connection_fds_.erase(std::find(connection_fds_.begin(), connection_fds_.end(), fd));
      close(fd);
    });
  }
}

void LoopbackServer::Stop() {
  if (stopping_.exchange(true))
    return;
  const char byte = 1;
  (void)!write(wake_pipe_[1], &byte, 1);
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (int fd : connection_fds_)
      shutdown(fd, SHUT_RDWR);
    threads.swap(connection_threads_);
  }
  for (auto& thread : threads)
    thread.join();
  close(listen_fd_);
  close(wake_pipe_[0]);
  close(wake_pipe_[1]);
}

// --- EchoServer ------------------------------------------------------------------------

EchoServer::EchoServer()
    : server_([](int fd) {
        char buffer[16 * 1024];
        while (true) {
          const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
          if (n <= 0 || !WriteAll(fd, buffer, static_cast<size_t>(n)))
            return;
        }
      }) {}

// --- SquidProxy ------------------------------------------------------------------------

SquidProxy::SquidProxy(SquidAuth auth) {
  // A port taken between FreeLoopbackPort() and squid's bind makes squid exit at once
  // ("Address already in use"): try a few ports.
  std::string last_log;
  for (int attempt = 0; attempt < 3; ++attempt) {
    dir_ = std::make_unique<TempDir>();
    OpenUpForServer(*dir_);
    port_ = FreeLoopbackPort();
    WritePasswordFiles(*dir_, auth);
    WriteStringToFile(dir_->File("squid.conf"), SquidConfig(dir_->path(), port_, auth));
    Subprocess::Options options;
    options.argv = {"squid", "-N", "-f", dir_->File("squid.conf")};
    options.stdout_path = dir_->File("stdout.log");
    options.stderr_path = dir_->File("stderr.log");
    process_ = std::make_unique<Subprocess>(options);
    if (WaitUntilListening(*process_, port_))
      return;
    KillAndWait(process_);
    last_log =
        ReadFileToString(dir_->File("cache.log")) + ReadFileToString(dir_->File("stderr.log"));
  }
  throw std::runtime_error("squid did not start: " + last_log);
}

SquidProxy::~SquidProxy() {
  KillAndWait(process_);
}

pid_t SquidProxy::pid() const {
  return process_ ? process_->pid() : -1;
}

std::string SquidProxy::AccessLog() const {
  return ReadFileToString(dir_->File("access.log"));
}

bool SquidProxy::WaitForAccessLog(const std::string& text, int timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (AccessLog().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// --- DanteProxy ------------------------------------------------------------------------

DanteProxy::DanteProxy() {
  std::string last_log;
  for (int attempt = 0; attempt < 3; ++attempt) {
    dir_ = std::make_unique<TempDir>();
    OpenUpForServer(*dir_);
    port_ = FreeLoopbackPort();
    WriteStringToFile(dir_->File("danted.conf"),
                      "logoutput: stderr\n"
                      "internal: 127.0.0.1 port = " +
                          std::to_string(port_) +
                          "\n"
                          "external: 127.0.0.1\n"
                          "clientmethod: none\n"
                          "socksmethod: none\n"
                          "client pass {\n  from: 127.0.0.1/32 to: 0.0.0.0/0\n}\n"
                          "socks pass {\n  from: 127.0.0.1/32 to: 127.0.0.1/32\n"
                          "  command: connect\n  protocol: tcp\n}\n"
                          "socks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n  log: error\n}\n");
    chmod(dir_->File("danted.conf").c_str(), 0644);
    Subprocess::Options options;
    // setpriv execs danted (no extra process), so the PID we hold is dante's mother process.
    if (geteuid() == 0) {
      options.argv = {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"};
    }
    for (const std::string& arg :
         {std::string("danted"), std::string("-f"), dir_->File("danted.conf"), std::string("-p"),
          dir_->File("danted.pid")}) {
      options.argv.push_back(arg);
    }
    options.stdout_path = dir_->File("stdout.log");
    options.stderr_path = dir_->File("stderr.log");
    process_ = std::make_unique<Subprocess>(options);
    if (WaitUntilListening(*process_, port_))
      return;
    KillAndWait(process_);
    last_log = ReadFileToString(dir_->File("stderr.log"));
  }
  throw std::runtime_error("danted did not start: " + last_log);
}

DanteProxy::~DanteProxy() {
  // SIGTERM to the mother process stops its ~20 children within ~25 ms (SIGKILL would
  // leave them behind).
  if (process_)
    process_->Stop(3000);
}

pid_t DanteProxy::pid() const {
  return process_ ? process_->pid() : -1;
}

// --- Socks5Server ----------------------------------------------------------------------

Socks5Server::Socks5Server(std::string user, std::string password)
    : user_(std::move(user)),
      password_(std::move(password)),
      server_([this](int fd) { Serve(fd); }) {}

void Socks5Server::Serve(int fd) {
  uint8_t header[2];
  if (!ReadExact(fd, header, 2) || header[0] != 5 || header[1] == 0)
    return;
  uint8_t methods[255];
  if (!ReadExact(fd, methods, header[1]))
    return;
  const uint8_t wanted = user_.empty() ? 0x00 : 0x02;
  if (std::find(methods, methods + header[1], wanted) == methods + header[1]) {
    const uint8_t refuse[2] = {5, 0xff};
    WriteAll(fd, refuse, 2);
    return;
  }
  const uint8_t chosen[2] = {5, wanted};
  if (!WriteAll(fd, chosen, 2))
    return;
  if (wanted == 0x02) {  // RFC 1929: VER ULEN UNAME PLEN PASSWD.
    uint8_t version_and_length[2];
    if (!ReadExact(fd, version_and_length, 2) || version_and_length[0] != 1)
      return;
    std::string user(version_and_length[1], '\0');
    uint8_t password_length = 0;
    if (!ReadExact(fd, user.data(), user.size()) || !ReadExact(fd, &password_length, 1))
      return;
    std::string password(password_length, '\0');
    if (!ReadExact(fd, password.data(), password.size()))
      return;
    const bool ok = user == user_ && password == password_;
    if (!ok)
      failed_logins_.fetch_add(1);  // Before the reply, so a client that saw it sees this.
    const uint8_t reply[2] = {1, static_cast<uint8_t>(ok ? 0 : 1)};
    if (!WriteAll(fd, reply, 2) || !ok)
      return;
  }
  // Request: VER CMD RSV ATYP DST.ADDR DST.PORT.
  uint8_t request[4];
  if (!ReadExact(fd, request, 4) || request[0] != 5)
    return;
  bool loopback = false;
  if (request[3] == 1) {
    uint8_t ip[4];
    if (!ReadExact(fd, ip, 4))
      return;
    loopback = ip[0] == 127 && ip[1] == 0 && ip[2] == 0 && ip[3] == 1;
  } else if (request[3] == 3) {
    uint8_t length = 0;
    if (!ReadExact(fd, &length, 1))
      return;
    std::string name(length, '\0');
    if (!ReadExact(fd, name.data(), name.size()))
      return;
    loopback = name == "127.0.0.1" || name == "localhost";
  } else if (request[3] == 4) {
    uint8_t ip[16];
    if (!ReadExact(fd, ip, 16))
      return;
    static constexpr uint8_t kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    loopback = std::memcmp(ip, kLoopback6, 16) == 0;
  } else {
    return;
  }
  uint8_t port_bytes[2];
  if (!ReadExact(fd, port_bytes, 2))
    return;
  const int port = (port_bytes[0] << 8) | port_bytes[1];
  // Reply codes: 0 succeeded, 2 not allowed by ruleset, 5 refused, 7 command not supported.
  uint8_t reply[10] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  int target = -1;
  if (request[1] != 1) {
    reply[1] = 7;
  } else if (!loopback) {
    reply[1] = 2;
  } else if ((target = ConnectLoopback(port)) < 0) {
    reply[1] = 5;
  }
  if (!WriteAll(fd, reply, sizeof(reply)) || target < 0) {
    if (target >= 0)
      close(target);
    return;
  }
  tunnels_.fetch_add(1);
  SpliceSockets(fd, target);
  close(target);
}

// --- HttpFileServer --------------------------------------------------------------------

HttpFileServer::HttpFileServer(std::string body, std::string content_type)
    : body_(std::move(body)), content_type_(std::move(content_type)), server_([this](int fd) {
        if (ReadRequestHead(fd).empty())
          return;
        requests_.fetch_add(1);
        WriteString(fd, "HTTP/1.0 200 OK\r\nContent-Type: " + content_type_ +
                            "\r\nContent-Length: " + std::to_string(body_.size()) +
                            "\r\nConnection: close\r\n\r\n" + body_);
      }) {}

// --- ScriptedHttpProxy -----------------------------------------------------------------

ScriptedHttpProxy::ScriptedHttpProxy(ScriptedProxyMode mode)
    : mode_(mode), server_([this](int fd) { Serve(fd); }) {}

std::vector<std::string> ScriptedHttpProxy::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void ScriptedHttpProxy::Serve(int fd) {
  const std::string expected_login =
      "Proxy-Authorization: Basic " + Base64(std::string(kProxyUser) + ":" + kProxyPassword);
  // One connection may carry several requests (a 407 keeps it open for the retry).
  while (true) {
    const std::string head = ReadRequestHead(fd);
    if (head.empty())
      return;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(head);
    }
    const int target_port = LoopbackConnectPort(head);
    if (target_port == 0) {
      WriteString(fd, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    bool allow = false;
    switch (mode_) {
      case ScriptedProxyMode::kAllow:
        allow = true;
        break;
      case ScriptedProxyMode::kBasicLogin:
        allow = head.find(expected_login + "\r\n") != std::string::npos;
        if (!allow) {
          if (!WriteString(fd,
                           "HTTP/1.1 407 Proxy Authentication Required\r\n"
                           "Proxy-Authenticate: Basic realm=\"scripted\"\r\n"
                           "Content-Length: 0\r\n\r\n"))
            return;
          continue;
        }
        break;
      case ScriptedProxyMode::kAlways407:
        if (!WriteString(fd,
                         "HTTP/1.1 407 Proxy Authentication Required\r\n"
                         "Proxy-Authenticate: Basic realm=\"scripted\"\r\n"
                         "Proxy-Authenticate: NTLM\r\n"
                         "Content-Length: 0\r\n\r\n"))
          return;
        continue;
      case ScriptedProxyMode::kBadGateway:
        WriteString(fd,
                    "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
      case ScriptedProxyMode::kCloseAfter200:
        WriteString(fd, "HTTP/1.1 200 Connection established\r\n\r\n");
        return;
    }
    if (!allow)
      return;
    const int target = ConnectLoopback(target_port);
    if (target < 0) {
      WriteString(fd,
                  "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: "
                  "close\r\n\r\n");
      return;
    }
    if (WriteString(fd, "HTTP/1.1 200 Connection established\r\n\r\n"))
      SpliceSockets(fd, target);
    close(target);
    return;
  }
}

}  // namespace lifeline::testing
