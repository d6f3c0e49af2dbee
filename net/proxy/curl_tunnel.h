// A tunnel through one proxy with libcurl (security.md §4.1, requirement 24): an `http://`
// target URL with CURLOPT_HTTPPROXYTUNNEL and CURLOPT_CONNECT_ONLY, so curl stops once the
// proxy said 200 (or SOCKS5 granted the connection) and never speaks TLS to the target;
// our own TLS then runs over the socket.
//
// Ownership: the returned Transport owns the curl easy handle, which owns the socket
// (CURLINFO_ACTIVESOCKET). It reads and writes with curl_easy_recv/curl_easy_send and
// closes everything with curl_easy_cleanup when destroyed. Never close fd() yourself.
//
// Threading: ConnectThroughProxy blocks (up to `timeout_ms`) and may run on any thread;
// `cancel` may be set from any thread (checked by curl's progress callback, ~every second
// at worst, usually more often). The transport follows the Transport rules.
//
// Logins: curl gets user and password through the separate CURLOPT_PROXYUSERNAME /
// CURLOPT_PROXYPASSWORD options (no "user:password" parsing). HTTP proxies: CURLAUTH_ANY
// (Basic, Digest, NTLM, Negotiate, as the proxy offers); a login with an empty user means
// Negotiate with the system's Kerberos ticket. SOCKS5: RFC 1929 user/password.
#pragma once

#include <atomic>
#include <memory>

#include "base/status.h"
#include "net/proxy/outbound.h"
#include "net/proxy/proxy_url.h"
#include "net/tcp.h"
#include "net/transport.h"

namespace lifeline {

// Opens a tunnel to `target` through `proxy` (kHttp, kHttps or kSocks5; kDirect is
// kInvalidArgument). Errors, each naming the proxy as host:port and never the password:
//   kProxyUnreachable    no TCP connection to the proxy (refused, unresolvable, no answer);
//   kProxyAuthFailed     HTTP 407 (names the user, or says none is set, and the schemes the
//                        proxy offered) or a SOCKS5 login refused / required;
//   kProxyTunnelRefused  the proxy answered CONNECT with another status (the message has
//                        "HTTP 503" etc.) or SOCKS5 refused the connection (with its reply);
//   kConnectionTimedOut  connected to the proxy, but no tunnel within `timeout_ms`;
//   kTlsHandshakeFailed  TLS to an HTTPS proxy failed (certificate, protocol);
//   kCancelled           `*cancel` became true.
// `route` (optional) gets the description, time and CONNECT status, also on failure.
Expected<std::unique_ptr<Transport>> ConnectThroughProxy(const HostPort& target,
                                                         const ProxyEndpoint& proxy,
                                                         int timeout_ms,
                                                         const std::atomic<bool>* cancel,
                                                         OutboundRoute* route);

// "Basic, Digest, NTLM" for a CURLINFO_PROXYAUTH_AVAIL bit mask; "none" for 0.
std::string DescribeAuthSchemes(unsigned long mask);

}  // namespace lifeline
