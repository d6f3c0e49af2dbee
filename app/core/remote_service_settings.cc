#include "app/core/remote_service_settings.h"

#include <arpa/inet.h>

#include <sstream>

#include <toml++/toml.h>

#include "app/core/audit_log.h"
#include "net/tcp.h"

namespace lifeline {
namespace {

constexpr size_t kMaxIdSize = 64;
constexpr size_t kMaxNameSize = 256;
constexpr size_t kMaxPasswordSize = 1024;

bool HasControlChars(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f)
      return true;
  }
  return false;
}

// Required, printable, at most `max` bytes.
void CheckText(std::vector<FieldIssue>* issues,
               RemoteServiceField field,
               std::string_view text,
               size_t max,
               bool required) {
  if (text.empty()) {
    if (required)
      issues->push_back({field, FieldProblem::kRequired});
    return;
  }
  if (text.size() > max)
    issues->push_back({field, FieldProblem::kTooLong});
  else if (HasControlChars(text))
    issues->push_back({field, FieldProblem::kInvalidChars});
}

std::string_view ProxyModeName(ProxyMode mode) {
  switch (mode) {
    case ProxyMode::kAutomatic:
      return "automatic";
    case ProxyMode::kManual:
      return "manual";
    case ProxyMode::kNone:
      break;
  }
  return "none";
}

Error FieldError(std::string_view field, std::string_view what) {
  return Error{ErrorCode::kSettingsInvalid, std::string(field) + ": " + std::string(what)};
}

// Reads `key` from `table` (which may be null) into `out`, checking the type.
template <typename T>
Status Read(const toml::table* table, std::string_view prefix, std::string_view key, T* out) {
  if (!table)
    return Status::Ok();
  const toml::node* node = table->get(key);
  if (!node)
    return Status::Ok();
  const std::string field = std::string(prefix) + "." + std::string(key);
  if constexpr (std::is_same_v<T, bool>) {
    if (!node->is_boolean())
      return FieldError(field, "must be true or false");
    *out = node->as_boolean()->get();
  } else if constexpr (std::is_same_v<T, int>) {
    if (!node->is_integer())
      return FieldError(field, "must be a whole number");
    const int64_t v = node->as_integer()->get();
    if (v < -1'000'000 || v > 1'000'000)
      return FieldError(field, "is out of range");
    *out = static_cast<int>(v);
  } else {
    if (!node->is_string())
      return FieldError(field, "must be a string");
    *out = node->as_string()->get();
  }
  return Status::Ok();
}

Expected<const toml::table*> SubTable(const toml::table* parent,
                                      std::string_view prefix,
                                      std::string_view key) {
  if (!parent)
    return static_cast<const toml::table*>(nullptr);
  const toml::node* node = parent->get(key);
  if (!node)
    return static_cast<const toml::table*>(nullptr);
  if (!node->is_table()) {
    return FieldError(std::string(prefix) + "." + std::string(key),
                      "must be a table ([" + std::string(prefix) + "." + std::string(key) + "])");
  }
  return node->as_table();
}

}  // namespace

std::string_view FieldKey(RemoteServiceField field) {
  switch (field) {
    case RemoteServiceField::kOrganisationId:
      return "remote_service.organisation_id";
    case RemoteServiceField::kVerificationCode:
      return "remote_service.verification_code";
    case RemoteServiceField::kProxyHost:
      return "remote_service.proxy.host";
    case RemoteServiceField::kProxyPort:
      return "remote_service.proxy.port";
    case RemoteServiceField::kProxyUser:
      return "remote_service.proxy.user";
    case RemoteServiceField::kProxyPassword:
      return "remote_service.proxy.password";
    case RemoteServiceField::kProxyDomain:
      return "remote_service.proxy.domain";
    case RemoteServiceField::kServiceUser:
      return "remote_service.service_account.user";
    case RemoteServiceField::kServicePassword:
      return "remote_service.service_account.password";
    case RemoteServiceField::kLanguage:
      return "ui.language";
    case RemoteServiceField::kRelayAddress:
      return "remote_service.relay";
    case RemoteServiceField::kRelayFallback:
      return "remote_service.relay_fallback";
    case RemoteServiceField::kRelayPin:
      return "remote_service.relay_pin";
  }
  return "remote_service";
}

