#include "net/tls/device_identity.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "net/posix_util.h"
#include "net/scoped_fd.h"

namespace lifeline {
namespace {

using net_internal::ErrnoText;
using openssl::BignumPtr;
using openssl::BioPtr;
using openssl::EvpPkeyPtr;
using openssl::OpenSslBytesPtr;
using openssl::OpenSslErrorReason;
using openssl::X509Ptr;

constexpr char kCommonName[] = "lifeline-device";
constexpr int kValidityDays = 20 * 365 + 5;  // 20 years, leap days included.
// notBefore lies a day in the past so a peer whose clock is a little behind sees a valid
// certificate (validity is not checked anyway; see TlsTransport's verify callback).
constexpr long kBackdateSeconds = 24 * 60 * 60;
constexpr size_t kSerialBytes = 16;
// PEM files of an Ed25519 key or certificate are well under 1 KiB.
constexpr size_t kMaxFileBytes = 64 * 1024;
constexpr int kMaxCreationAttempts = 3;

Error Internal(std::string_view what) {
  return Error{ErrorCode::kInternal, fmt::format("{}: {}", what, OpenSslErrorReason())};
}

// Refuses every passphrase prompt: an encrypted PEM file is reported as invalid instead of
// blocking on the terminal.
int NoPassphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user_data*/) {
  return -1;
}

// File contents, wiped on destruction (the key file holds the private key).
class FileBytes {
 public:
  FileBytes() : bytes_(kMaxFileBytes + 1) {}  // Never reallocated: no stray copies.
  FileBytes(FileBytes&&) = default;
  FileBytes& operator=(FileBytes&&) = default;
  ~FileBytes() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  size_t capacity() const { return bytes_.size(); }
  size_t size() const { return size_; }
  void set_size(size_t size) { size_ = size; }

 private:
  std::vector<uint8_t> bytes_;
  size_t size_ = 0;
};

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0x0f];
  }
  return out;
}

Expected<EvpPkeyPtr> GenerateKey() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key)
    return Internal("cannot generate an Ed25519 key");
  return key;
}

// A self-signed certificate for `key`: CN "lifeline-device", random positive serial,
// valid from a day ago for 20 years, no extensions. Ed25519 signs without a separate
// digest, hence X509_sign(..., nullptr).
Expected<X509Ptr> MakeCertificate(EVP_PKEY* key) {
  X509Ptr certificate(X509_new());
  if (!certificate)
    return Internal("cannot allocate a certificate");
  uint8_t serial[kSerialBytes];
  if (RAND_bytes(serial, sizeof(serial)) != 1)
    return Internal("cannot make a certificate serial number");
  serial[0] = static_cast<uint8_t>((serial[0] & 0x7f) | 0x40);  // Positive, not zero.
  BignumPtr serial_number(BN_bin2bn(serial, sizeof(serial), nullptr));
  X509_NAME* name = X509_get_subject_name(certificate.get());
  if (!serial_number || X509_set_version(certificate.get(), X509_VERSION_3) != 1 ||
      BN_to_ASN1_INTEGER(serial_number.get(), X509_get_serialNumber(certificate.get())) ==
          nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -kBackdateSeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(certificate.get()), kValidityDays, 0, nullptr) ==
          nullptr ||
      name == nullptr ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(kCommonName), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(certificate.get(), name) != 1 ||
      X509_set_pubkey(certificate.get(), key) != 1) {
    return Internal("cannot fill in the device certificate");
  }
  if (X509_sign(certificate.get(), key, nullptr) <= 0)
    return Internal("cannot sign the device certificate");
  return certificate;
}

std::string PathIn(const std::string& dir, std::string_view name) {
  return fmt::format("{}/{}", dir, name);
}

// Creates `dir` and missing parents with mode 0700; checks that the folder is ours and
// not writable by others (else they could swap our files).
Status EnsurePrivateDir(const std::string& dir) {
  struct stat info {};
  if (stat(dir.c_str(), &info) != 0) {
    if (errno != ENOENT) {
      return Status(ErrorCode::kIdentityIo,
                    fmt::format("cannot access the identity folder {}: {}", dir, ErrnoText(errno)));
    }
    for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
      const std::string prefix = dir.substr(0, slash);
      if (!prefix.empty() && mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
        return Status(ErrorCode::kIdentityIo,
                      fmt::format("cannot create the folder {}: {}", prefix, ErrnoText(errno)));
      }
      if (slash == std::string::npos)
        break;
    }
    if (stat(dir.c_str(), &info) != 0) {
      return Status(ErrorCode::kIdentityIo,
                    fmt::format("cannot access the identity folder {}: {}", dir, ErrnoText(errno)));
    }
  }
  if (!S_ISDIR(info.st_mode)) {
    return Status(ErrorCode::kIdentityIo,
                  fmt::format("the identity folder {} is not a folder", dir));
  }
  if (info.st_uid != geteuid() || (info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Status(ErrorCode::kIdentityIo,
                  fmt::format("refusing to keep the device key in {}: the folder is not owned by "
                              "this user or is writable by others (chmod 700 it)",
                              dir));
  }
  return Status::Ok();
}

