// Remote control end to end: the real `lifeline host` on a private Xvfb, and
// `lifeline view --headless --input-script` as the viewer. The pointer position is read
// back from the X server, keys and clicks are received by a test window on the host's
// display.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/x11_clipboard_peer.h"
#include "tests/support/x11_input_probe.h"
#include "tests/support/xvfb.h"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> Env(const TempDir& dir, const std::string& display) {
  return {{"XDG_CONFIG_HOME", dir.File("config")},
          {"HOME", dir.path()},
          {"DISPLAY", display},
          {"NO_AT_BRIDGE", "1"}};
}

std::string FindInOutput(Subprocess& process, const std::string& path, const std::regex& re) {
  for (int i = 0; i < 200 && process.running(); ++i) {
    std::smatch match;
    const std::string text = ReadFileToString(path);
    if (std::regex_search(text, match, re))
      return match[1];
    std::this_thread::sleep_for(50ms);
  }
  return "";
}

struct HostAndViewer {
  TempDir dir;
  Xvfb xvfb{800, 600};
  std::unique_ptr<Subprocess> host;
  std::string address;
  std::string password_file;

  explicit HostAndViewer(std::vector<std::string> extra_host_args = {}) {
    std::vector<std::string> argv = {LifelineBinary(), "host",         "--listen", "127.0.0.1:0",
                                     "--display",      xvfb.display(), "--once"};
    argv.insert(argv.end(), extra_host_args.begin(), extra_host_args.end());
    host = std::make_unique<Subprocess>(Subprocess::Options{.argv = argv,
                                                            .set_env = Env(dir, xvfb.display()),
                                                            .stdout_path = dir.File("host.out"),
                                                            .stderr_path = dir.File("host.err")});
    address = FindInOutput(*host, dir.File("host.out"),
                           std::regex("listening on (127\\.0\\.0\\.1:[0-9]+)"));
    const std::string password =
        FindInOutput(*host, dir.File("host.out"), std::regex("Password: ([A-Z0-9-]+)"));
    WriteStringToFile(dir.File("password.txt"), password + "\n");
    password_file = dir.File("password.txt");
  }

