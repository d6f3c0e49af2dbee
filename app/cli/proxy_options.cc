#include "app/cli/proxy_options.h"

#include <CLI/CLI.hpp>

#include "app/cli/terminal_ui.h"
#include "net/proxy/proxy_url.h"

namespace lifeline {

void AddProxyOptions(CLI::App* command, ProxyCliOptions* options) {
  command->add_option("--proxy", options->proxy,
                      "How to get out: none, auto (environment, PAC, WPAD, desktop settings), "
                      "http://[USER@]HOST:PORT or socks5://[USER@]HOST:PORT");
  command->add_option("--proxy-user", options->user,
                      "Proxy login: USER, DOMAIN\\USER or USER@DOMAIN");
  command->add_option("--proxy-domain", options->domain, "Proxy login domain (NTLM)");
  command->add_option("--proxy-password-file", options->password_file,
                      "Read the proxy password from the first line of this file");
}

Expected<ProxyConfig> ResolveProxyOptions(const ProxyCliOptions& options,
                                          const ProxyConfig& fallback) {
  ProxyConfig config = fallback;
  if (options.proxy == "none") {
    config = ProxyConfig{};
  } else if (options.proxy == "auto") {
    config.mode = ProxyMode::kAutomatic;
  } else if (!options.proxy.empty()) {
    auto endpoint = ParseProxyUrl(options.proxy, "--proxy");
    if (!endpoint.ok())
      return endpoint.error();
    if (endpoint->scheme != ProxyScheme::kHttp && endpoint->scheme != ProxyScheme::kSocks5) {
      return Error{ErrorCode::kProxyConfigInvalid,
                   "--proxy: use none, auto, http://HOST:PORT or socks5://HOST:PORT"};
    }
    if (!endpoint->password.empty()) {
      return Error{ErrorCode::kProxyConfigInvalid,
                   "--proxy: do not put the password in the URL (other users can read the "
                   "command line); use --proxy-password-file"};
    }
    config = ProxyConfig{};
    config.mode = ProxyMode::kManual;
    config.type = endpoint->scheme == ProxyScheme::kSocks5 ? ProxyType::kSocks5 : ProxyType::kHttp;
    config.host = endpoint->host;
    config.port = endpoint->port;
    if (endpoint->has_credentials) {
      config.auth = true;
      config.user = endpoint->user;
    }
  }
  if (!options.user.empty()) {
    config.auth = true;
    config.user = options.user;
  }
  if (!options.domain.empty()) {
    config.auth = true;
    config.domain = options.domain;
  }
  if (!options.password_file.empty()) {
    auto line = ReadFirstLine(options.password_file);
    if (!line.ok())
      return Error{line.error().code, "--proxy-password-file: " + line.error().message};
    config.auth = true;
    config.password = std::move(line).value();
  }
  if (config.mode == ProxyMode::kNone && config.auth && !options.proxy.empty()) {
    return Error{ErrorCode::kProxyConfigInvalid,
                 "--proxy none: a proxy login makes no sense without a proxy"};
  }
  if (Status valid = ValidateProxyConfig(config); !valid.ok())
    return valid.error();
  return config;
}

}  // namespace lifeline
