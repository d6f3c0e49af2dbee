// The desktop app (wx) under a real Xvfb, with and without a window manager, driven by
// its hidden test hook (LIFELINE_GUI_TEST_SCRIPT: the same handlers as clicks).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/geometry.h"
#include "tests/support/session_bus.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/xvfb.h"

namespace lifeline::testing {
namespace {

using Clock = std::chrono::steady_clock;

// One run of the desktop app with a script; output lines "key=value".
class GuiRun {
 public:
  GuiRun(const TempDir& dir,
         const std::string& display,
         const std::string& script,
         std::map<std::string, std::string> extra_env = {})
      : out_path_(dir.File("gui-" + std::to_string(++counter_) + ".out")) {
    const std::string script_path = dir.File("gui-" + std::to_string(counter_) + ".script");
    WriteStringToFile(script_path, script);
    Subprocess::Options options;
    options.argv = {LifelineBinary()};
    options.set_env = {{"DISPLAY", display},
                       {"NO_AT_BRIDGE", "1"},
                       {"XDG_CONFIG_HOME", dir.File("config")},
                       {"HOME", dir.path()},
                       {"LANG", "C.UTF-8"},
                       {"LIFELINE_GUI_TEST_SCRIPT", script_path},
                       {"LIFELINE_GUI_TEST_OUTPUT", out_path_}};
    options.unset_env = {"DBUS_SESSION_BUS_ADDRESS", "LANGUAGE", "LC_ALL", "LC_MESSAGES"};
    for (auto& [k, v] : extra_env)
      options.set_env[k] = v;
    options.stderr_path = dir.File("gui-" + std::to_string(counter_) + ".log");
    started_ = Clock::now();
    process_ = std::make_unique<Subprocess>(options);
  }

  // Waits until `key` appears (returns its first value) or `timeout_ms` passes ("").
  std::string WaitFor(const std::string& key, int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      if (auto v = Find(key))
        return *v;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Find(key).value_or("");
  }
  std::optional<std::string> Find(const std::string& key) const {
    std::ifstream in(out_path_);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(key + "=", 0) == 0)
        return line.substr(key.size() + 1);
    }
    return std::nullopt;
  }
  int Finish(int timeout_ms = 20000) {
    auto status = process_->Wait(timeout_ms);
    return status ? *status : process_->Stop(1000);
  }
  Clock::time_point started() const { return started_; }

 private:
  static inline int counter_ = 0;
  std::string out_path_;
  Clock::time_point started_;
  std::unique_ptr<Subprocess> process_;
};

void WriteHostSettings(const TempDir& dir, int port, const std::string& extra = "") {
  std::filesystem::create_directories(dir.File("config/lifeline"));
  WriteStringToFile(dir.File("config/lifeline/settings.toml"),
                    "[host]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n" + extra);
}

// The time itself is measured by tests/desktop/start_time_bench.sh (docs/benchmarks.md);
// here only that both appear, grouped, without any click.
TEST_CASE("Desktop app shows ID and password at start", "[integration][desktop]") {
  Xvfb xvfb(1280, 800);
  TempDir dir;
  WriteHostSettings(dir, FreeLoopbackPort());
  GuiRun gui(dir, xvfb.display(), "ready\nwait-listening\nquit\n");
  const std::string password = gui.WaitFor("password", 10000);
  const auto shown_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - gui.started()).count();
  const std::string id = *gui.Find("id");
  INFO("ID and password shown after " << shown_ms << " ms");
  CHECK(id.size() == 11);  // "123 456 789"
  CHECK(id[3] == ' ');
  CHECK(password.size() >= 8);
  CHECK(gui.WaitFor("status", 5000).find("Ready") == 0);
  CHECK(gui.Finish() == 0);
  std::printf("desktop app: ID and password shown %lld ms after start\n",
              static_cast<long long>(shown_ms));
}

