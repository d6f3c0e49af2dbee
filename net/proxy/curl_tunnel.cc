#include "net/proxy/curl_tunnel.h"

#include <sys/socket.h>

#include <chrono>
#include <string>
#include <utility>

#include <curl/curl.h>
#include <fmt/format.h>

#include "base/log.h"
#include "net/proxy/curl_util.h"

namespace lifeline {
namespace {

using net_internal::CurlPtr;
using net_internal::EnsureCurlGlobalInit;

struct ProgressState {
  const std::atomic<bool>* cancel = nullptr;
};

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* state = static_cast<const ProgressState*>(user);
  return state->cancel != nullptr && state->cancel->load() ? 1 : 0;
}

// Removes every occurrence of `secret` from `text` (curl's messages should never hold it;
// this makes sure).
std::string Scrub(std::string text, const std::string& secret) {
  if (secret.empty())
    return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
    text.replace(at, secret.size(), "***");
  return text;
}

// A tunnel set up by curl: the easy handle owns the socket.
class CurlTunnelTransport final : public Transport {
 public:
  CurlTunnelTransport(CurlPtr curl, int fd, std::string peer_description)
      : curl_(std::move(curl)), fd_(fd), peer_description_(std::move(peer_description)) {}

  IoResult Read(std::span<uint8_t> buffer) override {
    if (shut_down_)
      return Closed();
    if (buffer.empty())
      return IoResult{IoStatus::kOk, 0, {}};
    size_t received = 0;
    const CURLcode rc = curl_easy_recv(curl_.get(), buffer.data(), buffer.size(), &received);
    if (rc == CURLE_AGAIN)
      return IoResult{IoStatus::kWouldBlock, 0, {}};
    if (rc != CURLE_OK)
      return Failed("reading from", rc);
    if (received == 0)
      return IoResult{IoStatus::kClosed, 0, {}};
    return IoResult{IoStatus::kOk, received, {}};
  }

  IoResult Write(std::span<const uint8_t> data) override {
    if (shut_down_)
      return Closed();
    if (data.empty())
      return IoResult{IoStatus::kOk, 0, {}};
    size_t sent = 0;
    const CURLcode rc = curl_easy_send(curl_.get(), data.data(), data.size(), &sent);
    if (rc == CURLE_AGAIN)
      return IoResult{IoStatus::kWouldBlock, 0, {}};
    if (rc != CURLE_OK)
      return Failed("writing to", rc);
    return IoResult{IoStatus::kOk, sent, {}};
  }

  int fd() const override { return fd_; }

  // The socket stays open (owned by curl) until destruction.
  void Shutdown() override {
    if (shut_down_)
      return;
    shut_down_ = true;
    ::shutdown(fd_, SHUT_RDWR);
  }

  std::string PeerDescription() const override { return peer_description_; }

 private:
  IoResult Closed() const {
    return IoResult{IoStatus::kError, 0,
                    Error{ErrorCode::kConnectionClosed,
                          fmt::format("connection to {} was shut down", peer_description_)}};
  }
  IoResult Failed(const char* what, CURLcode rc) const {
    return IoResult{IoStatus::kError, 0,
                    Error{ErrorCode::kNetworkIo, fmt::format("{} {}: {}", what, peer_description_,
                                                             curl_easy_strerror(rc))}};
  }

