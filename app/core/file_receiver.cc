#include "app/core/file_receiver.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "base/utf8.h"

namespace lifeline {
namespace {

constexpr size_t kMaxNameBytes = 255;

std::string SystemError(int error) {
  return std::strerror(error);
}

bool IsReservedDeviceName(std::string_view name) {
  // The part before the first dot: "nul.txt" is as reserved as "NUL" on Windows.
  const std::string_view stem = name.substr(0, name.find('.'));
  for (std::string_view reserved : {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}) {
    if (EqualsIgnoreAsciiCase(stem, reserved))
      return true;
  }
  if (stem.size() == 4 && (EqualsIgnoreAsciiCase(stem.substr(0, 3), "COM") ||
                           EqualsIgnoreAsciiCase(stem.substr(0, 3), "LPT"))) {
    return stem[3] >= '0' && stem[3] <= '9';
  }
  return false;
}

Status Refused(std::string_view name, const std::string& why) {
  // The name may hold control characters: never echo it raw.
  std::string shown;
  for (char c : name.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    shown += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return Status(ErrorCode::kFileNameRefused, "file name '" + shown + "' refused: " + why);
}

// SHA-256 over data given in pieces (OpenSSL EVP, freed with the object).
class Sha256Context {
 public:
  Sha256Context() { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256Context() { EVP_MD_CTX_free(ctx_); }
  Sha256Context(const Sha256Context&) = delete;
  Sha256Context& operator=(const Sha256Context&) = delete;
  void Update(const void* data, size_t size) { EVP_DigestUpdate(ctx_, data, size); }
  std::array<uint8_t, 32> Final() {
    std::array<uint8_t, 32> digest{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_, digest.data(), &size);
    return digest;
  }

 private:
  EVP_MD_CTX* ctx_ = EVP_MD_CTX_new();
};

}  // namespace

Status ValidateTransferName(std::string_view name) {
  if (name.empty())
    return Refused(name, "it is empty");
  if (name.size() > kMaxNameBytes)
    return Refused(name, "it is longer than 255 bytes");
  if (!IsValidUtf8(name))
    return Refused(name, "it is not valid UTF-8");
  if (name == "." || name == "..")
    return Refused(name, "it names a folder");
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      return Refused(name, "it contains control characters");
    if (c == '/' || c == '\\')
      return Refused(name, "it contains a path separator");
    if (c == ':')
      return Refused(name, "it contains ':' (drive letter or alternate data stream)");
  }
  if (name.back() == '.' || name.back() == ' ')
    return Refused(name, "it ends with a dot or a space");
  if (IsReservedDeviceName(name))
    return Refused(name, "it is a reserved device name");
  if (name.size() >= kPartFileSuffix.size() &&
      name.substr(name.size() - kPartFileSuffix.size()) == kPartFileSuffix) {
    return Refused(name, "it ends with the suffix of unfinished transfers");
  }
  return Status::Ok();
}

// ---- ReceiveFolder ----

Expected<std::unique_ptr<ReceiveFolder>> ReceiveFolder::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Error{ErrorCode::kFileIo,
                 "cannot open the receive folder " + path + ": " + SystemError(errno)};
  }
  return std::unique_ptr<ReceiveFolder>(new ReceiveFolder(fd, path));
}

ReceiveFolder::~ReceiveFolder() {
  close(fd_);
}

