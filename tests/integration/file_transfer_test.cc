// File transfer end to end: the real `lifeline host --receive-dir` (answers to the
// confirmation questions come from its standard input) and `lifeline view --send`.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::map<std::string, std::string> Env(const TempDir& dir) {
  return {{"XDG_CONFIG_HOME", dir.File("config")}, {"HOME", dir.path()}};
}

// The last match of `re`'s group 1 in the file, waiting until there are `count` matches.
std::string NthMatch(const std::string& path, const std::regex& re, size_t count) {
  for (int i = 0; i < 400; ++i) {
    const std::string text = ReadFileToString(path);
    std::vector<std::string> found;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
         ++it) {
      found.push_back((*it)[1]);
    }
    if (found.size() >= count)
      return found[count - 1];
    std::this_thread::sleep_for(50ms);
  }
  return "";
}

void WriteBigFile(const std::string& path, size_t mib) {
  std::ofstream out(path, std::ios::binary);
  std::vector<char> block(1 << 20);
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (size_t m = 0; m < mib; ++m) {
    for (size_t i = 0; i < block.size(); i += 8) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      std::memcpy(block.data() + i, &state, 8);
    }
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
}

bool SameContents(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary);
  std::ifstream fb(b, std::ios::binary);
  std::vector<char> ba(1 << 20);
  std::vector<char> bb(1 << 20);
  while (fa && fb) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount() || !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin()))
      return false;
  }
  return fa.eof() && fb.eof();
}

uint64_t PartBytes(const std::string& folder) {
  uint64_t total = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().string().ends_with(".lifeline-part"))
      total += entry.file_size();
  }
  return total;
}

struct FileHost {
  TempDir dir;
  std::unique_ptr<Subprocess> host;
  std::string address;

  explicit FileHost(const std::string& answers) {
    fs::create_directories(dir.File("inbox"));
    WriteStringToFile(dir.File("answers.txt"), answers);
    host = std::make_unique<Subprocess>(Subprocess::Options{
        .argv = {LifelineBinary(), "host", "--listen", "127.0.0.1:0", "--source", "synthetic",
                 "--receive-dir", dir.File("inbox"), "--confirm-on-stdin"},
        .set_env = Env(dir),
        .stdout_path = dir.File("host.out"),
        .stderr_path = dir.File("host.err"),
        .stdin_path = dir.File("answers.txt")});
    address =
        NthMatch(dir.File("host.out"), std::regex("listening on (127\\.0\\.0\\.1:[0-9]+)"), 1);
  }

  // The `n`-th password the host printed, in a file for --password-file.
  std::string PasswordFile(size_t n) {
    const std::string password =
        NthMatch(dir.File("host.out"), std::regex("Password: ([A-Z0-9-]+)"), n);
    const std::string path = dir.File("password" + std::to_string(n) + ".txt");
    WriteStringToFile(path, password + "\n");
    return path;
  }

  std::vector<std::string> SendArgs(const std::string& password_file, const std::string& file) {
    return {LifelineBinary(),  "view",        address,  "--headless",
            "--password-file", password_file, "--send", file};
  }
};