  RunResult View(const std::string& script, double duration_s) {
    WriteStringToFile(dir.File("script.txt"), script);
    return RunCommand(
        {LifelineBinary(), "view", address, "--headless", "--password-file", password_file,
         "--input-script", dir.File("script.txt"), "--duration", std::to_string(duration_s)},
        60'000, Env(dir, xvfb.display()));
  }
};

TEST_CASE("A viewer's scripted mouse and keys drive the host's X display",
          "[integration][display][input]") {
  HostAndViewer setup;
  INFO("host stderr: " << ReadFileToString(setup.dir.File("host.err")));
  REQUIRE_FALSE(setup.address.empty());
  X11InputProbe probe(setup.xvfb.display());
  const auto view = setup.View(
      "move 123 456\nwait 100\nclick left\nkeydown Control_L\nkey c\nkeyup Control_L\n"
      "text Hi!\nkey Return\nmove 5000 5000\n",
      2.5);
  INFO("viewer output: " << view.output);
  CHECK(view.exit_status == 0);
  const auto events = probe.Collect(18, 8000);  // 2 button, 4 Ctrl+c, 10 "Hi!", 2 Return.
  // The click landed at (123, 456) of the host's screen.
  bool clicked = false;
  for (const ProbeEvent& e : events) {
    if (e.type == ProbeEvent::Type::kButtonPress && e.button == 1)
      clicked = e.x == 123 && e.y == 456;
  }
  CHECK(clicked);
  std::vector<uint32_t> keys;
  for (uint32_t keysym : X11InputProbe::PressedKeysyms(events)) {
    if (keysym != 0xffe1)  // Shift_L pressed by the host around 'H' and '!'.
      keys.push_back(keysym);
  }
  CHECK(keys == std::vector<uint32_t>{0xffe3, 'c', 'H', 'i', '!', 0xff0d});
  // The last move was clamped into the 800x600 screen.
  CHECK(probe.WaitForPointer(799, 599, 3000) == std::pair(799, 599));
  setup.host->Stop();
}

TEST_CASE("A view-only host ignores the viewer's mouse and keys", "[integration][display][input]") {
  HostAndViewer setup({"--view-only"});
  REQUIRE_FALSE(setup.address.empty());
  X11InputProbe probe(setup.xvfb.display());
  const auto before = probe.PointerPosition();
  const auto view = setup.View("move 10 20\nclick left\nkey a\ntext typed\n", 2.0);
  INFO("viewer output: " << view.output);
  CHECK(view.exit_status == 0);
  CHECK(probe.Collect(1, 1000).empty());
  CHECK(probe.PointerPosition() == before);
  const std::string host_log =
      ReadFileToString(setup.dir.File("host.err")) + ReadFileToString(setup.dir.File("host.out"));
  CHECK(host_log.find("view-only") != std::string::npos);
  setup.host->Stop();
}

// Starts a headless viewer with `script` and --clipboard-out; returns it running.
std::unique_ptr<Subprocess> StartViewer(HostAndViewer& setup, const std::string& script) {
  WriteStringToFile(setup.dir.File("script.txt"), script);
  auto viewer = std::make_unique<Subprocess>(Subprocess::Options{
      .argv = {LifelineBinary(), "view", setup.address, "--headless", "--password-file",
               setup.password_file, "--input-script", setup.dir.File("script.txt"),
               "--clipboard-out", setup.dir.File("clipboard.out"), "--duration", "6"},
      .set_env = Env(setup.dir, setup.xvfb.display()),
      .stdout_path = setup.dir.File("view.out"),
      .stderr_path = setup.dir.File("view.err")});
  // The host shows its indicator line once the session runs.
  FindInOutput(*setup.host, setup.dir.File("host.out"), std::regex("(Session active)"));
  return viewer;
}

std::string WaitForFile(const std::string& path, const std::string& expected, int timeout_ms) {
  std::string text;
  for (int i = 0; i < timeout_ms / 50; ++i) {
    text = ReadFileToString(path);
    if (text == expected)
      break;
    std::this_thread::sleep_for(50ms);
  }
  return text;
}

std::optional<std::string> WaitForPaste(const std::string& display, const std::string& expected) {
  std::optional<std::string> pasted;
  for (int i = 0; i < 100 && pasted != expected; ++i) {
    pasted = ReadX11Clipboard(display, 500);
    if (pasted != expected)
      std::this_thread::sleep_for(50ms);
  }
  return pasted;
}

TEST_CASE("Clipboard text crosses both ways: host X selection and viewer",
          "[integration][display][clipboard]") {
  HostAndViewer setup;
  REQUIRE_FALSE(setup.address.empty());
  auto viewer = StartViewer(setup, "wait 1500\nclipboard echo from the viewer\n");
  INFO("host: " << ReadFileToString(setup.dir.File("host.err")));
  INFO("viewer: " << ReadFileToString(setup.dir.File("view.err")));
  // An application on the host copies: the viewer receives it.
  X11ClipboardOwner copier(setup.xvfb.display(), "uname -a \xe2\x82\xac");
  CHECK(WaitForFile(setup.dir.File("clipboard.out"), "uname -a \xe2\x82\xac", 5000) ==
        "uname -a \xe2\x82\xac");
  // The viewer's clipboard reaches applications on the host.
  CHECK(WaitForPaste(setup.xvfb.display(), "echo from the viewer") == "echo from the viewer");
  viewer->Stop();
  setup.host->Stop();
}

TEST_CASE("Clipboard off on the host: nothing crosses either way",
          "[integration][display][clipboard]") {
  HostAndViewer setup({"--clipboard", "off"});
  REQUIRE_FALSE(setup.address.empty());
  auto viewer = StartViewer(setup, "wait 300\nclipboard should not arrive\n");
  X11ClipboardOwner copier(setup.xvfb.display(), "host secret");
  std::this_thread::sleep_for(2s);
  CHECK(ReadFileToString(setup.dir.File("clipboard.out")).empty());
  CHECK(ReadX11Clipboard(setup.xvfb.display(), 1000) == "host secret");
  viewer->Stop();
  setup.host->Stop();
}

}  // namespace
}  // namespace lifeline::testing
