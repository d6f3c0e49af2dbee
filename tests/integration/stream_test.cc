// The first real path: an X11 screen on a private Xvfb, captured by `lifeline host`,
// streamed over loopback to `lifeline view`, decoded, and compared with what was drawn.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/host_process.h"
#include "tests/integration/test_pattern.h"
#include "tests/support/image_compare.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/x11_painter.h"
#include "tests/support/xvfb.h"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> IsolatedEnv(const TempDir& dir, const std::string& display) {
  return {{"XDG_CONFIG_HOME", dir.File("config")},
          {"HOME", dir.path()},
          {"DISPLAY", display},
          {"NO_AT_BRIDGE", "1"}};
}

struct StatsLine {
  double fps = 0;
  double kbps = 0;
  double latency_median_ms = -1;
};

std::vector<StatsLine> ReadStats(const std::string& path) {
  std::vector<StatsLine> lines;
  std::istringstream in(ReadFileToString(path));
  std::string text;
  auto field = [](const std::string& json, const std::string& name) {
    auto pos = json.find("\"" + name + "\":");
    return pos == std::string::npos ? -999.0 : std::stod(json.substr(pos + name.size() + 3));
  };
  while (std::getline(in, text)) {
    if (text.empty())
      continue;
    lines.push_back({field(text, "fps"), field(text, "kbps"), field(text, "latency_median_ms")});
  }
  return lines;
}