  CurlPtr curl_;
  const int fd_;
  const std::string peer_description_;
  bool shut_down_ = false;
};

std::string CurlProxyUrl(const ProxyEndpoint& proxy) {
  switch (proxy.scheme) {
    case ProxyScheme::kHttp:
      return "http://" + proxy.HostPortString();
    case ProxyScheme::kHttps:
      return "https://" + proxy.HostPortString();
    case ProxyScheme::kSocks5:
      return "socks5h://" + proxy.HostPortString();  // The proxy resolves the target name.
    case ProxyScheme::kDirect:
      break;
  }
  return {};
}

const char* SocksReplyText(long proxy_error) {
  switch (proxy_error) {
    case CURLPX_REPLY_CONNECTION_REFUSED:
      return "connection refused by the target";
    case CURLPX_REPLY_HOST_UNREACHABLE:
      return "target host unreachable";
    case CURLPX_REPLY_NETWORK_UNREACHABLE:
      return "target network unreachable";
    case CURLPX_REPLY_NOT_ALLOWED:
      return "not allowed by the proxy's rules";
    case CURLPX_REPLY_GENERAL_SERVER_FAILURE:
      return "general SOCKS server failure";
    case CURLPX_REPLY_TTL_EXPIRED:
      return "TTL expired";
    case CURLPX_REPLY_COMMAND_NOT_SUPPORTED:
      return "CONNECT not supported";
    case CURLPX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED:
      return "address type not supported";
    default:
      return nullptr;
  }
}

// The user as shown in messages ("alice", "CORP\alice").
std::string ShownUser(const ProxyEndpoint& proxy) {
  return proxy.user.empty() ? std::string("(system credentials)") : "\"" + proxy.user + "\"";
}

Error ClassifyFailure(CURLcode rc,
                      CURL* curl,
                      const std::string& curl_message,
                      const ProxyEndpoint& proxy,
                      const HostPort& target,
                      int timeout_ms) {
  const std::string name = proxy.Describe();
  long connect_code = 0;
  curl_easy_getinfo(curl, CURLINFO_HTTP_CONNECTCODE, &connect_code);
  long auth_available = 0;
  curl_easy_getinfo(curl, CURLINFO_PROXYAUTH_AVAIL, &auth_available);
  long proxy_error = 0;
  curl_easy_getinfo(curl, CURLINFO_PROXY_ERROR, &proxy_error);
  // Set once TCP to the proxy is up (CURLINFO_CONNECT_TIME waits for the whole tunnel).
  long local_port = 0;
  curl_easy_getinfo(curl, CURLINFO_LOCAL_PORT, &local_port);

  if (rc == CURLE_ABORTED_BY_CALLBACK)
    return Error{ErrorCode::kCancelled, fmt::format("connecting through {} was cancelled", name)};
  if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_PROXY) {
    return Error{ErrorCode::kProxyUnreachable,
                 fmt::format("{} is not reachable: {}", name, curl_message)};
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    if (local_port == 0) {
      return Error{ErrorCode::kProxyUnreachable,
                   fmt::format("{} did not accept a connection within {} ms", name, timeout_ms)};
    }
    return Error{ErrorCode::kConnectionTimedOut,
                 fmt::format("{} did not open a tunnel to {} within {} ms", name, target.ToString(),
                             timeout_ms)};
  }
  if (connect_code == 407) {
    const std::string offered = DescribeAuthSchemes(static_cast<unsigned long>(auth_available));
    if (!proxy.has_credentials) {
      return Error{ErrorCode::kProxyAuthFailed,
                   fmt::format("{} requires a login (HTTP 407; it offers {}), and no proxy user "
                               "is configured",
                               name, offered)};
    }
    return Error{ErrorCode::kProxyAuthFailed,
                 fmt::format("{} refused the login of user {} (HTTP 407; it offers {}): check "
                             "the user, domain and password",
                             name, ShownUser(proxy), offered)};
  }
  if (connect_code != 0 && connect_code != 200) {
    return Error{
        ErrorCode::kProxyTunnelRefused,
        fmt::format("{} refused the tunnel to {}: HTTP {}", name, target.ToString(), connect_code)};
  }
  if (rc == CURLE_PROXY) {
    if (proxy_error == CURLPX_USER_REJECTED) {
      return Error{ErrorCode::kProxyAuthFailed,
                   fmt::format("{} refused the login of user {}", name, ShownUser(proxy))};
    }
    if (proxy_error == CURLPX_NO_AUTH) {
      return Error{ErrorCode::kProxyAuthFailed,
                   proxy.has_credentials
                       ? fmt::format("{} accepts none of our login methods (user/password)", name)
                       : fmt::format("{} requires a login, and no proxy user is configured", name)};
    }
    if (const char* reply = SocksReplyText(proxy_error)) {
      return Error{
          ErrorCode::kProxyTunnelRefused,
          fmt::format("{} refused the connection to {}: {}", name, target.ToString(), reply)};
    }
    return Error{ErrorCode::kProxyTunnelRefused, fmt::format("{} failed to connect to {}: {}", name,
                                                             target.ToString(), curl_message)};
  }
  if (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
      rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM) {
    return Error{ErrorCode::kTlsHandshakeFailed,
                 fmt::format("TLS to {} failed: {}", name, curl_message)};
  }
  return Error{ErrorCode::kProxyTunnelRefused, fmt::format("{} did not open a tunnel to {}: {}",
                                                           name, target.ToString(), curl_message)};
}

}  // namespace

std::string DescribeAuthSchemes(unsigned long mask) {
  std::string out;
  auto add = [&](unsigned long bit, const char* name) {
    if ((mask & bit) == 0)
      return;
    if (!out.empty())
      out += ", ";
    out += name;
  };
  add(CURLAUTH_BASIC, "Basic");
  add(CURLAUTH_DIGEST, "Digest");
  add(CURLAUTH_NTLM, "NTLM");
  add(CURLAUTH_NEGOTIATE, "Negotiate");
  add(CURLAUTH_BEARER, "Bearer");
  return out.empty() ? "no scheme curl knows" : out;
}

