#include "app/core/secret_store.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

#include "app/core/audit_log.h"

namespace lifeline {
namespace {

constexpr char kMagic[] = "LLSEC1";  // 6 bytes; also the AAD.
constexpr size_t kMagicSize = 6;
constexpr size_t kKeySize = 32;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kMaxEntries = 256;
constexpr size_t kMaxKeySize = 256;
constexpr size_t kMaxValueSize = 64 * 1024;
constexpr size_t kMaxFileSize =
    kMagicSize + kNonceSize + kTagSize + kMaxEntries * (6 + kMaxKeySize + kMaxValueSize);

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// Overwrites a buffer holding plaintext secrets before it is freed.
struct Wipe {
  std::vector<uint8_t>* buffer;
  ~Wipe() {
    if (!buffer->empty())
      OPENSSL_cleanse(buffer->data(), buffer->size());
  }
};

Error Corrupt(const std::string& path, const std::string& what) {
  return Error{ErrorCode::kSecretStoreCorrupt, "encrypted secrets file " + path + ": " + what};
}

void PutU16(std::vector<uint8_t>* out, size_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

void PutU32(std::vector<uint8_t>* out, size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<uint8_t>(v >> shift));
}

}  // namespace

std::vector<uint8_t> EncodeSecretEntries(const std::map<std::string, std::string>& entries) {
  std::vector<uint8_t> out;
  for (const auto& [key, value] : entries) {
    PutU16(&out, key.size());
    out.insert(out.end(), key.begin(), key.end());
    PutU32(&out, value.size());
    out.insert(out.end(), value.begin(), value.end());
  }
  return out;
}

Expected<std::map<std::string, std::string>> DecodeSecretEntries(const uint8_t* data, size_t size) {
  std::map<std::string, std::string> entries;
  size_t pos = 0;
  while (pos < size) {
    if (entries.size() >= kMaxEntries)
      return Error{ErrorCode::kSecretStoreCorrupt, "too many entries"};
    if (size - pos < 2)
      return Error{ErrorCode::kSecretStoreCorrupt, "truncated key length"};
    const size_t key_size = (size_t{data[pos]} << 8) | data[pos + 1];
    pos += 2;
    if (key_size == 0 || key_size > kMaxKeySize || size - pos < key_size)
      return Error{ErrorCode::kSecretStoreCorrupt, "bad key length"};
    std::string key(reinterpret_cast<const char*>(data + pos), key_size);
    pos += key_size;
    if (size - pos < 4)
      return Error{ErrorCode::kSecretStoreCorrupt, "truncated value length"};
    const size_t value_size = (size_t{data[pos]} << 24) | (size_t{data[pos + 1]} << 16) |
                              (size_t{data[pos + 2]} << 8) | data[pos + 3];
    pos += 4;
    if (value_size > kMaxValueSize || size - pos < value_size)
      return Error{ErrorCode::kSecretStoreCorrupt, "bad value length"};
    std::string value(reinterpret_cast<const char*>(data + pos), value_size);
    pos += value_size;
    if (!entries.emplace(std::move(key), std::move(value)).second)
      return Error{ErrorCode::kSecretStoreCorrupt, "duplicate key"};
  }
  return entries;
}

EncryptedFileSecretStore::EncryptedFileSecretStore(std::string dir) : dir_(std::move(dir)) {}

std::string EncryptedFileSecretStore::ProtectionDescription() const {
  return "Passwords are encrypted (AES-256-GCM) in " + data_path() +
         "; the key is in secrets.key in the same folder, readable only by your user "
         "account. Anyone who can read that folder (your account, or whoever holds the "
         "portable drive) can read them.";
}

Expected<std::map<std::string, std::string>> EncryptedFileSecretStore::ReadAll() {
  auto data = policy_file::ReadSmallFile(data_path(), kMaxFileSize);
  if (!data.ok())
    return Error{ErrorCode::kSecretStoreFailed, data.error().message};
  if (!data->has_value())
    return std::map<std::string, std::string>{};
  const std::string& blob = **data;
  auto key = policy_file::ReadSmallFile(key_path(), kKeySize + 1);
  if (!key.ok())
    return Error{ErrorCode::kSecretStoreFailed, key.error().message};
  if (!key->has_value())
    return Corrupt(data_path(), "its key file " + key_path() + " is missing");
  if ((*key)->size() != kKeySize)
    return Corrupt(data_path(), "its key file " + key_path() + " has the wrong size");
  if (blob.size() < kMagicSize + kNonceSize + kTagSize ||
      std::memcmp(blob.data(), kMagic, kMagicSize) != 0) {
    return Corrupt(data_path(), "not a Lifeline secrets file");
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(blob.data());
  const uint8_t* nonce = bytes + kMagicSize;
  const uint8_t* cipher = nonce + kNonceSize;
  const size_t cipher_size = blob.size() - kMagicSize - kNonceSize - kTagSize;
  const uint8_t* tag = cipher + cipher_size;

  std::vector<uint8_t> plain(cipher_size + 1);
  Wipe wipe{&plain};
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  const auto* key_bytes = reinterpret_cast<const uint8_t*>((*key)->data());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_bytes, nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const uint8_t*>(kMagic),
                        kMagicSize) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, cipher, static_cast<int>(cipher_size)) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, const_cast<uint8_t*>(tag)) !=
          1 ||
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &final_len) != 1) {
    OPENSSL_cleanse((*key)->data(), (*key)->size());
    return Corrupt(data_path(), "authentication failed (damaged, or the key does not match)");
  }
  OPENSSL_cleanse((*key)->data(), (*key)->size());
  auto entries = DecodeSecretEntries(plain.data(), static_cast<size_t>(len + final_len));
  if (!entries.ok())
    return Corrupt(data_path(), entries.error().message);
  return entries;
}

