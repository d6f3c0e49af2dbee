// Helpers for integration tests that run `lifeline host`: its address and its one-time
// password, read from its standard output.
#pragma once

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline::testing {

// Starts `lifeline host ... --listen 127.0.0.1:0` and returns "127.0.0.1:PORT" from its
// first line of output.
inline std::string WaitForListenAddress(Subprocess& host, const std::string& stdout_path) {
  const std::regex line("listening on (127\\.0\\.0\\.1:[0-9]+)");
  for (int i = 0; i < 200 && host.running(); ++i) {
    std::smatch match;
    const std::string text = ReadFileToString(stdout_path);
    if (std::regex_search(text, match, line))
      return match[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

// The one-time password from the host's "Password: ..." line, written to a file for
// --password-file (never on the command line).
inline std::string WritePasswordFile(const TempDir& dir, const std::string& host_stdout_path) {
  const std::regex line("Password: ([A-Z0-9-]+)");
  std::smatch match;
  const std::string text = ReadFileToString(host_stdout_path);
  if (!std::regex_search(text, match, line))
    return "";
  WriteStringToFile(dir.File("password.txt"), std::string(match[1]) + "\n");
  return dir.File("password.txt");
}

}  // namespace lifeline::testing
