// Receiving a file safely into the folder the host chose (security.md 2.9, requirement 20).
//
// ValidateTransferName() refuses every name that is not one plain file name: empty, "."
// and "..", path separators ('/' and '\'), drive letters and NTFS streams (':'), control
// characters, invalid UTF-8, reserved DOS device names (CON, NUL, COM1, LPT1... with any
// extension), trailing dots or spaces, more than 255 bytes. The sender's name is never
// joined to a path: files are opened with openat() relative to the folder's descriptor.
//
// FileReceiver writes `<name>.<sha256 prefix>.lifeline-part` (so a resumed transfer only
// continues the same file) with O_CREAT|O_EXCL|O_NOFOLLOW (a symlink or
// any file planted under that name is refused, never followed), hashes what it writes
// (SHA-256), and on Finish() compares the hash, fsyncs and renames the part file to its
// name with RENAME_NOREPLACE unless the host agreed to replace an existing file. Any
// failure (disk full, checksum mismatch, I/O error) removes the part file; a transfer cut
// by a lost connection keeps it so that Resume() can continue at its size.
//
// Errors: kFileNameRefused, kFileExists, kDiskFull, kFileChecksumMismatch, kFileIo (with
// the system's reason).
//
// Threading: one thread per receiver.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace lifeline {

inline constexpr std::string_view kPartFileSuffix = ".lifeline-part";

Status ValidateTransferName(std::string_view name);

// An open directory (O_DIRECTORY | O_PATH-like); files are created only inside it.
class ReceiveFolder {
 public:
  // Error kFileIo when `path` is not a directory that can be opened.
  static Expected<std::unique_ptr<ReceiveFolder>> Open(const std::string& path);
  ~ReceiveFolder();
  ReceiveFolder(const ReceiveFolder&) = delete;
  ReceiveFolder& operator=(const ReceiveFolder&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // True when `name` (validated) exists in the folder (any type, links not followed).
  bool Contains(const std::string& name) const;
  // Size of the part file an interrupted transfer of this file left, or -1.
  int64_t PartialSize(const std::string& name, const std::array<uint8_t, 32>& sha256) const;

 private:
  ReceiveFolder(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

enum class ReplacePolicy { kNeverReplace, kReplaceAgreed };

// The write system call, replaceable in tests to simulate a full disk.
using WriteFunction = std::function<ssize_t(int fd, const void* data, size_t size)>;

class FileReceiver {
 public:
  // Starts a new part file. `expected_size` bounds what may be written.
  static Expected<std::unique_ptr<FileReceiver>> Create(const ReceiveFolder& folder,
                                                        const std::string& name,
                                                        uint64_t expected_size,
                                                        const std::array<uint8_t, 32>& sha256,
                                                        ReplacePolicy replace,
                                                        WriteFunction write = nullptr);
  // Continues the part file an interrupted transfer left (its bytes are re-hashed).
  // offset() tells where the sender must continue.
  static Expected<std::unique_ptr<FileReceiver>> Resume(const ReceiveFolder& folder,
                                                        const std::string& name,
                                                        uint64_t expected_size,
                                                        const std::array<uint8_t, 32>& sha256,
                                                        ReplacePolicy replace,
                                                        WriteFunction write = nullptr);
  ~FileReceiver();  // Keeps the part file unless Abort() or a failure removed it.

  // Appends `data` at offset(). More than expected_size in total is kInvalidArgument.
  // A full disk is kDiskFull and the part file is gone.
  Status Write(std::span<const uint8_t> data);
  // All bytes arrived: checks the SHA-256 announced at Create(), then moves the file
  // into place.
  Status Finish();
  // Removes the part file (the transfer was cancelled).
  void Abort();

  uint64_t offset() const { return offset_; }
  uint64_t expected_size() const { return expected_size_; }

 private:
  struct Hasher;
  FileReceiver(int dir_fd,
               std::string name,
               uint64_t expected_size,
               const std::array<uint8_t, 32>& sha256,
               ReplacePolicy replace,
               WriteFunction write,
               int fd);
  Status Fail(Status error);  // Removes the part file, returns `error`.

  const int dir_fd_;
  const std::string name_;
  const std::string part_name_;
  const uint64_t expected_size_;
  const std::array<uint8_t, 32> sha256_;
  const ReplacePolicy replace_;
  WriteFunction write_;
  int fd_;
  uint64_t offset_ = 0;
  std::unique_ptr<Hasher> hasher_;
  bool done_ = false;
};

// The part file's name for `name` with content `sha256`.
std::string PartFileName(const std::string& name, const std::array<uint8_t, 32>& sha256);

// SHA-256 of a whole file (for senders and tests). Error kFileIo.
Expected<std::array<uint8_t, 32>> Sha256OfFile(const std::string& path);

}  // namespace lifeline