bool ReceiveFolder::Contains(const std::string& name) const {
  struct stat st {};
  return fstatat(fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

std::string PartFileName(const std::string& name, const std::array<uint8_t, 32>& sha256) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string part = name + ".";
  for (size_t i = 0; i < 8; ++i) {
    part += kHex[sha256[i] >> 4];
    part += kHex[sha256[i] & 15];
  }
  return part + std::string(kPartFileSuffix);
}

int64_t ReceiveFolder::PartialSize(const std::string& name,
                                   const std::array<uint8_t, 32>& sha256) const {
  struct stat st {};
  const std::string part = PartFileName(name, sha256);
  if (fstatat(fd_, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
    return -1;
  return static_cast<int64_t>(st.st_size);
}

// ---- FileReceiver ----

namespace {

// The name is safe, and an existing file of that name may be replaced.
Status CheckTarget(const ReceiveFolder& folder, const std::string& name, ReplacePolicy replace) {
  if (Status st = ValidateTransferName(name); !st.ok())
    return st;
  if (replace == ReplacePolicy::kNeverReplace && folder.Contains(name)) {
    return Status(ErrorCode::kFileExists,
                  name + " already exists in " + folder.path() + " and is kept");
  }
  return Status::Ok();
}

}  // namespace

struct FileReceiver::Hasher : Sha256Context {};

FileReceiver::FileReceiver(int dir_fd,
                           std::string name,
                           uint64_t expected_size,
                           const std::array<uint8_t, 32>& sha256,
                           ReplacePolicy replace,
                           WriteFunction write,
                           int fd)
    : dir_fd_(dir_fd),
      name_(std::move(name)),
      part_name_(PartFileName(name_, sha256)),
      expected_size_(expected_size),
      sha256_(sha256),
      replace_(replace),
      write_(write ? std::move(write) : WriteFunction([](int f, const void* d, size_t n) {
        return ::write(f, d, n);
      })),
      fd_(fd),
      hasher_(std::make_unique<Hasher>()) {}

FileReceiver::~FileReceiver() {
  if (fd_ >= 0)
    close(fd_);
}

Expected<std::unique_ptr<FileReceiver>> FileReceiver::Create(const ReceiveFolder& folder,
                                                             const std::string& name,
                                                             uint64_t expected_size,
                                                             const std::array<uint8_t, 32>& sha256,
                                                             ReplacePolicy replace,
                                                             WriteFunction write) {
  if (Status st = CheckTarget(folder, name, replace); !st.ok())
    return st.error();
  const std::string part = PartFileName(name, sha256);
  // O_EXCL|O_NOFOLLOW: whatever is already there (a file, a symlink planted to redirect
  // the write) makes this fail; nothing is followed or truncated.
  const int fd =
      openat(folder.fd(), part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST || error == ELOOP) {
      return Error{ErrorCode::kFileExists,
                   part + " already exists in " + folder.path() + " (not followed, not replaced)"};
    }
    if (error == ENOSPC || error == EDQUOT)
      return Error{ErrorCode::kDiskFull, "no space to create " + part + " in " + folder.path()};
    return Error{ErrorCode::kFileIo, "cannot create " + part + ": " + SystemError(error)};
  }
  return std::unique_ptr<FileReceiver>(
      new FileReceiver(folder.fd(), name, expected_size, sha256, replace, std::move(write), fd));
}

Expected<std::unique_ptr<FileReceiver>> FileReceiver::Resume(const ReceiveFolder& folder,
                                                             const std::string& name,
                                                             uint64_t expected_size,
                                                             const std::array<uint8_t, 32>& sha256,
                                                             ReplacePolicy replace,
                                                             WriteFunction write) {
  if (Status st = CheckTarget(folder, name, replace); !st.ok())
    return st.error();
  const std::string part = PartFileName(name, sha256);
  const int fd = openat(folder.fd(), part.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return Error{ErrorCode::kFileIo, "cannot reopen " + part + ": " + SystemError(errno)};
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
      static_cast<uint64_t>(st.st_size) > expected_size) {
    close(fd);
    return Error{ErrorCode::kFileIo, part + " is not a resumable part file"};
  }
  std::unique_ptr<FileReceiver> receiver(
      new FileReceiver(folder.fd(), name, expected_size, sha256, replace, std::move(write), fd));
  // Re-hash what is already there.
  std::vector<uint8_t> buffer(1 << 20);
  uint64_t done = 0;
  while (done < static_cast<uint64_t>(st.st_size)) {
    const ssize_t n = pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(done));
    if (n <= 0)
      return Error{ErrorCode::kFileIo, "cannot read " + part + ": " + SystemError(errno)};
    receiver->hasher_->Update(buffer.data(), static_cast<size_t>(n));
    done += static_cast<uint64_t>(n);
  }
  if (lseek(fd, static_cast<off_t>(done), SEEK_SET) < 0)
    return Error{ErrorCode::kFileIo, "cannot seek in " + part};
  receiver->offset_ = done;
  return receiver;
}

Status FileReceiver::Fail(Status error) {
  Abort();
  return error;
}

void FileReceiver::Abort() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (!done_) {
    unlinkat(dir_fd_, part_name_.c_str(), 0);
    done_ = true;
  }
}

