// KeyringSecretStore: secrets in the desktop keyring through libsecret (the freedesktop
// Secret Service over the D-Bus session bus: GNOME Keyring, KWallet, KeePassXC...).
// Built only with the front-ends (libsecret, GLib); the session core sees SecretStore.
//
// Each secret carries the attributes {application: "lifeline", config: <settings folder>,
// key: <name>}, so two installations (or a test's temporary folder) never share secrets.
//
// Threading: blocking D-Bus calls (each bounded by D-Bus's own timeout); call from one
// thread at a time.
#pragma once

#include <memory>
#include <string>

#include "app/core/paths.h"
#include "app/core/secret_store.h"

namespace lifeline {

class KeyringSecretStore : public SecretStore {
 public:
  // Checks that a Secret Service is on the session bus (running or activatable), without
  // ever starting a bus itself. kSecretStoreUnavailable says why not.
  static Expected<std::unique_ptr<KeyringSecretStore>> Open(const std::string& config_dir);

  ~KeyringSecretStore() override;

  SecretStoreKind kind() const override { return SecretStoreKind::kKeyring; }
  std::string ProtectionDescription() const override;
  Status Store(const std::string& key, const std::string& secret) override;
  Expected<std::optional<std::string>> Lookup(const std::string& key) override;
  Status Remove(const std::string& key) override;

 private:
  explicit KeyringSecretStore(std::string config_dir) : config_dir_(std::move(config_dir)) {}
  std::string config_dir_;
};

// The store the desktop app uses: the encrypted file in portable mode (nothing may be
// written outside the portable folder); otherwise the keyring, or the encrypted file when
// no keyring answers, with the reason in `fallback_reason` (empty when none).
std::unique_ptr<SecretStore> OpenPreferredSecretStore(const AppPaths& paths,
                                                      std::string* fallback_reason);

}  // namespace lifeline
