// The SDL viewer's stats panel (F12) under Xvfb: the top-left corner turns into the dark
// panel with white 5x7 text after the key and back to the picture after a second press.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "tests/integration/host_process.h"
#include "tests/support/image_compare.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/xvfb.h"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;

struct CornerCounts {
  int panel_like = 0;  // Dark (panel background) or white (text) pixels.
  int white = 0;
  int total = 0;
};

CornerCounts GrabCorner(const std::string& display, const TempDir& dir, const std::string& name) {
  CornerCounts counts;
  auto grab = RunCommand({std::string(LIFELINE_BINARY_DIR) + "/capture/lifeline-capture-probe",
                          "--display", display, "--out", dir.File(name)},
                         20'000);
  INFO("probe: " << grab.output);
  REQUIRE(grab.exit_status == 0);
  RgbaImage screen;
  REQUIRE(ReadPng(dir.File(name), &screen));
  // The panel of five lines at scale 2 covers at least (4..150, 4..90).
  for (int y = 6; y < 88; ++y) {
    for (int x = 6; x < 140; ++x) {
      const uint8_t* p = &screen.pixels[(static_cast<size_t>(y) * screen.width + x) * 4];
      const int hi = std::max({p[0], p[1], p[2]});
      const int lo = std::min({p[0], p[1], p[2]});
      if (lo >= 240)
        ++counts.white;
      if (hi <= 80 || lo >= 240)
        ++counts.panel_like;
      ++counts.total;
    }
  }
  return counts;
}

TEST_CASE("F12 shows and hides the SDL viewer's stats panel", "[integration][display]") {
  TempDir dir;
  Xvfb xvfb(1024, 768);
  const std::map<std::string, std::string> env = {{"XDG_CONFIG_HOME", dir.File("config")},
                                                  {"HOME", dir.path()},
                                                  {"DISPLAY", xvfb.display()},
                                                  {"NO_AT_BRIDGE", "1"}};
  Subprocess host({.argv = {LifelineBinary(), "host", "--listen", "127.0.0.1:0", "--source",
                            "synthetic", "--once"},
                   .set_env = env,
                   .stdout_path = dir.File("host.out"),
                   .stderr_path = dir.File("host.err")});
  const std::string address = WaitForListenAddress(host, dir.File("host.out"));
  REQUIRE_FALSE(address.empty());
  const std::string password_file = WritePasswordFile(dir, dir.File("host.out"));
  REQUIRE_FALSE(password_file.empty());
  Subprocess viewer({.argv = {LifelineBinary(), "view", address, "--password-file", password_file,
                              "--duration", "8"},
                     .set_env = env,
                     .stdout_path = dir.File("view.out"),
                     .stderr_path = dir.File("view.err")});
  std::string window;
  for (int i = 0; i < 100 && window.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    auto search = RunCommand({"xdotool", "search", "--name", "^Lifeline - 127"}, 5'000,
                             {{"DISPLAY", xvfb.display()}});
    if (search.exit_status == 0)
      window = search.output.substr(0, search.output.find('\n'));
  }
  INFO("viewer stderr: " << ReadFileToString(dir.File("view.err")));
  REQUIRE_FALSE(window.empty());
  // No window manager: put the window's top-left corner on the screen.
  RunCommand({"xdotool", "windowmove", "--sync", window, "0", "0"}, 5'000,
             {{"DISPLAY", xvfb.display()}});
  std::this_thread::sleep_for(1500ms);
  const CornerCounts before = GrabCorner(xvfb.display(), dir, "before.png");

  auto key = [&] {
    RunCommand({"xdotool", "windowfocus", "--sync", window}, 5'000, {{"DISPLAY", xvfb.display()}});
    REQUIRE(
        RunCommand({"xdotool", "key", "F12"}, 5'000, {{"DISPLAY", xvfb.display()}}).exit_status ==
        0);
    std::this_thread::sleep_for(700ms);
  };
  key();
  const CornerCounts shown = GrabCorner(xvfb.display(), dir, "shown.png");
  key();
  const CornerCounts hidden = GrabCorner(xvfb.display(), dir, "hidden.png");
  INFO("panel-like before " << before.panel_like << " shown " << shown.panel_like << " hidden "
                            << hidden.panel_like << " of " << shown.total << "; white "
                            << shown.white);
  CHECK(shown.panel_like > shown.total * 95 / 100);  // All dark box or white text.
  CHECK(shown.white > 100);                          // The text is there.
  CHECK(before.panel_like < before.total * 80 / 100);
  CHECK(hidden.panel_like < hidden.total * 80 / 100);
  viewer.Wait(30'000);
  host.Wait(15'000);
}

}  // namespace
}  // namespace lifeline::testing
