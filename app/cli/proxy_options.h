// The proxy flags shared by `lifeline host`, `lifeline view` and `lifeline doctor`:
//   --proxy none|auto|http://[user@]host:port|socks5://[user@]host:port
//   --proxy-user USER, --proxy-domain DOMAIN, --proxy-password-file FILE
// The password is never taken from the command line (argv is visible to every user of the
// machine): only from the first line of --proxy-password-file.
#pragma once

#include <string>

#include "base/status.h"
#include "net/proxy/proxy_config.h"

namespace CLI {
class App;
}

namespace lifeline {

struct ProxyCliOptions {
  std::string proxy;          // Empty: `fallback` (the settings) decides.
  std::string user;           // Overrides a user in the URL.
  std::string domain;         // NTLM domain: sent as DOMAIN\user.
  std::string password_file;  // First line: the proxy password.
};

// Adds the four flags to `command`; `options` must outlive the parse.
void AddProxyOptions(CLI::App* command, ProxyCliOptions* options);

// The ProxyConfig the flags describe; with no --proxy, `fallback` (from the settings) with
// any --proxy-user/--proxy-domain/--proxy-password-file applied. Errors name the flag:
// kProxyConfigInvalid ("--proxy: ...", also for a password inside the URL), kFileIo
// (--proxy-password-file), and ValidateProxyConfig's field errors.
Expected<ProxyConfig> ResolveProxyOptions(const ProxyCliOptions& options,
                                          const ProxyConfig& fallback = ProxyConfig{});

}  // namespace lifeline
