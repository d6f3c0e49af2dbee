#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace lifeline::testing {
namespace {

int DecodeStatus(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

std::vector<std::string> BuildEnv(const std::map<std::string, std::string>& set_env,
                                  const std::vector<std::string>& unset_env) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    bool drop = set_env.count(key) > 0;
    for (const auto& u : unset_env)
      drop = drop || u == key;
    if (!drop)
      env.push_back(entry);
  }
  for (const auto& [k, v] : set_env)
    env.push_back(k + "=" + v);
  return env;
}

}  // namespace

Subprocess::Subprocess(Options options) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(
      &actions, 0, options.stdin_path.empty() ? "/dev/null" : options.stdin_path.c_str(), O_RDONLY,
      0);
  if (!options.stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, options.stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  if (!options.stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 2, options.stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  std::vector<char*> argv;
  for (auto& a : options.argv)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = BuildEnv(options.set_env, options.unset_env);
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("posix_spawn " + options.argv[0] + ": " + std::strerror(rc));
  }
}

Subprocess::~Subprocess() {
  if (!exit_status_)
    Stop(2000);
}

bool Subprocess::running() {
  if (exit_status_)
    return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = DecodeStatus(status);
    return false;
  }
  return true;
}

std::optional<int> Subprocess::Wait(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

void Subprocess::Signal(int signal) {
  if (running())
    kill(pid_, signal);
}

int Subprocess::Stop(int grace_ms) {
  if (exit_status_)
    return *exit_status_;
  kill(pid_, SIGTERM);
  if (auto status = Wait(grace_ms))
    return *status;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_status_ = DecodeStatus(status);
  return *exit_status_;
}

RunResult RunCommand(const std::vector<std::string>& argv,
                     int timeout_ms,
                     const std::map<std::string, std::string>& set_env,
                     const std::vector<std::string>& unset_env) {
  TempDir dir;
  Subprocess::Options options;
  options.argv = argv;
  options.set_env = set_env;
  options.unset_env = unset_env;
  options.stdout_path = dir.File("out");
  options.stderr_path = dir.File("err");
  Subprocess process(options);
  RunResult result;
  auto status = process.Wait(timeout_ms);
  if (!status) {
    result.timed_out = true;
    result.exit_status = process.Stop(1000);
  } else {
    result.exit_status = *status;
  }
  result.output = ReadFileToString(dir.File("out")) + ReadFileToString(dir.File("err"));
  return result;
}

std::string LifelineBinary() {
  return std::string(LIFELINE_BINARY_DIR) + "/app/lifeline";
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

}  // namespace lifeline::testing