// Reads `path`, which must be a regular file owned by us, not a symlink, at most
// kMaxFileBytes; with `secret`, also without group or other permissions. nullopt when it
// does not exist.
Expected<std::optional<FileBytes>> ReadIdentityFile(const std::string& path, bool secret) {
  ScopedFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) {
    if (errno == ENOENT)
      return std::optional<FileBytes>();
    if (errno == ELOOP) {
      return Error{ErrorCode::kIdentityIo,
                   fmt::format("refusing to read {}: it is a symbolic link", path)};
    }
    return Error{ErrorCode::kIdentityIo, fmt::format("cannot open {}: {}", path, ErrnoText(errno))};
  }
  struct stat info {};
  if (fstat(fd.get(), &info) != 0)
    return Error{ErrorCode::kIdentityIo, fmt::format("cannot stat {}: {}", path, ErrnoText(errno))};
  if (!S_ISREG(info.st_mode)) {
    return Error{ErrorCode::kIdentityIo,
                 fmt::format("refusing to read {}: not a regular file", path)};
  }
  if (info.st_uid != geteuid()) {
    return Error{ErrorCode::kIdentityIo,
                 fmt::format("refusing to use {}: it belongs to another user", path)};
  }
  if (secret && (info.st_mode & 077) != 0) {
    return Error{ErrorCode::kIdentityIo,
                 fmt::format("refusing to use {}: other users may read it (mode {:03o}); "
                             "chmod 600 it or remove it",
                             path, info.st_mode & 0777)};
  }
  FileBytes bytes;
  size_t length = 0;
  while (length < bytes.capacity()) {
    const ssize_t n = read(fd.get(), bytes.data() + length, bytes.capacity() - length);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error{ErrorCode::kIdentityIo,
                   fmt::format("cannot read {}: {}", path, ErrnoText(errno))};
    }
    if (n == 0)
      break;
    length += static_cast<size_t>(n);
  }
  if (length > kMaxFileBytes) {
    return Error{ErrorCode::kIdentityInvalid,
                 fmt::format("{} is corrupt: larger than {} bytes", path, kMaxFileBytes)};
  }
  bytes.set_size(length);
  return std::optional<FileBytes>(std::move(bytes));
}

enum class WriteOutcome { kWritten, kAlreadyExists };

// Writes `data` to dir/name with `mode` unless that name exists: to a fresh temporary file
// (O_CREAT|O_EXCL|O_NOFOLLOW), fsync, then a rename that never replaces (renameat2
// RENAME_NOREPLACE, or link() where unsupported), then fsync of the folder.
Expected<WriteOutcome> WriteNewFile(const std::string& dir,
                                    std::string_view name,
                                    std::span<const uint8_t> data,
                                    mode_t mode) {
  const std::string path = PathIn(dir, name);
  auto io_error = [&](std::string_view what, int error_number) {
    return Error{ErrorCode::kIdentityIo,
                 fmt::format("cannot {} {}: {}", what, path, ErrnoText(error_number))};
  };
  std::string temp_path;
  ScopedFd fd;
  for (int attempt = 0; attempt < 8 && !fd.valid(); ++attempt) {
    uint8_t random[6];
    if (RAND_bytes(random, sizeof(random)) != 1)
      return Internal("cannot make a temporary file name");
    temp_path = PathIn(dir, fmt::format(".{}.{}.tmp", name, ToHex(random)));
    fd.reset(open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd.valid() && errno != EEXIST)
      return io_error("create a temporary file for", errno);
  }
  if (!fd.valid())
    return io_error("create a temporary file for", EEXIST);

  // Removes the temporary file on every failure below.
  struct TempRemover {
    const std::string* path;
    ~TempRemover() {
      if (path != nullptr)
        unlink(path->c_str());
    }
  } remover{&temp_path};

  // The umask may only remove bits; make the mode exact.
  if (fchmod(fd.get(), mode) != 0)
    return io_error("set the permissions of", errno);
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd.get(), data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return io_error("write", errno);
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) != 0)
    return io_error("sync", errno);
  if (close(fd.release()) != 0)
    return io_error("write", errno);

  if (renameat2(AT_FDCWD, temp_path.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST)
      return WriteOutcome::kAlreadyExists;
    if (errno != EINVAL && errno != ENOSYS)
      return io_error("create", errno);
    // The file system cannot rename without replacing: link() also refuses to replace.
    if (link(temp_path.c_str(), path.c_str()) != 0) {
      if (errno == EEXIST)
        return WriteOutcome::kAlreadyExists;
      return io_error("create", errno);
    }
  } else {
    remover.path = nullptr;  // Renamed away.
  }
  ScopedFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid() || fsync(dir_fd.get()) != 0)
    log::Warning("could not sync the folder {} after writing {}", dir, name);
  return WriteOutcome::kWritten;
}

