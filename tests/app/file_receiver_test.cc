// Receiving files safely: name rules, no link following, never overwriting without
// agreement, SHA-256 at the end, a full disk (fault seam and a real small tmpfs),
// resuming a cut transfer.
#include "app/core/file_receiver.h"

#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "app/core/file_transfer.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

using testing::ReadFileToString;
using testing::TempDir;
using testing::WriteStringToFile;
namespace fs = std::filesystem;

std::vector<uint8_t> Bytes(size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return bytes;
}

std::array<uint8_t, 32> Sha256Of(const std::vector<uint8_t>& bytes, const TempDir& dir) {
  const std::string path = dir.File("sha-input");
  WriteStringToFile(path, std::string(bytes.begin(), bytes.end()));
  auto sha = Sha256OfFile(path);
  REQUIRE(sha.ok());
  fs::remove(path);
  return *sha;
}

std::unique_ptr<ReceiveFolder> OpenFolder(const std::string& path) {
  fs::create_directories(path);
  auto folder = ReceiveFolder::Open(path);
  REQUIRE(folder.ok());
  return std::move(folder).value();
}

TEST_CASE("File names: only plain names pass", "[app][files]") {
  for (const char* good : {"report.pdf",
                           "Gr\xc3\xbc\xc3\x9f"
                           "e.txt",
                           ".bashrc", "a b c.tar.gz", "CONSOLE.txt", "com10", "lpt.txt"}) {
    INFO(good);
    CHECK(ValidateTransferName(good).ok());
  }
  const std::vector<std::string> bad = {"",
                                        ".",
                                        "..",
                                        "../etc/passwd",
                                        "/etc/passwd",
                                        "dir/file",
                                        "..\\windows\\system32",
                                        "C:evil",
                                        "file.txt:stream",
                                        std::string("nul\0byte", 8),
                                        "tab\there",
                                        "line\nbreak",
                                        "esc\x1b[31m",
                                        "del\x7f",
                                        "CON",
                                        "nul.txt",
                                        "Com1.log",
                                        "LPT9",
                                        "trailing.",
                                        "trailing ",
                                        std::string(256, 'a'),
                                        "\xc0\xaf",
                                        "x.lifeline-part"};
  for (const std::string& name : bad) {
    INFO("name bytes: " << name.size());
    const Status st = ValidateTransferName(name);
    CHECK(st.code() == ErrorCode::kFileNameRefused);
    // The message never carries raw control characters.
    for (char c : st.error().message)
      CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
  }
}