TEST_CASE("X11 screen reaches a headless viewer intact (PSNR >= 35 dB)", "[integration][display]") {
  TempDir dir;
  Xvfb xvfb(1280, 720);
  const RgbaImage pattern = MakeTestPattern(1280, 720);
  X11Painter painter(xvfb.display());
  painter.PutRgba(Rect{0, 0, 1280, 720}, pattern.pixels.data(), 1280 * 4);

  Subprocess host({.argv = {LifelineBinary(), "host", "--listen", "127.0.0.1:0", "--display",
                            xvfb.display(), "--once"},
                   .set_env = IsolatedEnv(dir, xvfb.display()),
                   .stdout_path = dir.File("host.out"),
                   .stderr_path = dir.File("host.err")});
  const std::string address = WaitForListenAddress(host, dir.File("host.out"));
  INFO("host stderr: " << ReadFileToString(dir.File("host.err")));
  REQUIRE_FALSE(address.empty());

  const std::string password_file = WritePasswordFile(dir, dir.File("host.out"));
  REQUIRE_FALSE(password_file.empty());
  auto view = RunCommand(
      {LifelineBinary(), "view", address, "--headless", "--password-file", password_file, "--stats",
       dir.File("stats.jsonl"), "--snapshot", dir.File("snapshot.png"), "--duration", "4"},
      60'000, IsolatedEnv(dir, xvfb.display()));
  INFO("viewer output: " << view.output);
  CHECK(view.exit_status == 0);

  RgbaImage snapshot;
  REQUIRE(ReadPng(dir.File("snapshot.png"), &snapshot));
  REQUIRE(snapshot.width == 1280);
  REQUIRE(snapshot.height == 720);
  const double psnr = PsnrRgb(snapshot, pattern);
  INFO("PSNR " << psnr << " dB");
  CHECK(psnr >= 35.0);

  // A different picture must not pass: the check has teeth.
  RgbaImage other = MakeTestPattern(1280, 720);
  for (size_t i = 0; i < other.pixels.size(); i += 4)
    other.pixels[i] ^= 0x80;
  CHECK(PsnrRgb(snapshot, other) < 20.0);

  const auto stats = ReadStats(dir.File("stats.jsonl"));
  REQUIRE(stats.size() >= 3);
  CHECK(stats.front().fps > 0);
  CHECK(stats.front().kbps > 0);
  CHECK(stats.front().latency_median_ms >= 0);
  CHECK(stats.front().latency_median_ms < 1000);

  // --once: the host leaves after its viewer did.
  auto host_exit = host.Wait(15'000);
  REQUIRE(host_exit);
  CHECK(*host_exit == 0);

  // The one-time password was shown to the user only: no file the host or the viewer
  // wrote (settings folder: log, audit log, throttle state, keys) contains it, in any
  // of its forms. The host printed a new password after the session.
  const std::string typed = ReadFileToString(password_file);
  const std::string display = typed.substr(0, typed.find('\n'));
  std::string compact = display;
  std::erase(compact, '-');
  const std::string host_out = ReadFileToString(dir.File("host.out"));
  CHECK(std::count(host_out.begin(), host_out.end(), '\n') >= 3);
  CHECK(host_out.rfind("Password: ") > host_out.find("Password: "));  // Rotated.
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.File("config"))) {
    if (!entry.is_regular_file())
      continue;
    ++files;
    const std::string content = ReadFileToString(entry.path().string());
    INFO("file " << entry.path());
    CHECK(content.find(display) == std::string::npos);
    CHECK(content.find(compact) == std::string::npos);
  }
  CHECK(files >= 4);  // Log, audit log and its head, keys, throttle state.
  CHECK(ReadFileToString(dir.File("host.err")).find(compact) == std::string::npos);

  // The audit trail of that session verifies, and a changed line is caught.
  auto verify =
      RunCommand({LifelineBinary(), "audit", "verify"}, 20'000, IsolatedEnv(dir, xvfb.display()));
  INFO("audit verify: " << verify.output);
  CHECK(verify.exit_status == 0);
  CHECK(verify.output.find("intact") != std::string::npos);
  const std::string audit_path = dir.File("config/lifeline/audit.log");
  std::string audit = ReadFileToString(audit_path);
  CHECK(audit.find("session_started") != std::string::npos);
  CHECK(audit.find("session_ended") != std::string::npos);
  const size_t at = audit.find("session_started");
  REQUIRE(at != std::string::npos);
  audit.replace(at, 7, "SESSION");
  WriteStringToFile(audit_path, audit);
  auto tampered =
      RunCommand({LifelineBinary(), "audit", "verify"}, 20'000, IsolatedEnv(dir, xvfb.display()));
  CHECK(tampered.exit_status == 1);
  CHECK(tampered.output.find("NOT intact") != std::string::npos);
}

TEST_CASE("The SDL viewer opens a window and draws the host's picture", "[integration][display]") {
  TempDir dir;
  Xvfb xvfb(1024, 768);
  Subprocess host({.argv = {LifelineBinary(), "host", "--listen", "127.0.0.1:0", "--source",
                            "synthetic", "--once"},
                   .set_env = IsolatedEnv(dir, xvfb.display()),
                   .stdout_path = dir.File("host.out"),
                   .stderr_path = dir.File("host.err")});
  const std::string address = WaitForListenAddress(host, dir.File("host.out"));
  REQUIRE_FALSE(address.empty());

  const std::string password_file = WritePasswordFile(dir, dir.File("host.out"));
  REQUIRE_FALSE(password_file.empty());
  Subprocess viewer({.argv = {LifelineBinary(), "view", address, "--password-file", password_file,
                              "--snapshot", dir.File("snapshot.png"), "--duration", "8"},
                     .set_env = IsolatedEnv(dir, xvfb.display()),
                     .stdout_path = dir.File("view.out"),
                     .stderr_path = dir.File("view.err")});
  // The window appears with its title.
  std::string windows;
  for (int i = 0; i < 100 && windows.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    auto search = RunCommand({"xdotool", "search", "--name", "^Lifeline - 127"}, 5'000,
                             {{"DISPLAY", xvfb.display()}});
    if (search.exit_status == 0)
      windows = search.output;
  }
  INFO("viewer stderr: " << ReadFileToString(dir.File("view.err")));
  REQUIRE_FALSE(windows.empty());
  std::this_thread::sleep_for(2s);  // Let it draw a few frames.

  // What is on the X screen now: the viewer's drawing, not an empty black root.
  auto grab = RunCommand({std::string(LIFELINE_BINARY_DIR) + "/capture/lifeline-capture-probe",
                          "--display", xvfb.display(), "--out", dir.File("screen.png")},
                         20'000);
  INFO("probe: " << grab.output);
  REQUIRE(grab.exit_status == 0);
  RgbaImage screen;
  REQUIRE(ReadPng(dir.File("screen.png"), &screen));
  size_t bright = 0;
  for (size_t i = 0; i < screen.pixels.size(); i += 4) {
    if (screen.pixels[i] + screen.pixels[i + 1] + screen.pixels[i + 2] > 150)
      ++bright;
  }
  CHECK(bright > screen.pixels.size() / 4 / 4);  // > 25% of the screen shows the picture.

  auto viewer_exit = viewer.Wait(30'000);
  REQUIRE(viewer_exit);
  CHECK(*viewer_exit == 0);
  RgbaImage snapshot;
  REQUIRE(ReadPng(dir.File("snapshot.png"), &snapshot));
  CHECK(snapshot.width == 1280);
  CHECK(host.Wait(15'000).has_value());
}

TEST_CASE("The desktop app opens its window on a display", "[integration][display]") {
  TempDir dir;
  Xvfb xvfb(1024, 768);
  xvfb.StartWindowManager();
  Subprocess app({.argv = {LifelineBinary()},
                  .set_env = IsolatedEnv(dir, xvfb.display()),
                  .stdout_path = dir.File("app.out"),
                  .stderr_path = dir.File("app.err")});
  std::string windows;
  const auto start = std::chrono::steady_clock::now();
  while (windows.empty() && std::chrono::steady_clock::now() - start < 20s) {
    std::this_thread::sleep_for(100ms);
    auto search = RunCommand({"xdotool", "search", "--onlyvisible", "--name", "^Lifeline$"}, 5'000,
                             {{"DISPLAY", xvfb.display()}});
    if (search.exit_status == 0)
      windows = search.output;
  }
  INFO("app stderr: " << ReadFileToString(dir.File("app.err")));
  REQUIRE_FALSE(windows.empty());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("window after " << seconds << " s");
  CHECK(seconds < 10.0);
  CHECK(app.running());
  app.Stop();
  const std::string err = ReadFileToString(dir.File("app.err"));
  CHECK(err.find("Gtk-CRITICAL") == std::string::npos);
}

}  // namespace
}  // namespace lifeline::testing