Expected<WriteOutcome> WriteKeyFile(const std::string& dir, EVP_PKEY* key) {
  // The secure-memory BIO wipes its buffer when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Internal("cannot encode the device key");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  if (length <= 0 || data == nullptr)
    return Internal("cannot encode the device key");
  return WriteNewFile(
      dir, kDeviceKeyFileName,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(length)),
      0600);
}

Expected<WriteOutcome> WriteCertificateFile(const std::string& dir, X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1)
    return Internal("cannot encode the device certificate");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  if (length <= 0 || data == nullptr)
    return Internal("cannot encode the device certificate");
  return WriteNewFile(
      dir, kDeviceCertFileName,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(length)),
      0644);
}

Expected<EvpPkeyPtr> ParseKey(const FileBytes& bytes, const std::string& path) {
  BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (!bio)
    return Internal("cannot allocate a buffer");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return Error{ErrorCode::kIdentityInvalid,
                 fmt::format("{} is corrupt or encrypted: not a PEM private key ({})", path,
                             OpenSslErrorReason("no PEM data"))};
  }
  if (!EVP_PKEY_is_a(key.get(), "ED25519")) {
    return Error{ErrorCode::kIdentityInvalid,
                 fmt::format("{} holds a {} key; a device key must be Ed25519", path,
                             EVP_PKEY_get0_type_name(key.get()) != nullptr
                                 ? EVP_PKEY_get0_type_name(key.get())
                                 : "different")};
  }
  return key;
}

Expected<X509Ptr> ParseCertificate(const FileBytes& bytes, const std::string& path) {
  BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (!bio)
    return Internal("cannot allocate a buffer");
  X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!certificate) {
    return Error{ErrorCode::kIdentityInvalid,
                 fmt::format("{} is corrupt: not a PEM certificate ({})", path,
                             OpenSslErrorReason("no PEM data"))};
  }
  return certificate;
}

}  // namespace

DeviceIdentity::DeviceIdentity(EvpPkeyPtr key, X509Ptr certificate)
    : key_(std::move(key)),
      certificate_(std::move(certificate)),
      fingerprint_(FingerprintOf(certificate_.get())) {}

DeviceIdentity::~DeviceIdentity() = default;

// static
Expected<DeviceIdentity> DeviceIdentity::CreateEphemeral() {
  auto key = GenerateKey();
  if (!key.ok())
    return key.error();
  auto certificate = MakeCertificate(key->get());
  if (!certificate.ok())
    return certificate.error();
  return DeviceIdentity(std::move(key).value(), std::move(certificate).value());
}