Status EncryptedFileSecretStore::WriteAll(const std::map<std::string, std::string>& entries) {
  auto key = policy_file::ReadSmallFile(key_path(), kKeySize + 1);
  if (!key.ok())
    return Status(ErrorCode::kSecretStoreFailed, key.error().message);
  std::string key_bytes;
  if (key->has_value()) {
    key_bytes = **key;
    OPENSSL_cleanse((*key)->data(), (*key)->size());
    if (key_bytes.size() != kKeySize)
      return Corrupt(data_path(), "its key file " + key_path() + " has the wrong size");
  } else {
    key_bytes.resize(kKeySize);
    if (RAND_bytes(reinterpret_cast<uint8_t*>(key_bytes.data()), kKeySize) != 1)
      return Status(ErrorCode::kSecretStoreFailed, "no random bytes for a new key");
    if (Status st = policy_file::WriteFileAtomically(key_path(), key_bytes); !st.ok()) {
      OPENSSL_cleanse(key_bytes.data(), key_bytes.size());
      return Status(ErrorCode::kSecretStoreFailed, st.error().message);
    }
  }
  std::vector<uint8_t> plain = EncodeSecretEntries(entries);
  Wipe wipe{&plain};
  std::string blob(kMagic, kMagicSize);
  blob.resize(kMagicSize + kNonceSize + plain.size() + kTagSize);
  auto* out = reinterpret_cast<uint8_t*>(blob.data());
  uint8_t* nonce = out + kMagicSize;
  uint8_t* cipher = nonce + kNonceSize;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  const bool ok =
      RAND_bytes(nonce, kNonceSize) == 1 && ctx &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr,
                         reinterpret_cast<const uint8_t*>(key_bytes.data()), nonce) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const uint8_t*>(kMagic),
                        kMagicSize) == 1 &&
      EVP_EncryptUpdate(ctx.get(), cipher, &len, plain.data(), static_cast<int>(plain.size())) ==
          1 &&
      EVP_EncryptFinal_ex(ctx.get(), cipher + len, &final_len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, cipher + plain.size()) == 1;
  OPENSSL_cleanse(key_bytes.data(), key_bytes.size());
  if (!ok)
    return Status(ErrorCode::kSecretStoreFailed, "encryption failed");
  if (Status st = policy_file::WriteFileAtomically(data_path(), blob); !st.ok())
    return Status(ErrorCode::kSecretStoreFailed, st.error().message);
  return Status::Ok();
}

Status EncryptedFileSecretStore::Store(const std::string& key, const std::string& secret) {
  if (key.empty() || key.size() > kMaxKeySize || secret.size() > kMaxValueSize)
    return Status(ErrorCode::kSecretStoreFailed, "secret key or value too long: " + key);
  auto entries = ReadAll();
  if (!entries.ok())
    return entries.error();
  (*entries)[key] = secret;
  if (entries->size() > kMaxEntries)
    return Status(ErrorCode::kSecretStoreFailed, "too many secrets");
  Status st = WriteAll(*entries);
  for (auto& [k, v] : *entries)
    OPENSSL_cleanse(v.data(), v.size());
  return st;
}

Expected<std::optional<std::string>> EncryptedFileSecretStore::Lookup(const std::string& key) {
  auto entries = ReadAll();
  if (!entries.ok())
    return entries.error();
  std::optional<std::string> found;
  for (auto& [k, v] : *entries) {
    if (k == key)
      found = v;
    OPENSSL_cleanse(v.data(), v.size());
  }
  return found;
}

Status EncryptedFileSecretStore::Remove(const std::string& key) {
  auto entries = ReadAll();
  if (!entries.ok())
    return entries.error();
  Status st = Status::Ok();
  if (entries->erase(key) > 0)
    st = WriteAll(*entries);
  for (auto& [k, v] : *entries)
    OPENSSL_cleanse(v.data(), v.size());
  return st;
}

}  // namespace lifeline