// Every field of the Remote Service dialog: filled, saved, and found again after a restart.
void CheckSettingsRoundTrip(const TempDir& dir,
                            const std::string& display,
                            std::map<std::string, std::string> env) {
  WriteHostSettings(dir, FreeLoopbackPort());
  const std::string fill =
      "open-settings\n"
      "set enable 1\nproblem organisation_id\n"
      "set allow 1\nset organisation_id ORG-4711\nset verification_code vc-93a1\n"
      "set proxy_manual 1\nset proxy_host proxy.corp.example\n"
      "set proxy_port 70000\nproblem port\nset proxy_port 3128\nproblem port\n"
      "set proxy_auth 1\nset proxy_user alice\nset proxy_password Pr0xy-S3cret!\n"
      "set proxy_domain CORP\nset account_other 1\nset service_user svc-lifeline\n"
      "set service_password S3rvice-Pa55\nset language it\n"
      "press save\nfeedback\nclose-settings\nquit\n";
  GuiRun first(dir, display, fill, env);
  REQUIRE(first.Finish() == 0);
  CHECK(first.Find("problem.organisation_id") == "Required");
  CHECK(first.Find("problem.port") == "1 to 65535");
  const std::string feedback = first.Find("feedback").value_or("");
  INFO(feedback);
  CHECK(feedback.find("Saved to") != std::string::npos);

  const std::string file = ReadFileToString(dir.File("config/lifeline/settings.toml"));
  CHECK(file.find("proxy.corp.example") != std::string::npos);
  CHECK(file.find("Pr0xy-S3cret!") == std::string::npos);
  CHECK(file.find("S3rvice-Pa55") == std::string::npos);

  GuiRun second(dir, display,
                "open-settings\nget enable\nget allow\nget organisation_id\n"
                "get verification_code\nget serial\nget proxy_auto\nget proxy_manual\n"
                "get proxy_host\nget proxy_port\nget proxy_auth\nget proxy_user\n"
                "get proxy_password\nget proxy_domain\nget account_other\nget service_user\n"
                "get service_password\nget language\nclose-settings\nquit\n",
                env);
  REQUIRE(second.Finish() == 0);
  const std::map<std::string, std::string> expected = {{"enable", "1"},
                                                       {"allow", "1"},
                                                       {"organisation_id", "ORG-4711"},
                                                       {"verification_code", "vc-93a1"},
                                                       {"proxy_auto", "0"},
                                                       {"proxy_manual", "1"},
                                                       {"proxy_host", "proxy.corp.example"},
                                                       {"proxy_port", "3128"},
                                                       {"proxy_auth", "1"},
                                                       {"proxy_user", "alice"},
                                                       {"proxy_password", "Pr0xy-S3cret!"},
                                                       {"proxy_domain", "CORP"},
                                                       {"account_other", "1"},
                                                       {"service_user", "svc-lifeline"},
                                                       {"service_password", "S3rvice-Pa55"},
                                                       {"language", "it"}};
  for (const auto& [field, value] : expected) {
    INFO(field);
    CHECK(second.Find("get." + field) == value);
  }
  // The language chosen is Italian: the serial number's "no licence" is translated.
  CHECK(second.Find("get.serial") == "nessuna licenza");
}

TEST_CASE("The language follows the system (LANG) unless the settings choose one",
          "[integration][desktop]") {
  Xvfb xvfb(1280, 800);
  TempDir dir;
  WriteHostSettings(dir, FreeLoopbackPort());
  GuiRun italian(dir, xvfb.display(), "open-settings\nget serial\nclose-settings\nquit\n",
                 {{"LANG", "it_IT.UTF-8"}});
  CHECK(italian.Finish() == 0);
  CHECK(italian.Find("get.serial") == "nessuna licenza");
  WriteHostSettings(dir, FreeLoopbackPort(), "[ui]\nlanguage = \"en\"\n");
  GuiRun english(dir, xvfb.display(), "open-settings\nget serial\nclose-settings\nquit\n",
                 {{"LANG", "it_IT.UTF-8"}});
  CHECK(english.Finish() == 0);
  CHECK(english.Find("get.serial") == "no licence");
}

TEST_CASE("Remote Service dialog: every field saved and found again, passwords encrypted",
          "[integration][desktop]") {
  Xvfb xvfb(1280, 800);
  TempDir dir;
  CheckSettingsRoundTrip(dir, xvfb.display(), {});
  // No keyring here (no session bus): the encrypted store holds the passwords.
  const std::string blob = ReadFileToString(dir.File("config/lifeline/secrets.enc"));
  CHECK(blob.size() > 16);
  CHECK(blob.find("Pr0xy-S3cret!") == std::string::npos);
}

TEST_CASE("Remote Service dialog: passwords in a real GNOME Keyring", "[integration][desktop]") {
  Xvfb xvfb(1280, 800);
  SessionBus bus(/*with_keyring=*/true);
  TempDir dir;
  CheckSettingsRoundTrip(dir, xvfb.display(), bus.Env());
  CHECK_FALSE(std::filesystem::exists(dir.File("config/lifeline/secrets.enc")));
  // The keyring holds them (its files are in the bus's folder, encrypted by the keyring).
  RunResult lookup = RunCommand(
      {"secret-tool", "lookup", "application", "lifeline", "key", "remote_service.proxy.password"},
      5000, bus.Env());
  CHECK(lookup.output.find("Pr0xy-S3cret!") != std::string::npos);
}