// static
Expected<DeviceIdentity> DeviceIdentity::LoadOrCreate(const std::string& dir) {
  if (dir.empty())
    return Error{ErrorCode::kInvalidArgument, "no folder given for the device identity"};
  if (Status status = EnsurePrivateDir(dir); !status.ok())
    return status.error();
  const std::string key_path = PathIn(dir, kDeviceKeyFileName);
  const std::string cert_path = PathIn(dir, kDeviceCertFileName);

  // Each pass either returns or found that another process created a file meanwhile;
  // then the next pass loads what it wrote.
  for (int attempt = 0; attempt < kMaxCreationAttempts; ++attempt) {
    auto key_bytes = ReadIdentityFile(key_path, /*secret=*/true);
    if (!key_bytes.ok())
      return key_bytes.error();
    auto cert_bytes = ReadIdentityFile(cert_path, /*secret=*/false);
    if (!cert_bytes.ok())
      return cert_bytes.error();

    if (!key_bytes->has_value()) {
      if (cert_bytes->has_value()) {
        return Error{ErrorCode::kIdentityInvalid,
                     fmt::format("{} exists but {} does not: the device key is lost; move the "
                                 "certificate away to create a new device identity",
                                 cert_path, key_path)};
      }
      auto created = CreateEphemeral();
      if (!created.ok())
        return created.error();
      auto key_written = WriteKeyFile(dir, created->private_key());
      if (!key_written.ok())
        return key_written.error();
      if (*key_written == WriteOutcome::kAlreadyExists)
        continue;
      auto cert_written = WriteCertificateFile(dir, created->certificate());
      if (!cert_written.ok())
        return cert_written.error();
      if (*cert_written == WriteOutcome::kAlreadyExists)
        continue;
      log::Info("created a new device identity in {} (fingerprint {})", dir,
                ShortFingerprint(created->fingerprint()));
      return created;
    }

    auto key = ParseKey(**key_bytes, key_path);
    if (!key.ok())
      return key.error();
    if (!cert_bytes->has_value()) {
      // The certificate only wraps the key: recreate it (the fingerprint stays).
      auto certificate = MakeCertificate(key->get());
      if (!certificate.ok())
        return certificate.error();
      auto cert_written = WriteCertificateFile(dir, certificate->get());
      if (!cert_written.ok())
        return cert_written.error();
      if (*cert_written == WriteOutcome::kAlreadyExists)
        continue;
      log::Info("recreated the missing device certificate {}", cert_path);
      return DeviceIdentity(std::move(key).value(), std::move(certificate).value());
    }
    auto certificate = ParseCertificate(**cert_bytes, cert_path);
    if (!certificate.ok())
      return certificate.error();
    if (X509_check_private_key(certificate->get(), key->get()) != 1) {
      ERR_clear_error();
      return Error{ErrorCode::kIdentityInvalid,
                   fmt::format("{} does not belong to the key in {}", cert_path, key_path)};
    }
    return DeviceIdentity(std::move(key).value(), std::move(certificate).value());
  }
  return Error{ErrorCode::kIdentityIo,
               fmt::format("the device identity files in {} kept changing while loading", dir)};
}

// static
std::string DeviceIdentity::FingerprintOf(X509* certificate) {
  if (certificate == nullptr)
    return "";
  X509_PUBKEY* public_key = X509_get_X509_PUBKEY(certificate);
  if (public_key == nullptr)
    return "";
  unsigned char* der = nullptr;
  const int length = i2d_X509_PUBKEY(public_key, &der);
  OpenSslBytesPtr owned(der);
  if (length <= 0 || der == nullptr) {
    ERR_clear_error();
    return "";
  }
  return FingerprintOfSpki(std::span<const uint8_t>(der, static_cast<size_t>(length)));
}

// static
std::string DeviceIdentity::FingerprintOfSpki(std::span<const uint8_t> spki_der) {
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (EVP_Digest(spki_der.data(), spki_der.size(), digest, &digest_length, EVP_sha256(), nullptr) !=
      1) {
    ERR_clear_error();
    return "";
  }
  return ToHex(std::span<const uint8_t>(digest, digest_length));
}

std::string ShortFingerprint(std::string_view fingerprint) {
  constexpr size_t kShownDigits = 16;
  constexpr size_t kGroupDigits = 4;
  std::string out;
  for (size_t i = 0; i < fingerprint.size() && i < kShownDigits; ++i) {
    if (i > 0 && i % kGroupDigits == 0)
      out += ' ';
    out += fingerprint[i];
  }
  return out;
}

std::string DeviceIdFromFingerprint(std::string_view fingerprint) {
  constexpr size_t kPrefixDigits = 16;  // 8 bytes.
  if (fingerprint.size() < kPrefixDigits)
    return "";
  uint64_t value = 0;
  for (size_t i = 0; i < kPrefixDigits; ++i) {
    const char c = fingerprint[i];
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint64_t>(c - 'A' + 10);
    } else {
      return "";
    }
    value = (value << 4) | digit;
  }
  return std::to_string(value % 900'000'000 + 100'000'000);
}

std::string FormatDeviceId(std::string_view device_id) {
  if (device_id.size() != 9 ||
      device_id.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::string(device_id);
  }
  return fmt::format("{} {} {}", device_id.substr(0, 3), device_id.substr(3, 3),
                     device_id.substr(6, 3));
}

}  // namespace lifeline
