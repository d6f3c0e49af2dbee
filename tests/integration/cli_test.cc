// The `lifeline` executable's command line, as a person uses it.
#include <catch2/catch.hpp>

#include <filesystem>

#include "base/version.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline::testing {
namespace {

std::map<std::string, std::string> IsolatedEnv(const TempDir& dir) {
  return {{"XDG_CONFIG_HOME", dir.File("config")}, {"HOME", dir.path()}};
}

TEST_CASE("CLI prints its version and help", "[integration][cli]") {
  TempDir dir;
  auto version = RunCommand({LifelineBinary(), "--version"}, 10'000, IsolatedEnv(dir));
  CHECK(version.exit_status == 0);
  CHECK(version.output.find(kVersionString) != std::string::npos);

  auto help = RunCommand({LifelineBinary(), "--help"}, 10'000, IsolatedEnv(dir));
  CHECK(help.exit_status == 0);
  CHECK(help.output.find("host") != std::string::npos);
  CHECK(help.output.find("view") != std::string::npos);

  auto view_help = RunCommand({LifelineBinary(), "view", "--help"}, 10'000, IsolatedEnv(dir));
  CHECK(view_help.exit_status == 0);
  for (const char* flag : {"--fullscreen", "--headless", "--stats", "--snapshot"}) {
    CHECK(view_help.output.find(flag) != std::string::npos);
  }
  auto host_help = RunCommand({LifelineBinary(), "host", "--help"}, 10'000, IsolatedEnv(dir));
  for (const char* flag : {"--listen", "--source", "--display"}) {
    CHECK(host_help.output.find(flag) != std::string::npos);
  }
  auto bad = RunCommand({LifelineBinary(), "--frobnicate"}, 10'000, IsolatedEnv(dir));
  CHECK(bad.exit_status != 0);
}

TEST_CASE("CLI paths: XDG folder when installed, beside the binary when portable",
          "[integration][cli]") {
  TempDir dir;
  auto installed = RunCommand({LifelineBinary(), "--paths"}, 10'000, IsolatedEnv(dir));
  CHECK(installed.exit_status == 0);
  CHECK(installed.output.find("mode: installed") != std::string::npos);
  CHECK(installed.output.find(dir.File("config") + "/lifeline/settings.toml") != std::string::npos);
  CHECK(installed.output.find(dir.File("config") + "/lifeline/lifeline.log") != std::string::npos);

  // A USB stick: the binary with a `portable` marker beside it.
  std::filesystem::create_directories(dir.File("stick"));
  std::filesystem::copy_file(LifelineBinary(), dir.File("stick/lifeline"));
  WriteStringToFile(dir.File("stick/portable"), "");
  auto portable = RunCommand({dir.File("stick/lifeline"), "--paths"}, 10'000, IsolatedEnv(dir));
  CHECK(portable.exit_status == 0);
  CHECK(portable.output.find("mode: portable") != std::string::npos);
  CHECK(portable.output.find(dir.File("stick/lifeline-data/settings.toml")) != std::string::npos);
}

TEST_CASE("Without a display the desktop app says so in one sentence", "[integration][cli]") {
  TempDir dir;
  auto result =
      RunCommand({LifelineBinary()}, 20'000, IsolatedEnv(dir), {"DISPLAY", "WAYLAND_DISPLAY"});
  CHECK_FALSE(result.timed_out);
  CHECK(result.exit_status == 1);
  CHECK(result.output.find("needs a graphical display") != std::string::npos);
  CHECK(result.output.find("Gtk") == std::string::npos);
  CHECK(result.output.find("WARNING") == std::string::npos);
  CHECK(std::count(result.output.begin(), result.output.end(), '\n') <= 2);
}

TEST_CASE("Clear errors for bad addresses and unreachable hosts", "[integration][cli]") {
  TempDir dir;
  const int closed_port = FreeLoopbackPort();
  WriteStringToFile(dir.File("pw"), "ABCD-EFGH-JK\n");
  auto refused = RunCommand({LifelineBinary(), "view", "127.0.0.1:" + std::to_string(closed_port),
                             "--headless", "--password-file", dir.File("pw")},
                            20'000, IsolatedEnv(dir));
  CHECK(refused.exit_status == 1);
  CHECK(refused.output.find("connection refused") != std::string::npos);

  auto bad_address = RunCommand({LifelineBinary(), "view", "no-port-here", "--headless"}, 10'000,
                                IsolatedEnv(dir));
  CHECK(bad_address.exit_status == 2);
  CHECK(bad_address.output.find("no-port-here") != std::string::npos);

  // The password is checked before connecting: a typo is named, nothing is sent.
  WriteStringToFile(dir.File("typo"), "ABCD-EFGH-J0\n");
  auto typo = RunCommand({LifelineBinary(), "view", "127.0.0.1:" + std::to_string(closed_port),
                          "--headless", "--password-file", dir.File("typo")},
                         20'000, IsolatedEnv(dir));
  CHECK(typo.exit_status == 2);
  CHECK(typo.output.find("password") != std::string::npos);
  CHECK(typo.output.find("connection refused") == std::string::npos);

  // No password at all (standard input is empty): a clear refusal.
  auto no_password =
      RunCommand({LifelineBinary(), "view", "127.0.0.1:1", "--headless"}, 20'000, IsolatedEnv(dir));
  CHECK(no_password.exit_status == 2);
  CHECK(no_password.output.find("no password") != std::string::npos);

  auto no_display =
      RunCommand({LifelineBinary(), "host", "--display", ":987654"}, 10'000, IsolatedEnv(dir));
  CHECK(no_display.exit_status == 1);
  CHECK(no_display.output.find(":987654") != std::string::npos);

  auto bad_fps = RunCommand({LifelineBinary(), "host", "--source", "synthetic", "--fps", "0"},
                            10'000, IsolatedEnv(dir));
  CHECK(bad_fps.exit_status == 2);
  CHECK(bad_fps.output.find("host.max_fps") != std::string::npos);
}

TEST_CASE("A broken settings file is reported and left alone", "[integration][cli]") {
  TempDir dir;
  std::filesystem::create_directories(dir.File("config/lifeline"));
  const std::string path = dir.File("config/lifeline/settings.toml");
  WriteStringToFile(path, "[host]\nmax_fps = \"lots\"\n");
  auto result = RunCommand({LifelineBinary(), "--version"}, 10'000, IsolatedEnv(dir));
  CHECK(result.exit_status == 0);
  // --version exits before settings load; a real command reports the field.
  auto host =
      RunCommand({LifelineBinary(), "host", "--source", "synthetic", "--listen", "nonsense"},
                 10'000, IsolatedEnv(dir));
  CHECK(host.output.find("host.max_fps") != std::string::npos);
  CHECK(ReadFileToString(path) == "[host]\nmax_fps = \"lots\"\n");
}

}  // namespace
}  // namespace lifeline::testing