std::string_view ProblemText(FieldProblem problem) {
  switch (problem) {
    case FieldProblem::kRequired:
      return "is required";
    case FieldProblem::kPortRange:
      return "must be a whole number from 1 to 65535";
    case FieldProblem::kHostSyntax:
      return "must be a host name or an IP address";
    case FieldProblem::kTooLong:
      return "is too long";
    case FieldProblem::kInvalidChars:
      return "contains characters that are not allowed";
    case FieldProblem::kUnknownValue:
      return "is not one of the allowed values";
    case FieldProblem::kAddressSyntax:
      return "must be HOST:PORT";
    case FieldProblem::kPinSyntax:
      return "must be 64 hexadecimal digits";
  }
  return "is invalid";
}

std::optional<int> ParsePortText(std::string_view text) {
  uint64_t value = 0;
  if (!policy_file::ParseDecimal(text, 65535, &value) || value < 1)
    return std::nullopt;
  return static_cast<int>(value);
}

bool IsValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253 + 2)
    return false;
  std::string literal(host);
  if (literal.front() == '[' && literal.back() == ']')
    literal = literal.substr(1, literal.size() - 2);
  in6_addr v6{};
  if (literal.find(':') != std::string::npos)
    return inet_pton(AF_INET6, literal.c_str(), &v6) == 1;
  if (literal.size() != host.size())
    return false;  // Brackets only around IPv6.
  // All digits and dots: must be a dotted IPv4 address.
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    in_addr v4{};
    return inet_pton(AF_INET, literal.c_str(), &v4) == 1;
  }
  if (host.size() > 253)
    return false;
  size_t start = 0;
  std::string_view name = host;
  if (name.back() == '.')
    name.remove_suffix(1);  // Fully qualified "proxy.corp." is fine.
  while (start <= name.size()) {
    size_t end = name.find('.', start);
    if (end == std::string_view::npos)
      end = name.size();
    const std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok)
        return false;
    }
    start = end + 1;
  }
  return true;
}

std::vector<FieldIssue> ValidateRemoteService(const RemoteServiceSettings& s) {
  std::vector<FieldIssue> issues;
  // The organisation's ID and code are what the back office finds this installation by:
  // needed only when the connection to it is enabled, checked whenever typed.
  CheckText(&issues, RemoteServiceField::kOrganisationId, s.organisation_id, kMaxIdSize, s.enabled);
  CheckText(&issues, RemoteServiceField::kVerificationCode, s.verification_code, kMaxIdSize,
            s.enabled);
  if (s.proxy_mode == ProxyMode::kManual) {
    if (s.proxy_host.empty())
      issues.push_back({RemoteServiceField::kProxyHost, FieldProblem::kRequired});
    else if (!IsValidHostName(s.proxy_host))
      issues.push_back({RemoteServiceField::kProxyHost, FieldProblem::kHostSyntax});
    if (s.proxy_port < 1 || s.proxy_port > 65535)
      issues.push_back({RemoteServiceField::kProxyPort, FieldProblem::kPortRange});
    if (s.proxy_auth) {
      CheckText(&issues, RemoteServiceField::kProxyUser, s.proxy_user, kMaxNameSize, true);
      CheckText(&issues, RemoteServiceField::kProxyPassword, s.proxy_password, kMaxPasswordSize,
                false);
      CheckText(&issues, RemoteServiceField::kProxyDomain, s.proxy_domain, kMaxNameSize, false);
      if (s.proxy_domain.find_first_of("\\@/ ") != std::string::npos)
        issues.push_back({RemoteServiceField::kProxyDomain, FieldProblem::kInvalidChars});
    }
  }
  if (s.service_account == ServiceAccount::kOtherAccount) {
    CheckText(&issues, RemoteServiceField::kServiceUser, s.service_user, kMaxNameSize, true);
    CheckText(&issues, RemoteServiceField::kServicePassword, s.service_password, kMaxPasswordSize,
              true);
  }
  for (auto [field, text] : {std::pair{RemoteServiceField::kRelayAddress, &s.relay_address},
                             std::pair{RemoteServiceField::kRelayFallback, &s.relay_fallback}}) {
    if (!text->empty() && !ParseHostPort(*text).ok())
      issues.push_back({field, FieldProblem::kAddressSyntax});
  }
  const bool pin_hex = s.relay_pin.size() == 64 &&
                       s.relay_pin.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (!s.relay_address.empty() && s.relay_pin.empty())
    issues.push_back({RemoteServiceField::kRelayPin, FieldProblem::kRequired});
  else if (!s.relay_pin.empty() && !pin_hex)
    issues.push_back({RemoteServiceField::kRelayPin, FieldProblem::kPinSyntax});
  if (!s.language.empty() && s.language != "en" && s.language != "it")
    issues.push_back({RemoteServiceField::kLanguage, FieldProblem::kUnknownValue});
  return issues;
}

