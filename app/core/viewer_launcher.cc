#include "app/core/viewer_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/crypto.h>

extern char** environ;

namespace lifeline {

std::vector<std::string> ViewerArgv(const ViewerLaunch& launch) {
  std::vector<std::string> argv = {launch.executable, "view", launch.address};
  argv.insert(argv.end(), launch.extra_args.begin(), launch.extra_args.end());
  return argv;
}

Expected<ViewerProcess> ViewerProcess::Start(const ViewerLaunch& launch) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return Error{ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno)};
  std::vector<std::string> args = ViewerArgv(launch);
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);  // dup2 clears CLOEXEC.
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, launch.executable.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[0]);
  if (rc != 0) {
    close(fds[1]);
    return Error{ErrorCode::kInternal,
                 "cannot start " + launch.executable + ": " + std::strerror(rc)};
  }
  // A few bytes: they fit in the pipe buffer, so this never waits for the child. A child
  // that died at once gives EPIPE (SIGPIPE is ignored by the app), seen by Poll().
  std::string lines = launch.password + "\n" + launch.two_factor_code + "\n";
  size_t written = 0;
  while (written < lines.size()) {
    const ssize_t n = write(fds[1], lines.data() + written, lines.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    written += static_cast<size_t>(n);
  }
  OPENSSL_cleanse(lines.data(), lines.size());
  close(fds[1]);
  return ViewerProcess(pid);
}

std::optional<int> ViewerProcess::Poll() {
  if (exit_status_ || pid_ <= 0)
    return exit_status_;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return exit_status_;
}

}  // namespace lifeline
