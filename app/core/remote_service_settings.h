// The Remote Service settings: the model behind the desktop app's "Remote Service" dialog
// (shared/seeds: Enable, Allow remote assistance, service organisation ID and verification
// code, serial number, proxy server, service account). No GUI headers: the dialog only
// copies values in and out, and every rule (validation, what is stored where) lives here
// so tests reach it without a display.
//
// Storage: the plain fields go to the [remote_service] tables of the settings TOML; the two
// passwords (proxy and service account) never do: they go to a SecretStore (the desktop
// keyring, or the encrypted file in portable mode), see secret_store.h.
//
// Threading: plain values and free functions; call from any one thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/core/secret_store.h"
#include "base/status.h"
#include "net/proxy/proxy_config.h"

namespace lifeline {

enum class ServiceAccount {
  kLocalSystem,   // "Local system account" (the default).
  kOtherAccount,  // "Other account": user name and password below.
};

struct RemoteServiceSettings {
  // "Enable": connection to the remote service back office. Off: no connection at all.
  bool enabled = false;
  // "Allow remote assistance": the help desk may ask for a remote desktop connection.
  bool allow_remote_assistance = false;
  std::string organisation_id;    // "Service organisation ID"; required when enabled.
  std::string verification_code;  // "Verification code"; required when enabled.

  // Proxy server: "Detect proxy server automatically" (kAutomatic) or "Enable proxy
  // server" (kManual), or neither (kNone: direct).
  ProxyMode proxy_mode = ProxyMode::kNone;
  std::string proxy_host;      // "Host name": name or IP address; required for kManual.
  int proxy_port = 8080;       // "Port": 1-65535.
  bool proxy_auth = false;     // "Proxy server authentication".
  std::string proxy_user;      // Required when proxy_auth.
  std::string proxy_password;  // Secret: SecretStore only, never in the TOML file.
  std::string proxy_domain;    // Optional: "the domain where the proxy server resides".

  ServiceAccount service_account = ServiceAccount::kLocalSystem;
  std::string service_user;      // Required for kOtherAccount.
  std::string service_password;  // Secret: SecretStore only. Required for kOtherAccount.

  // Where the remote service (the relay) is, for the settings file only (the seed dialog
  // has no such fields). With `enabled` and a relay address the host registers there
  // (through the proxy above) and the main window shows the relay's ID.
  std::string relay_address;   // "relay.example:7000"; "" = direct mode.
  std::string relay_fallback;  // "" = port 443 of the relay's host.
  std::string relay_pin;       // 64 hex digits: SHA-256 of the relay's public key.

  // User interface language: "" follows the system, otherwise "en" or "it".
  std::string language;

  bool operator==(const RemoteServiceSettings&) const = default;
};

// One field of the dialog, so a problem can be shown next to the right input.
enum class RemoteServiceField {
  kOrganisationId,
  kVerificationCode,
  kProxyHost,
  kProxyPort,
  kProxyUser,
  kProxyPassword,
  kProxyDomain,
  kServiceUser,
  kServicePassword,
  kLanguage,
  kRelayAddress,
  kRelayFallback,
  kRelayPin,
};

enum class FieldProblem {
  kRequired,       // Empty, but the options chosen need it.
  kPortRange,      // Not a whole number from 1 to 65535.
  kHostSyntax,     // Not a host name (RFC 1123 labels) nor an IPv4/IPv6 address.
  kTooLong,        // Longer than the field allows.
  kInvalidChars,   // Control characters, or characters the field cannot hold.
  kUnknownValue,   // Not one of the allowed values (language).
  kAddressSyntax,  // Not HOST:PORT.
  kPinSyntax,      // Not 64 hex digits.
};

struct FieldIssue {
  RemoteServiceField field;
  FieldProblem problem;
  bool operator==(const FieldIssue&) const = default;
};

// The settings-file key of a field ("remote_service.proxy.port"), used in messages.
std::string_view FieldKey(RemoteServiceField field);
// A short English reason ("must be a whole number from 1 to 65535"); the GUI shows its
// own translated text for the same FieldProblem.
std::string_view ProblemText(FieldProblem problem);

// Every problem, in dialog order; empty when the settings can be saved. Fields the chosen
// options do not use (proxy host when no manual proxy) are not checked.
std::vector<FieldIssue> ValidateRemoteService(const RemoteServiceSettings& settings);
// The first problem as a kSettingsInvalid error naming the field, or Ok.
Status CheckRemoteService(const RemoteServiceSettings& settings);

// The port as typed in the dialog: digits only, 1-65535.
std::optional<int> ParsePortText(std::string_view text);
// RFC 1123 host name, dotted IPv4, or IPv6 (optionally in brackets).
bool IsValidHostName(std::string_view host);

// True when the host should register with the relay (enabled, relay address set).
bool UsesRelay(const RemoteServiceSettings& settings);

// The net layer's view of the proxy fields (password included: it is for the connecting
// code only, never for logs).
ProxyConfig ToProxyConfig(const RemoteServiceSettings& settings);

// TOML for the [remote_service] tables and [ui] (no secrets), and the way back. Parsing
// reads only those tables from a whole settings document; missing keys keep defaults,
// wrong types and invalid values are kSettingsInvalid naming the field.
std::string SerializeRemoteServiceToml(const RemoteServiceSettings& settings);
Status ParseRemoteServiceToml(std::string_view toml_text, RemoteServiceSettings* settings);

// Secret-store keys of the two passwords.
inline constexpr char kProxyPasswordSecret[] = "remote_service.proxy.password";
inline constexpr char kServicePasswordSecret[] = "remote_service.service_account.password";

// Reads the two passwords from `store` into `settings` (missing: empty).
Status LoadRemoteServiceSecrets(SecretStore& store, RemoteServiceSettings* settings);
// Writes the two passwords; an empty or unused password is removed from the store, so a
// secret is never kept for an option that is switched off.
Status SaveRemoteServiceSecrets(SecretStore& store, const RemoteServiceSettings& settings);

}  // namespace lifeline