Status CheckRemoteService(const RemoteServiceSettings& settings) {
  const auto issues = ValidateRemoteService(settings);
  if (issues.empty())
    return Status::Ok();
  return FieldError(FieldKey(issues.front().field), ProblemText(issues.front().problem));
}

bool UsesRelay(const RemoteServiceSettings& settings) {
  return settings.enabled && !settings.relay_address.empty();
}

ProxyConfig ToProxyConfig(const RemoteServiceSettings& s) {
  ProxyConfig config;
  config.mode = s.proxy_mode;
  if (s.proxy_mode != ProxyMode::kManual)
    return config;
  config.type = ProxyType::kHttp;
  config.host = s.proxy_host;
  config.port = static_cast<uint16_t>(s.proxy_port);
  config.auth = s.proxy_auth;
  if (s.proxy_auth) {
    config.user = s.proxy_user;
    config.password = s.proxy_password;
    config.domain = s.proxy_domain;
  }
  return config;
}

std::string SerializeRemoteServiceToml(const RemoteServiceSettings& s) {
  toml::table proxy{{"mode", std::string(ProxyModeName(s.proxy_mode))},
                    {"host", s.proxy_host},
                    {"port", s.proxy_port},
                    {"authentication", s.proxy_auth},
                    {"user", s.proxy_user},
                    {"domain", s.proxy_domain}};
  toml::table account{
      {"kind", s.service_account == ServiceAccount::kOtherAccount ? "other" : "local_system"},
      {"user", s.service_user}};
  toml::table remote{{"enabled", s.enabled},
                     {"allow_remote_assistance", s.allow_remote_assistance},
                     {"organisation_id", s.organisation_id},
                     {"verification_code", s.verification_code},
                     {"relay", s.relay_address},
                     {"relay_fallback", s.relay_fallback},
                     {"relay_pin", s.relay_pin},
                     {"proxy", proxy},
                     {"service_account", account}};
  toml::table root{{"remote_service", remote}, {"ui", toml::table{{"language", s.language}}}};
  std::ostringstream out;
  out << "# Passwords are kept in the keyring or the encrypted store, never here.\n"
      << root << "\n";
  return out.str();
}