Expected<std::unique_ptr<Transport>> ConnectThroughProxy(const HostPort& target,
                                                         const ProxyEndpoint& proxy,
                                                         int timeout_ms,
                                                         const std::atomic<bool>* cancel,
                                                         OutboundRoute* route) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count());
  };
  if (route) {
    route->description = proxy.Describe();
    if (proxy.has_credentials)
      route->description += fmt::format(", login as {}", ShownUser(proxy));
    route->http_connect_status = 0;
  }
  const std::string proxy_url = CurlProxyUrl(proxy);
  if (proxy_url.empty())
    return Error{ErrorCode::kInvalidArgument, "ConnectThroughProxy needs a proxy, not direct://"};
  if (cancel != nullptr && cancel->load())
    return Error{ErrorCode::kCancelled,
                 fmt::format("connecting through {} was cancelled", proxy.Describe())};

  EnsureCurlGlobalInit();
  CurlPtr curl(curl_easy_init());
  if (!curl)
    return Error{ErrorCode::kInternal, "curl_easy_init failed"};
  CURL* c = curl.get();
  char error_buffer[CURL_ERROR_SIZE] = {};
  ProgressState progress{cancel};
  const long limit_ms = timeout_ms > 0 ? timeout_ms : 0;
  const bool http = proxy.scheme != ProxyScheme::kSocks5;
  // An http:// target so curl never does TLS to the target itself (security.md §4.3.1).
  const std::string target_url = "http://" + target.ToString() + "/";
  curl_easy_setopt(c, CURLOPT_URL, target_url.c_str());
  curl_easy_setopt(c, CURLOPT_PROXY, proxy_url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "");  // The environment's no_proxy must not interfere.
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, limit_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, limit_ms);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &progress);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  if (http)
    curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
  if (proxy.has_credentials) {
    curl_easy_setopt(c, CURLOPT_PROXYUSERNAME, proxy.user.c_str());
    curl_easy_setopt(c, CURLOPT_PROXYPASSWORD, proxy.password.c_str());
    if (!http) {
      curl_easy_setopt(c, CURLOPT_SOCKS5_AUTH, static_cast<long>(CURLAUTH_BASIC));
    } else if (proxy.user.empty()) {
      // No user: Negotiate (Kerberos/SPNEGO) with the ticket of the logged-in user.
      curl_easy_setopt(c, CURLOPT_PROXYAUTH, static_cast<long>(CURLAUTH_NEGOTIATE));
    } else {
      curl_easy_setopt(c, CURLOPT_PROXYAUTH, static_cast<long>(CURLAUTH_ANY));
    }
  } else if (!http) {
    curl_easy_setopt(c, CURLOPT_SOCKS5_AUTH, static_cast<long>(CURLAUTH_NONE));
  }

  const CURLcode rc = curl_easy_perform(c);
  // The handle outlives this frame (the transport keeps it): it must not keep pointers to
  // the error buffer and progress state on this stack.
  std::string curl_message = error_buffer;
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, nullptr);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, nullptr);
  long connect_code = 0;
  curl_easy_getinfo(c, CURLINFO_HTTP_CONNECTCODE, &connect_code);
  if (route) {
    route->elapsed_ms = elapsed_ms();
    route->http_connect_status = static_cast<int>(connect_code);
  }
  if (rc != CURLE_OK) {
    const std::string message =
        Scrub(!curl_message.empty() ? curl_message : curl_easy_strerror(rc), proxy.password);
    Error error = ClassifyFailure(rc, c, message, proxy, target, timeout_ms);
    log::Info("proxy: {} -> {} failed after {} ms: {}", proxy.ToString(), target.ToString(),
              elapsed_ms(), error.ToString());
    return error;
  }
  curl_socket_t socket = CURL_SOCKET_BAD;
  curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &socket);
  if (socket == CURL_SOCKET_BAD) {
    return Error{ErrorCode::kProxyTunnelRefused, fmt::format("{} set up no usable tunnel to {}",
                                                             proxy.Describe(), target.ToString())};
  }
  const std::string peer = fmt::format("{} via {}", target.ToString(), proxy.Describe());
  log::Info("proxy: tunnel to {} through {} in {} ms (CONNECT status {})", target.ToString(),
            proxy.ToString(), elapsed_ms(), connect_code);
  return std::unique_ptr<Transport>(
      std::make_unique<CurlTunnelTransport>(std::move(curl), static_cast<int>(socket), peer));
}

}  // namespace lifeline
