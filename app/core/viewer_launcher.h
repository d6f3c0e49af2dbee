// Starts the viewer as a child process of the same executable (`lifeline view ADDRESS`),
// per the shared design's decision 1: SDL and wx both want the main thread, and a decoder
// crash cannot take the desktop app down. Credentials go over a pipe on the child's
// standard input (password on the first line, the 2FA code on the second), never on the
// command line or in the environment.
//
// Threading: any thread; the returned ViewerProcess is polled by its owner (the UI).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace lifeline {

struct ViewerLaunch {
  std::string executable;               // Path of `lifeline`.
  std::string address;                  // HOST:PORT.
  std::string password;                 // Secret.
  std::string two_factor_code;          // Secret; may be empty (the host may not ask).
  std::vector<std::string> extra_args;  // e.g. "--headless" (tests).
};

// The argv the child gets (no secret in it).
std::vector<std::string> ViewerArgv(const ViewerLaunch& launch);

class ViewerProcess {
 public:
  // Spawns the child and writes the credentials into its stdin pipe, then closes it.
  // Errors: kInternal (pipe or spawn failed; the message has the reason).
  static Expected<ViewerProcess> Start(const ViewerLaunch& launch);

  pid_t pid() const { return pid_; }
  // The exit status once the child ended (128+signal when killed), without blocking.
  std::optional<int> Poll();

 private:
  explicit ViewerProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace lifeline
