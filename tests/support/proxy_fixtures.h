// Proxies and small servers on 127.0.0.1 for tests: real squid (no login, Basic, Digest,
// NTLM), real dante (SOCKS5, no login), and small in-process servers written here: a SOCKS5
// server with an RFC 1929 login, an HTTP server for PAC files, a scripted HTTP proxy for the
// exact CONNECT answers of security.md requirement 24, and a TCP echo server.
//
// Every fixture listens on a free loopback port, uses a fresh temporary folder, and stops
// everything it started in its destructor: child processes by their PID with SIGKILL and
// waitpid (squid takes 2-4 s on SIGTERM), in-process servers by closing their sockets and
// joining their threads. Constructors throw std::runtime_error when a server does not come
// up (e.g. squid missing); tests let that fail the test.
//
// Threading: construct, query and destroy on one thread. The in-process servers run one
// accept thread plus one thread per connection, all joined by the destructor.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lifeline::testing {

class Subprocess;
class TempDir;

// The login every authenticating fixture accepts (NTLM: squid's fake helper accepts any).
inline constexpr char kProxyUser[] = "alice";
inline constexpr char kProxyPassword[] = "s3cret";

// Accepts connections on 127.0.0.1:<free port> and runs `handler(fd)` on a thread per
// connection (the handler owns nothing: the server closes `fd` after it returns, or on
// Stop()). Building block for the in-process servers below.
class LoopbackServer {
 public:
  using Handler = std::function<void(int fd)>;
  explicit LoopbackServer(Handler handler);  // Throws when it cannot listen.
  ~LoopbackServer();                         // Stop().
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }
  int connection_count() const { return connection_count_.load(); }
  // Closes the listener and every connection, joins all threads. Idempotent.
  void Stop();

 private:
  void AcceptLoop();

  Handler handler_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connection_count_{0};
  std::thread accept_thread_;
  std::mutex mutex_;
  std::vector<int> connection_fds_;  // Guarded by mutex_.
  std::vector<std::thread> connection_threads_;
};

// Echoes every byte back until the client closes.
class EchoServer {
 public:
  EchoServer();
  int port() const { return server_.port(); }

 private:
  LoopbackServer server_;
};

enum class SquidAuth {
  kNone,
  kBasic,   // basic_ncsa_auth with kProxyUser / kProxyPassword.
  kDigest,  // digest_file_auth, realm "test".
  kNtlm,    // ntlm_fake_auth: any user and password pass (a wrong password cannot be tested).
};

// squid 5 in the foreground (-N) with the config of shared/design/environment.md §6:
// CONNECT only, only to 127.0.0.1 ports 1024-65535 (a lower port gets 403, a closed one 503).
class SquidProxy {
 public:
  explicit SquidProxy(SquidAuth auth = SquidAuth::kNone);
  ~SquidProxy();  // SIGKILL, waitpid.
  SquidProxy(const SquidProxy&) = delete;
  SquidProxy& operator=(const SquidProxy&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const;
  std::string AccessLog() const;  // squid's access.log so far.
  // Waits until access.log contains `text` (squid writes a tunnel's line when it ends).
  bool WaitForAccessLog(const std::string& text, int timeout_ms = 10'000) const;

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
};

// dante (danted) SOCKS5 without a login, allowing CONNECT to 127.0.0.1 only. Runs as
// `nobody` when the tests run as root.
class DanteProxy {
 public:
  DanteProxy();
  ~DanteProxy();
  DanteProxy(const DanteProxy&) = delete;
  DanteProxy& operator=(const DanteProxy&) = delete;

  int port() const { return port_; }
  pid_t pid() const;

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
};

// SOCKS5 (RFC 1928) CONNECT to 127.0.0.1 / ::1 / "localhost" only. With a non-empty `user`
// only the RFC 1929 user/password method is offered and checked; otherwise "no auth".
class Socks5Server {
 public:
  explicit Socks5Server(std::string user = kProxyUser, std::string password = kProxyPassword);
  int port() const { return server_.port(); }
  int failed_logins() const { return failed_logins_.load(); }
  int tunnels() const { return tunnels_.load(); }

 private:
  void Serve(int fd);

  const std::string user_;
  const std::string password_;
  std::atomic<int> failed_logins_{0};
  std::atomic<int> tunnels_{0};
  LoopbackServer server_;  // Last: its threads use the members above.
};

// Answers every GET with `body` (HTTP/1.0, Content-Length, then close). For PAC files.
class HttpFileServer {
 public:
  explicit HttpFileServer(std::string body,
                          std::string content_type = "application/x-ns-proxy-autoconfig");
  int port() const { return server_.port(); }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }
  int requests() const { return requests_.load(); }

 private:
  const std::string body_;
  const std::string content_type_;
  std::atomic<int> requests_{0};
  LoopbackServer server_;
};

// An HTTP proxy that answers CONNECT exactly as scripted (security.md requirement 24).
enum class ScriptedProxyMode {
  kAllow,          // 200, then forwards bytes to the requested 127.0.0.1 target.
  kBasicLogin,     // 407 (Basic realm="scripted") until a request carries the right
                   // kProxyUser:kProxyPassword, then 200 and forwarding. A wrong login gets
                   // 407 again (repeated 407).
  kAlways407,      // 407 to every request, offering Basic and NTLM.
  kBadGateway,     // 502 Bad Gateway, then close.
  kCloseAfter200,  // 200, then closes the connection at once.
};

class ScriptedHttpProxy {
 public:
  explicit ScriptedHttpProxy(ScriptedProxyMode mode);
  int port() const { return server_.port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }
  // Every request head received, in order (thread-safe copy).
  std::vector<std::string> requests() const;

 private:
  void Serve(int fd);

  const ScriptedProxyMode mode_;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;  // Guarded by mutex_.
  LoopbackServer server_;              // Last: its threads use the members above.
};

// Copies bytes both ways between two connected sockets until either side ends.
void SpliceSockets(int a, int b);

// Connects to 127.0.0.1:`port` (blocking). -1 on failure.
int ConnectLoopback(int port);

}  // namespace lifeline::testing