Status ParseRemoteServiceToml(std::string_view toml_text, RemoteServiceSettings* out) {
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return Status(ErrorCode::kSettingsInvalid, "line " + std::to_string(e.source().begin.line) +
                                                   ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return Status(ErrorCode::kSettingsInvalid, e.what());
  }
  RemoteServiceSettings s;
  auto remote = SubTable(&root, "", "remote_service");
  if (!remote.ok())
    return FieldError("remote_service", "must be a table ([remote_service])");
  auto proxy = SubTable(*remote, "remote_service", "proxy");
  if (!proxy.ok())
    return proxy.error();
  auto account = SubTable(*remote, "remote_service", "service_account");
  if (!account.ok())
    return account.error();
  auto ui = SubTable(&root, "", "ui");
  if (!ui.ok())
    return FieldError("ui", "must be a table ([ui])");
  std::string mode(ProxyModeName(s.proxy_mode));
  std::string kind = "local_system";
  const char* kRemote = "remote_service";
  const char* kProxy = "remote_service.proxy";
  const char* kAccount = "remote_service.service_account";
  for (Status st :
       {Read(*remote, kRemote, "enabled", &s.enabled),
        Read(*remote, kRemote, "allow_remote_assistance", &s.allow_remote_assistance),
        Read(*remote, kRemote, "organisation_id", &s.organisation_id),
        Read(*remote, kRemote, "verification_code", &s.verification_code),
        Read(*remote, kRemote, "relay", &s.relay_address),
        Read(*remote, kRemote, "relay_fallback", &s.relay_fallback),
        Read(*remote, kRemote, "relay_pin", &s.relay_pin), Read(*proxy, kProxy, "mode", &mode),
        Read(*proxy, kProxy, "host", &s.proxy_host), Read(*proxy, kProxy, "port", &s.proxy_port),
        Read(*proxy, kProxy, "authentication", &s.proxy_auth),
        Read(*proxy, kProxy, "user", &s.proxy_user),
        Read(*proxy, kProxy, "domain", &s.proxy_domain), Read(*account, kAccount, "kind", &kind),
        Read(*account, kAccount, "user", &s.service_user),
        Read(*ui, "ui", "language", &s.language)}) {
    if (!st.ok())
      return st;
  }
  if (mode == "none")
    s.proxy_mode = ProxyMode::kNone;
  else if (mode == "automatic")
    s.proxy_mode = ProxyMode::kAutomatic;
  else if (mode == "manual")
    s.proxy_mode = ProxyMode::kManual;
  else
    return FieldError("remote_service.proxy.mode", "must be none, automatic or manual");
  if (kind == "local_system")
    s.service_account = ServiceAccount::kLocalSystem;
  else if (kind == "other")
    s.service_account = ServiceAccount::kOtherAccount;
  else
    return FieldError("remote_service.service_account.kind", "must be local_system or other");
  // A file is checked like the dialog, except for the passwords, which it never holds.
  for (const FieldIssue& issue : ValidateRemoteService(s)) {
    if (issue.field == RemoteServiceField::kServicePassword ||
        issue.field == RemoteServiceField::kProxyPassword) {
      continue;
    }
    return FieldError(FieldKey(issue.field), ProblemText(issue.problem));
  }
  *out = std::move(s);
  return Status::Ok();
}

Status LoadRemoteServiceSecrets(SecretStore& store, RemoteServiceSettings* settings) {
  auto proxy = store.Lookup(kProxyPasswordSecret);
  if (!proxy.ok())
    return proxy.error();
  auto service = store.Lookup(kServicePasswordSecret);
  if (!service.ok())
    return service.error();
  settings->proxy_password = proxy->value_or("");
  settings->service_password = service->value_or("");
  return Status::Ok();
}

Status SaveRemoteServiceSecrets(SecretStore& store, const RemoteServiceSettings& settings) {
  const bool proxy_used = settings.proxy_mode == ProxyMode::kManual && settings.proxy_auth &&
                          !settings.proxy_password.empty();
  const bool service_used = settings.service_account == ServiceAccount::kOtherAccount &&
                            !settings.service_password.empty();
  Status st = proxy_used ? store.Store(kProxyPasswordSecret, settings.proxy_password)
                         : store.Remove(kProxyPasswordSecret);
  if (!st.ok())
    return st;
  return service_used ? store.Store(kServicePasswordSecret, settings.service_password)
                      : store.Remove(kServicePasswordSecret);
}

}  // namespace lifeline