// The overlay while a headless viewer is connected: position, size, and still on top
// after another (managed) window is mapped over the same corner.
void CheckOverlay(bool with_window_manager) {
  Xvfb xvfb(1280, 800);
  if (with_window_manager)
    xvfb.StartWindowManager();
  TempDir dir;
  const int port = FreeLoopbackPort();
  WriteHostSettings(dir, port);
  const int sample_x = 1280 - 12 - 6;
  const int sample_y = 800 - 12 - 128 + 6;
  GuiRun gui(dir, xvfb.display(),
             "ready\nwait-listening\nconsent accept\nwait-overlay 20000\n"
             "wait-file " +
                 dir.File("covered") +
                 "\nsleep 2500\n"
                 "pixel " +
                 std::to_string(sample_x) + " " + std::to_string(sample_y) +
                 "\n"
                 "disconnect\nwait-no-overlay 10000\nquit\n");
  const std::string password = gui.WaitFor("password", 10000);
  REQUIRE(!gui.WaitFor("address", 10000).empty());
  WriteStringToFile(dir.File("password"), password + "\n");
  Subprocess::Options viewer;
  viewer.argv = {LifelineBinary(), "view",       "127.0.0.1:" + std::to_string(port),
                 "--headless",     "--duration", "30"};
  viewer.set_env = {{"XDG_CONFIG_HOME", dir.File("viewer-config")}, {"HOME", dir.path()}};
  viewer.stdin_path = dir.File("password");  // Not a terminal: read as one line.
  viewer.stderr_path = dir.File("viewer.log");
  Subprocess view(viewer);

  const std::string where = gui.WaitFor("overlay", 25000);
  INFO("viewer log: " << ReadFileToString(dir.File("viewer.log")));
  REQUIRE(where != "");
  REQUIRE(where != "none");
  int x = 0, y = 0, w = 0, h = 0;
  REQUIRE(std::sscanf(where.c_str(), "%d,%d,%d,%d", &x, &y, &w, &h) == 4);
  CHECK(w == 340);
  CHECK(h == 128);
  CHECK(x + w == 1280 - 12);
  CHECK(y + h == 800 - 12);
  CHECK(gui.WaitFor("session_status", 5000).find("Session active") == 0);
  if (with_window_manager) {
    RunResult state = RunCommand({"sh", "-c",
                                  "xprop -id $(xdotool search --name 'Lifeline session' | head -1)"
                                  " _NET_WM_STATE"},
                                 5000, {{"DISPLAY", xvfb.display()}});
    CHECK(state.output.find("_NET_WM_STATE_ABOVE") != std::string::npos);
  }

  // A window mapped later over the same corner (a managed one: xmessage, red).
  Subprocess::Options cover;
  cover.argv = {"xmessage", "-geometry", "700x400+560+380", "-bg", "red", "cover"};
  cover.set_env = {{"DISPLAY", xvfb.display()}};
  cover.stdout_path = dir.File("xmessage.log");
  cover.stderr_path = dir.File("xmessage.log");
  Subprocess covering(cover);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  WriteStringToFile(dir.File("covered"), "1");
  // The overlay's own background colour (0x1f4e79) must be what the screen shows there.
  CHECK(gui.WaitFor("pixel", 15000) == "1f4e79");
  CHECK(gui.WaitFor("overlay_gone", 15000) == "1");
  CHECK(gui.Finish() == 0);
  covering.Stop(500);
  view.Stop(2000);
}

TEST_CASE("Session overlay: bottom-right, on top, without a window manager",
          "[integration][desktop]") {
  CheckOverlay(false);
}

TEST_CASE("Session overlay: bottom-right, on top, with openbox", "[integration][desktop]") {
  CheckOverlay(true);
}