TEST_CASE("A 200 MB file crosses a session intact and resumes after the connection is cut",
          "[integration][files]") {
  FileHost setup("y\ny\n");
  REQUIRE_FALSE(setup.address.empty());
  const std::string big = setup.dir.File("big.bin");
  WriteBigFile(big, 200);
  INFO("host out: " << ReadFileToString(setup.dir.File("host.out")));
  INFO("host err: " << ReadFileToString(setup.dir.File("host.err")));

  // First attempt: cut (the viewer is killed) once about half has arrived.
  {
    Subprocess first({.argv = setup.SendArgs(setup.PasswordFile(1), big),
                      .set_env = Env(setup.dir),
                      .stdout_path = setup.dir.File("view1.out"),
                      .stderr_path = setup.dir.File("view1.err")});
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (PartBytes(setup.dir.File("inbox")) < 100ull << 20 && first.running() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    REQUIRE(first.running());  // Not finished yet: the cut really is in the middle.
    first.Signal(SIGKILL);
    first.Wait(10'000);
  }
  const uint64_t kept = [&] {
    // The host notices the cut and keeps the part file.
    for (int i = 0; i < 200; ++i) {
      if (ReadFileToString(setup.dir.File("host.out")).find("Session ended") != std::string::npos)
        break;
      std::this_thread::sleep_for(50ms);
    }
    return PartBytes(setup.dir.File("inbox"));
  }();
  INFO("bytes kept after the cut: " << kept);
  CHECK(kept >= 100ull << 20);
  CHECK(kept < 200ull << 20);
  CHECK_FALSE(fs::exists(setup.dir.File("inbox/big.bin")));

  // Second session (the password changed after the first): the transfer resumes.
  auto second = RunCommand(setup.SendArgs(setup.PasswordFile(2), big), 120'000, Env(setup.dir));
  INFO("viewer: " << second.output);
  CHECK(second.exit_status == 0);
  CHECK(second.output.find("resumed at byte") != std::string::npos);
  REQUIRE(fs::exists(setup.dir.File("inbox/big.bin")));
  CHECK(fs::file_size(setup.dir.File("inbox/big.bin")) == 200ull << 20);
  CHECK(SameContents(big, setup.dir.File("inbox/big.bin")));
  CHECK(PartBytes(setup.dir.File("inbox")) == 0);
  setup.host->Stop();
}

TEST_CASE("A declined file is not written, and an existing file is kept", "[integration][files]") {
  FileHost setup("n\ny\n");
  REQUIRE_FALSE(setup.address.empty());
  WriteStringToFile(setup.dir.File("notes.txt"), "from the viewer");
  auto declined = RunCommand(setup.SendArgs(setup.PasswordFile(1), setup.dir.File("notes.txt")),
                             60'000, Env(setup.dir));
  INFO("viewer: " << declined.output);
  CHECK(declined.exit_status != 0);
  CHECK(declined.output.find("declined") != std::string::npos);
  CHECK(fs::is_empty(setup.dir.File("inbox")));

  // Accepted ('y'), but a file of that name is there: it is kept, the transfer fails.
  WriteStringToFile(setup.dir.File("inbox/notes.txt"), "the host's notes");
  auto kept = RunCommand(setup.SendArgs(setup.PasswordFile(2), setup.dir.File("notes.txt")), 60'000,
                         Env(setup.dir));
  INFO("viewer: " << kept.output);
  CHECK(kept.exit_status != 0);
  CHECK(kept.output.find("already exists") != std::string::npos);
  CHECK(ReadFileToString(setup.dir.File("inbox/notes.txt")) == "the host's notes");
  setup.host->Stop();
}

TEST_CASE("A file the host sends reaches a viewer with a receive folder, not one without",
          "[integration][files]") {
  TempDir dir;
  WriteBigFile(dir.File("report.bin"), 4);
  fs::create_directories(dir.File("downloads"));
  Subprocess host(
      Subprocess::Options{.argv = {LifelineBinary(), "host", "--listen", "127.0.0.1:0", "--source",
                                   "synthetic", "--send", dir.File("report.bin")},
                          .set_env = Env(dir),
                          .stdout_path = dir.File("host.out"),
                          .stderr_path = dir.File("host.err")});
  const std::string address =
      NthMatch(dir.File("host.out"), std::regex("listening on (127\\.0\\.0\\.1:[0-9]+)"), 1);
  REQUIRE_FALSE(address.empty());
  auto password_file = [&](size_t n) {
    const std::string path = dir.File("password" + std::to_string(n) + ".txt");
    WriteStringToFile(
        path, NthMatch(dir.File("host.out"), std::regex("Password: ([A-Z0-9-]+)"), n) + "\n");
    return path;
  };

  // No receive folder: the viewer declines, nothing is written anywhere.
  auto declined = RunCommand({LifelineBinary(), "view", address, "--headless", "--password-file",
                              password_file(1), "--duration", "3"},
                             60'000, Env(dir));
  INFO("viewer: " << declined.output);
  CHECK(fs::is_empty(dir.File("downloads")));
  CHECK(NthMatch(dir.File("host.err"), std::regex("not sent: .*(does not receive files)"), 1) ==
        "does not receive files");

  auto received =
      RunCommand({LifelineBinary(), "view", address, "--headless", "--password-file",
                  password_file(2), "--duration", "5", "--receive-dir", dir.File("downloads")},
                 60'000, Env(dir));
  INFO("viewer: " << received.output);
  CHECK(received.output.find("received report.bin (SHA-256 verified)") != std::string::npos);
  REQUIRE(fs::exists(dir.File("downloads/report.bin")));
  CHECK(SameContents(dir.File("report.bin"), dir.File("downloads/report.bin")));
  CHECK(NthMatch(dir.File("host.err"), std::regex("sent .*(the viewer verified it)"), 1) ==
        "the viewer verified it");
  host.Stop();
}

}  // namespace
}  // namespace lifeline::testing
