// Child processes for tests: started with posix_spawn, always stopped by their PID.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lifeline::testing {

class Subprocess {
 public:
  struct Options {
    std::vector<std::string> argv;
    std::map<std::string, std::string> set_env;  // Added to / replacing the environment.
    std::vector<std::string> unset_env;
    std::string stdout_path;  // Empty: inherit.
    std::string stderr_path;  // Empty: inherit.
    std::string stdin_path;   // Empty: /dev/null.
  };

  explicit Subprocess(Options options);  // Starts the process; throws on failure.
  ~Subprocess();                         // Stop() if still running.
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Waits up to `timeout_ms` for exit; returns the exit status (128+signal if killed).
  std::optional<int> Wait(int timeout_ms);
  // SIGTERM, wait up to `grace_ms`, then SIGKILL. Returns the exit status.
  int Stop(int grace_ms = 3000);
  void Signal(int signal);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// Runs a command to completion (at most `timeout_ms`); returns exit status and output.
struct RunResult {
  int exit_status = -1;
  std::string output;  // stdout and stderr together.
  bool timed_out = false;
};
RunResult RunCommand(const std::vector<std::string>& argv,
                     int timeout_ms,
                     const std::map<std::string, std::string>& set_env = {},
                     const std::vector<std::string>& unset_env = {});

// Path of the built `lifeline` executable.
std::string LifelineBinary();

// A free TCP port on 127.0.0.1 (bound and released; racy but fine for tests).
int FreeLoopbackPort();

}  // namespace lifeline::testing
