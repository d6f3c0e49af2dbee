// SecretStore: where passwords the user types into the settings (proxy, service account)
// are kept. Never in the settings file, never in logs or error messages.
//
// Implementations:
//   - KeyringSecretStore (app/keyring/, built with the front-ends): the desktop keyring
//     through libsecret (Secret Service over D-Bus).
//   - EncryptedFileSecretStore (here): AES-256-GCM in `secrets.enc`, with a random key in
//     `secrets.key` beside it (both mode 0600). Used in portable mode (nothing may be
//     written outside the portable folder) and where no keyring answers. What protects the
//     secrets is exactly what protects that folder: ProtectionDescription() says so, and
//     the dialog shows it.
//
// Threading: one store is used from one thread at a time (the UI thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace lifeline {

enum class SecretStoreKind { kKeyring, kEncryptedFile };

class SecretStore {
 public:
  virtual ~SecretStore() = default;

  virtual SecretStoreKind kind() const = 0;
  // One English sentence for the dialog: where secrets go and what protects them.
  virtual std::string ProtectionDescription() const = 0;

  // Errors: kSecretStoreFailed (write or read refused), kSecretStoreCorrupt (encrypted
  // file damaged or key wrong), kSecretStoreUnavailable (keyring gone).
  virtual Status Store(const std::string& key, const std::string& secret) = 0;
  // nullopt: nothing stored under `key`.
  virtual Expected<std::optional<std::string>> Lookup(const std::string& key) = 0;
  // Removing a missing key is Ok.
  virtual Status Remove(const std::string& key) = 0;
};

class EncryptedFileSecretStore : public SecretStore {
 public:
  // `dir` is the settings folder; files are created on the first Store().
  explicit EncryptedFileSecretStore(std::string dir);

  SecretStoreKind kind() const override { return SecretStoreKind::kEncryptedFile; }
  std::string ProtectionDescription() const override;
  Status Store(const std::string& key, const std::string& secret) override;
  Expected<std::optional<std::string>> Lookup(const std::string& key) override;
  Status Remove(const std::string& key) override;

  std::string data_path() const { return dir_ + "/secrets.enc"; }
  std::string key_path() const { return dir_ + "/secrets.key"; }

 private:
  Expected<std::map<std::string, std::string>> ReadAll();
  Status WriteAll(const std::map<std::string, std::string>& entries);

  std::string dir_;
};

// The plaintext inside secrets.enc: entries as (u16 key length, key, u32 value length,
// value), big-endian. Exposed for the fuzzer and tests. Limits: at most 256 entries, keys
// up to 256 bytes, values up to 64 KiB; anything else is kSecretStoreCorrupt.
std::vector<uint8_t> EncodeSecretEntries(const std::map<std::string, std::string>& entries);
Expected<std::map<std::string, std::string>> DecodeSecretEntries(const uint8_t* data, size_t size);

}  // namespace lifeline