TEST_CASE("File receiver: a file arrives intact and only inside the folder", "[app][files]") {
  TempDir dir;
  auto folder = OpenFolder(dir.File("inbox"));
  const auto data = Bytes(100'000, 7);
  const auto sha = Sha256Of(data, dir);
  auto receiver =
      FileReceiver::Create(*folder, "data.bin", data.size(), sha, ReplacePolicy::kNeverReplace);
  REQUIRE(receiver.ok());
  CHECK(fs::exists(dir.File("inbox/" + PartFileName("data.bin", sha))));
  for (size_t offset = 0; offset < data.size(); offset += 16384) {
    const size_t n = std::min<size_t>(16384, data.size() - offset);
    REQUIRE((*receiver)->Write({data.data() + offset, n}).ok());
  }
  REQUIRE((*receiver)->Finish().ok());
  CHECK(ReadFileToString(dir.File("inbox/data.bin")) == std::string(data.begin(), data.end()));
  CHECK_FALSE(fs::exists(dir.File("inbox/" + PartFileName("data.bin", sha))));
  CHECK((fs::status(dir.File("inbox/data.bin")).permissions() & fs::perms::others_read) ==
        fs::perms::none);
  // Traversal never reaches the file system.
  auto evil = FileReceiver::Create(*folder, "../escaped", 1, sha, ReplacePolicy::kReplaceAgreed);
  CHECK(evil.error().code == ErrorCode::kFileNameRefused);
  CHECK_FALSE(fs::exists(dir.File("escaped")));
}

TEST_CASE("File receiver: a damaged file is removed", "[app][files]") {
  TempDir dir;
  auto folder = OpenFolder(dir.File("inbox"));
  const auto data = Bytes(5000, 1);
  auto wrong = Sha256Of(data, dir);
  wrong[0] ^= 1;
  auto receiver =
      FileReceiver::Create(*folder, "f", data.size(), wrong, ReplacePolicy::kNeverReplace);
  REQUIRE(receiver.ok());
  REQUIRE((*receiver)->Write(data).ok());
  CHECK((*receiver)->Finish().code() == ErrorCode::kFileChecksumMismatch);
  CHECK(fs::is_empty(dir.File("inbox")));
  // More than announced is refused too.
  auto small = FileReceiver::Create(*folder, "g", 10, wrong, ReplacePolicy::kNeverReplace);
  REQUIRE(small.ok());
  CHECK_FALSE((*small)->Write(Bytes(11, 0)).ok());
  CHECK(fs::is_empty(dir.File("inbox")));
}

TEST_CASE("File receiver: existing files are kept unless the host agreed", "[app][files]") {
  TempDir dir;
  auto folder = OpenFolder(dir.File("inbox"));
  WriteStringToFile(dir.File("inbox/notes.txt"), "the host's own notes");
  const std::vector<uint8_t> data = {'n', 'e', 'w'};
  const auto sha = Sha256Of(data, dir);
  auto refused = FileReceiver::Create(*folder, "notes.txt", 3, sha, ReplacePolicy::kNeverReplace);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kFileExists);
  CHECK(ReadFileToString(dir.File("inbox/notes.txt")) == "the host's own notes");

  auto agreed = FileReceiver::Create(*folder, "notes.txt", 3, sha, ReplacePolicy::kReplaceAgreed);
  REQUIRE(agreed.ok());
  REQUIRE((*agreed)->Write(data).ok());
  REQUIRE((*agreed)->Finish().ok());
  CHECK(ReadFileToString(dir.File("inbox/notes.txt")) == "new");
}

TEST_CASE("File receiver: symlinks planted in the folder are never followed", "[app][files]") {
  TempDir dir;
  auto folder = OpenFolder(dir.File("inbox"));
  WriteStringToFile(dir.File("victim"), "precious");
  const std::vector<uint8_t> data = {'x', 'y', 'z'};
  const auto sha = Sha256Of(data, dir);
  // A link where the part file would go.
  fs::create_symlink(dir.File("victim"), dir.File("inbox/" + PartFileName("a.txt", sha)));
  auto via_part = FileReceiver::Create(*folder, "a.txt", 3, sha, ReplacePolicy::kReplaceAgreed);
  REQUIRE_FALSE(via_part.ok());
  CHECK(via_part.error().code == ErrorCode::kFileExists);
  auto resumed = FileReceiver::Resume(*folder, "a.txt", 3, sha, ReplacePolicy::kReplaceAgreed);
  CHECK_FALSE(resumed.ok());  // O_NOFOLLOW: ELOOP.
  CHECK(ReadFileToString(dir.File("victim")) == "precious");

  // A link under the final name: without agreement it is kept; with agreement the link
  // itself is replaced, its target untouched.
  fs::create_symlink(dir.File("victim"), dir.File("inbox/b.txt"));
  auto kept = FileReceiver::Create(*folder, "b.txt", 3, sha, ReplacePolicy::kNeverReplace);
  CHECK(kept.error().code == ErrorCode::kFileExists);
  auto replaced = FileReceiver::Create(*folder, "b.txt", 3, sha, ReplacePolicy::kReplaceAgreed);
  REQUIRE(replaced.ok());
  REQUIRE((*replaced)->Write(data).ok());
  REQUIRE((*replaced)->Finish().ok());
  CHECK_FALSE(fs::is_symlink(dir.File("inbox/b.txt")));
  CHECK(ReadFileToString(dir.File("inbox/b.txt")) == "xyz");
  CHECK(ReadFileToString(dir.File("victim")) == "precious");
}