Status FileReceiver::Write(std::span<const uint8_t> data) {
  if (fd_ < 0 || done_)
    return Status(ErrorCode::kInvalidArgument, "the transfer of " + name_ + " is over");
  if (data.size() > expected_size_ - offset_) {
    return Fail(
        Status(ErrorCode::kInvalidArgument, "more data than the announced size of " + name_));
  }
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write_(fd_, data.data() + written, data.size() - written);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR)
        continue;
      if (error == ENOSPC || error == EDQUOT) {
        return Fail(Status(ErrorCode::kDiskFull, "the disk is full: " + name_ +
                                                     " could not be received (the partial "
                                                     "file was removed)"));
      }
      return Fail(Status(ErrorCode::kFileIo, "cannot write " + name_ + ": " + SystemError(error)));
    }
    if (n == 0)
      return Fail(Status(ErrorCode::kFileIo, "cannot write " + name_ + ": no progress"));
    written += static_cast<size_t>(n);
  }
  hasher_->Update(data.data(), data.size());
  offset_ += data.size();
  return Status::Ok();
}

Status FileReceiver::Finish() {
  if (fd_ < 0 || done_)
    return Status(ErrorCode::kInvalidArgument, "the transfer of " + name_ + " is over");
  if (offset_ != expected_size_) {
    return Fail(Status(ErrorCode::kFileIo, name_ + " ended after " + std::to_string(offset_) +
                                               " of " + std::to_string(expected_size_) + " bytes"));
  }
  if (hasher_->Final() != sha256_) {
    return Fail(Status(ErrorCode::kFileChecksumMismatch,
                       name_ + " arrived damaged (SHA-256 differs) and was removed"));
  }
  if (fsync(fd_) != 0) {
    const int error = errno;
    if (error == ENOSPC || error == EDQUOT)
      return Fail(Status(ErrorCode::kDiskFull, "the disk is full: " + name_ + " was removed"));
    return Fail(Status(ErrorCode::kFileIo, "cannot save " + name_ + ": " + SystemError(error)));
  }
  close(fd_);
  fd_ = -1;
  const unsigned int flags = replace_ == ReplacePolicy::kReplaceAgreed ? 0 : RENAME_NOREPLACE;
  if (renameat2(dir_fd_, part_name_.c_str(), dir_fd_, name_.c_str(), flags) != 0) {
    const int error = errno;
    Status status = error == EEXIST
                        ? Status(ErrorCode::kFileExists, name_ + " appeared meanwhile and is kept")
                        : Status(ErrorCode::kFileIo,
                                 "cannot move " + name_ + " into place: " + SystemError(error));
    return Fail(std::move(status));
  }
  done_ = true;
  return Status::Ok();
}

Expected<std::array<uint8_t, 32>> Sha256OfFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Error{ErrorCode::kFileIo, "cannot open " + path + ": " + SystemError(errno)};
  Sha256Context hasher;
  std::vector<uint8_t> buffer(1 << 20);
  ssize_t n = 0;
  while ((n = read(fd, buffer.data(), buffer.size())) > 0)
    hasher.Update(buffer.data(), static_cast<size_t>(n));
  const bool failed = n < 0;
  close(fd);
  if (failed)
    return Error{ErrorCode::kFileIo, "cannot read " + path};
  return hasher.Final();
}

}  // namespace lifeline