// A file from the viewer: the prompt names it, Accept puts it into the receive folder
// (~/Downloads/Lifeline), and the file arrives whole.
TEST_CASE("File transfer is confirmed in a prompt before the file arrives",
          "[integration][desktop]") {
  Xvfb xvfb(1280, 800);
  TempDir dir;
  const int port = FreeLoopbackPort();
  WriteHostSettings(dir, port);
  GuiRun gui(dir, xvfb.display(),
             "ready\nwait-listening\nconsent accept\nwait-overlay 20000\nfile accept\n"
             "sleep 1500\ndisconnect\nwait-no-overlay 10000\nquit\n");
  const std::string password = gui.WaitFor("password", 10000);
  REQUIRE(!gui.WaitFor("address", 10000).empty());
  WriteStringToFile(dir.File("password"), password + "\n");
  WriteStringToFile(dir.File("report.txt"), "quarterly numbers\n");
  Subprocess::Options viewer;
  viewer.argv = {LifelineBinary(),
                 "view",
                 "127.0.0.1:" + std::to_string(port),
                 "--headless",
                 "--duration",
                 "30",
                 "--send",
                 dir.File("report.txt")};
  viewer.set_env = {{"XDG_CONFIG_HOME", dir.File("viewer-config")}, {"HOME", dir.path()}};
  viewer.stdin_path = dir.File("password");
  viewer.stderr_path = dir.File("viewer.log");
  Subprocess view(viewer);
  INFO("viewer log: " << ReadFileToString(dir.File("viewer.log")));
  CHECK(gui.WaitFor("file", 25000) == "accept");
  CHECK(gui.WaitFor("overlay_gone", 20000) == "1");
  CHECK(gui.Finish() == 0);
  view.Stop(2000);
  std::string listing;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path()))
    listing += entry.path().string() + "\n";
  INFO(listing);
  CHECK(ReadFileToString(dir.File("Downloads/Lifeline/report.txt")) == "quarterly numbers\n");
}

// Through a real lifeline-relay: the main window shows the relay's ID, and a headless
// viewer reaching that ID gets the consent prompt and the overlay.
TEST_CASE("Desktop app registers with the relay from its settings and serves by ID",
          "[integration][desktop]") {
  Xvfb xvfb(1280, 800);
  TempDir dir;
  const int relay_port = FreeLoopbackPort();
  const std::string relay_address = "127.0.0.1:" + std::to_string(relay_port);
  Subprocess relay(Subprocess::Options{
      {LifelineBinary() + "-relay", "--listen", relay_address, "--metrics-listen",
       "127.0.0.1:" + std::to_string(FreeLoopbackPort()), "--key", dir.File("relay_key.pem"),
       "--cert", dir.File("relay_cert.pem"), "--create-key", "--db", dir.File("relay.sqlite"),
       "--capture-file", dir.File("relay_capture.bin")},
      {},
      {},
      dir.File("relay.out"),
      dir.File("relay.out"),
      ""});
  std::string pin;
  for (int i = 0; i < 500 && pin.empty(); ++i) {
    const std::string text = ReadFileToString(dir.File("relay.out"));
    if (auto at = text.find("pin: "); at != std::string::npos && text.size() >= at + 5 + 64)
      pin = text.substr(at + 5, 64);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(pin.size() == 64);
  WriteHostSettings(dir, FreeLoopbackPort(),
                    "[remote_service]\nenabled = true\norganisation_id = \"ORG\"\n"
                    "verification_code = \"v\"\nrelay = \"" +
                        relay_address + "\"\nrelay_pin = \"" + pin + "\"\n");
  GuiRun gui(dir, xvfb.display(),
             "ready\nwait-listening 15000\nconsent accept\nwait-overlay 20000\n"
             "disconnect\nwait-no-overlay 10000\nquit\n",
             {{"http_proxy", ""}, {"https_proxy", ""}, {"all_proxy", ""}});
  const std::string status = gui.WaitFor("status", 20000);
  INFO("GUI log: " << ReadFileToString(dir.File("gui-" + std::to_string(1) + ".log")));
  CHECK(status.find("connected to the relay " + relay_address) != std::string::npos);
  const std::string id = gui.WaitFor("service_id", 1000);
  REQUIRE(id.size() == 11);
  WriteStringToFile(dir.File("password"), *gui.Find("password") + "\n");
  Subprocess::Options viewer;
  std::string digits = id;
  digits.erase(std::remove(digits.begin(), digits.end(), ' '), digits.end());
  viewer.argv = {LifelineBinary(), "view", digits,       "--relay",    relay_address,
                 "--relay-pin",    pin,    "--headless", "--duration", "30"};
  viewer.set_env = {{"XDG_CONFIG_HOME", dir.File("viewer-config")}, {"HOME", dir.path()}};
  viewer.stdin_path = dir.File("password");
  viewer.stderr_path = dir.File("viewer.log");
  Subprocess view(viewer);
  const std::string where = gui.WaitFor("overlay", 25000);
  INFO("viewer log: " << ReadFileToString(dir.File("viewer.log")));
  CHECK(where.find("928,660,340,128") == 0);
  CHECK(gui.WaitFor("overlay_gone", 15000) == "1");
  CHECK(gui.Finish() == 0);
  view.Stop(2000);
  relay.Stop(2000);
}

}  // namespace
}  // namespace lifeline::testing