TEST_CASE("File receiver: a full disk ends the transfer and removes the part file",
          "[app][files]") {
  TempDir dir;
  auto folder = OpenFolder(dir.File("inbox"));
  int calls = 0;
  auto fills_up = [&](int fd, const void* data, size_t size) -> ssize_t {
    if (++calls >= 3) {
      errno = ENOSPC;
      return -1;
    }
    return ::write(fd, data, size);
  };
  const auto data = Bytes(50'000, 3);
  auto receiver = FileReceiver::Create(*folder, "big.iso", data.size(), Sha256Of(data, dir),
                                       ReplacePolicy::kNeverReplace, fills_up);
  REQUIRE(receiver.ok());
  REQUIRE((*receiver)->Write({data.data(), 10'000}).ok());
  REQUIRE((*receiver)->Write({data.data() + 10'000, 10'000}).ok());
  const Status full = (*receiver)->Write({data.data() + 20'000, 10'000});
  CHECK(full.code() == ErrorCode::kDiskFull);
  CHECK(full.error().message.find("big.iso") != std::string::npos);
  CHECK(fs::is_empty(dir.File("inbox")));
  CHECK_FALSE((*receiver)->Write({data.data(), 1}).ok());
}

TEST_CASE("File receiver: a real full tmpfs is handled the same way", "[app][files]") {
  TempDir dir;
  const std::string mount_point = dir.File("small");
  fs::create_directories(mount_point);
  if (mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=256k") != 0) {
    WARN("cannot mount a tmpfs here (" << std::strerror(errno)
                                       << "); the fault-seam test covers a full disk");
    return;
  }
  {
    auto folder = OpenFolder(mount_point);
    const auto data = Bytes(1 << 20, 9);
    auto receiver = FileReceiver::Create(*folder, "too-big.bin", data.size(),
                                         std::array<uint8_t, 32>{}, ReplacePolicy::kNeverReplace);
    REQUIRE(receiver.ok());
    Status st;
    for (size_t offset = 0; offset < data.size() && st.ok(); offset += 16384)
      st = (*receiver)->Write({data.data() + offset, 16384});
    CHECK(st.code() == ErrorCode::kDiskFull);
    CHECK(fs::is_empty(mount_point));
  }
  umount2(mount_point.c_str(), MNT_DETACH);
}

TEST_CASE("File receiver: a cut transfer resumes where it stopped", "[app][files]") {
  TempDir dir;
  auto folder = OpenFolder(dir.File("inbox"));
  const auto data = Bytes(300'000, 5);
  const auto sha = Sha256Of(data, dir);
  {
    auto first =
        FileReceiver::Create(*folder, "resume.bin", data.size(), sha, ReplacePolicy::kNeverReplace);
    REQUIRE(first.ok());
    REQUIRE((*first)->Write({data.data(), 123'456}).ok());
  }  // The connection dropped: the part file stays.
  CHECK(folder->PartialSize("resume.bin", sha) == 123'456);
  auto other = sha;
  other[0] ^= 1;
  CHECK(folder->PartialSize("resume.bin", other) == -1);  // Another file's part: not this.
  auto again =
      FileReceiver::Create(*folder, "resume.bin", data.size(), sha, ReplacePolicy::kNeverReplace);
  CHECK(again.error().code == ErrorCode::kFileExists);  // Never clobbers the part.
  auto resumed =
      FileReceiver::Resume(*folder, "resume.bin", data.size(), sha, ReplacePolicy::kNeverReplace);
  REQUIRE(resumed.ok());
  CHECK((*resumed)->offset() == 123'456);
  REQUIRE((*resumed)->Write({data.data() + 123'456, data.size() - 123'456}).ok());
  REQUIRE((*resumed)->Finish().ok());
  CHECK(ReadFileToString(dir.File("inbox/resume.bin")) == std::string(data.begin(), data.end()));
}

}  // namespace
}  // namespace lifeline

namespace lifeline {
namespace {

// A hostile sender's offers, straight into the receiving side of the protocol.
TEST_CASE("Incoming files: hostile offers are refused before anything is created", "[app][files]") {
  TempDir dir;
  fs::create_directories(dir.File("inbox"));
  auto folder = ReceiveFolder::Open(dir.File("inbox"));
  REQUIRE(folder.ok());
  std::vector<wire::Envelope> sent;
  IncomingFiles incoming(std::move(folder).value(), [&](const wire::Envelope& m, SendPriority) {
    sent.push_back(m);
    return true;
  });
  int id = 0;
  for (const char* name : {"../../.ssh/authorized_keys", "/etc/cron.d/x", "a\nb", "NUL", ".."}) {
    INFO(name);
    wire::Envelope offer;
    offer.mutable_file_offer()->set_transfer_id(++id);
    offer.mutable_file_offer()->set_name(name);
    offer.mutable_file_offer()->set_size(4);
    offer.mutable_file_offer()->set_sha256(std::string(32, '\0'));
    REQUIRE(incoming.HandleMessage(offer).ok());
    bool exists = true;
    int64_t resume = 0;
    auto pending = incoming.TakePendingOffer(&exists, &resume);
    REQUIRE(pending);
    incoming.Answer(*pending, FileDecision::kAcceptReplace);  // Even if a person said yes.
    REQUIRE_FALSE(sent.empty());
    CHECK_FALSE(sent.back().file_answer().accepted());
    CHECK(sent.back().file_answer().error_code() ==
          static_cast<uint32_t>(ErrorCode::kFileNameRefused));
  }
  CHECK(fs::is_empty(dir.File("inbox")));
  // Chunks for nothing accepted, and malformed offers, close the connection.
  wire::Envelope chunk;
  chunk.mutable_file_chunk()->set_transfer_id(1);
  chunk.mutable_file_chunk()->set_data("data");
  CHECK(incoming.HandleMessage(chunk).code() == ErrorCode::kUnexpectedMessage);
  wire::Envelope bad_hash;
  bad_hash.mutable_file_offer()->set_name("ok.txt");
  bad_hash.mutable_file_offer()->set_sha256("short");
  CHECK(incoming.HandleMessage(bad_hash).code() == ErrorCode::kMalformedMessage);
}

// A viewer started without --receive-dir (MakeIncomingFiles("")) declines every file.
TEST_CASE("Incoming files: a side without a receive folder declines", "[app][files]") {
  std::vector<wire::Envelope> sent;
  auto incoming = MakeIncomingFiles("", "viewer", [&](const wire::Envelope& m, SendPriority) {
    sent.push_back(m);
    return true;
  });
  wire::Envelope offer;
  offer.mutable_file_offer()->set_transfer_id(1);
  offer.mutable_file_offer()->set_name("report.pdf");
  offer.mutable_file_offer()->set_size(4);
  offer.mutable_file_offer()->set_sha256(std::string(32, '\0'));
  REQUIRE(incoming->HandleMessage(offer).ok());
  bool exists = true;
  int64_t resume = 0;
  auto pending = incoming->TakePendingOffer(&exists, &resume);
  REQUIRE(pending);
  incoming->Answer(*pending, FileDecision::kAccept);
  REQUIRE(sent.size() == 1);
  CHECK_FALSE(sent.back().file_answer().accepted());
  CHECK(sent.back().file_answer().error_code() ==
        static_cast<uint32_t>(ErrorCode::kFileTransferRefused));
}

}  // namespace
}  // namespace lifeline
