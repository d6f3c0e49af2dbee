// The relay with the real executables on loopback: `lifeline-relay`, `lifeline host
// --relay` (synthetic screen) and `lifeline view ID --relay --headless`.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/proxy_fixtures.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string RelayBinary() {
  return LifelineBinary() + "-relay";
}

std::map<std::string, std::string> Env(const TempDir& dir, const std::string& who) {
  return {{"XDG_CONFIG_HOME", dir.File(who + "-config")}, {"HOME", dir.File(who)}};
}

// Waits until `regex` matches the file's text (at least `count` times); returns the last
// match's first group, or "" on timeout.
std::string WaitForMatch(const std::string& path,
                         const std::string& regex,
                         int timeout_ms,
                         int count = 1) {
  const std::regex pattern(regex);
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    const std::string text = ReadFileToString(path);
    int found = 0;
    std::string last;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
         it != std::sregex_iterator(); ++it) {
      ++found;
      last = it->size() > 1 ? (*it)[1].str() : it->str();
    }
    if (found >= count)
      return last.empty() ? "matched" : last;
    std::this_thread::sleep_for(20ms);
  }
  return "";
}

int CountMatches(const std::string& path, const std::string& regex) {
  const std::string text = ReadFileToString(path);
  const std::regex pattern(regex);
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), pattern),
                                        std::sregex_iterator()));
}

// A relay process with its files in `dir`; restartable on the same port, key and database.
class RelayProcess {
 public:
  RelayProcess(const TempDir& dir, std::vector<std::string> extra = {})
      : dir_(dir), port_(FreeLoopbackPort()), metrics_port_(FreeLoopbackPort()), extra_(extra) {}
  void Start() {
    ++starts_;
    out_ = dir_.File("relay" + std::to_string(starts_) + ".out");
    std::vector<std::string> argv{RelayBinary(),
                                  "--listen",
                                  address(),
                                  "--metrics-listen",
                                  "127.0.0.1:" + std::to_string(metrics_port_),
                                  "--key",
                                  dir_.File("relay_key.pem"),
                                  "--cert",
                                  dir_.File("relay_cert.pem"),
                                  "--create-key",
                                  "--db",
                                  dir_.File("relay_ids.sqlite"),
                                  "--capture-file",
                                  dir_.File("relay_capture.bin")};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    process_ = std::make_unique<Subprocess>(Subprocess::Options{argv, {}, {}, out_, out_, ""});
    pin_ = WaitForMatch(out_, "pin: ([0-9a-f]{64})", 10'000);
    REQUIRE(pin_.size() == 64);
  }
  void Kill() {
    process_->Signal(SIGKILL);
    process_->Wait(5000);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  const std::string& pin() const { return pin_; }
  const std::string& output_path() const { return out_; }

 private:
  const TempDir& dir_;
  int port_;
  int metrics_port_;
  std::vector<std::string> extra_;
  int starts_ = 0;
  std::string out_;
  std::string pin_;
  std::unique_ptr<Subprocess> process_;
};

// Proxy variables from the environment must not steer these tests.
const std::vector<std::string> kProxyVariables = {"http_proxy",  "https_proxy", "HTTP_PROXY",
                                                  "HTTPS_PROXY", "all_proxy",   "ALL_PROXY",
                                                  "no_proxy",    "NO_PROXY"};

struct HostProcess {
  HostProcess(const TempDir& dir,
              const RelayProcess& relay,
              const std::string& pin,
              std::vector<std::string> extra = {}) {
    out = dir.File("host.out");
    std::vector<std::string> argv{LifelineBinary(), "host", "--source", "synthetic",
                                  "--fps",          "20",   "--relay",  relay.address(),
                                  "--relay-pin",    pin};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<Subprocess>(
        Subprocess::Options{argv, Env(dir, "host"), kProxyVariables, out, out, ""});
  }
  std::string WaitForId(int count = 1) {
    return WaitForMatch(out, "ID: ([0-9]{3} [0-9]{3} [0-9]{3})", 15'000, count);
  }
  std::string out;
  std::unique_ptr<Subprocess> process;
};

std::string PasswordFile(const TempDir& dir, const std::string& host_out) {
  const std::string password = WaitForMatch(host_out, "Password: ([A-Z0-9-]+)", 5000);
  WriteStringToFile(dir.File("password.txt"), password + "\n");
  return dir.File("password.txt");
}

std::unique_ptr<Subprocess> StartViewer(const TempDir& dir,
                                        const RelayProcess& relay,
                                        const std::string& id,
                                        const std::string& password_file,
                                        const std::string& stats,
                                        const std::string& out,
                                        double duration_s,
                                        std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{LifelineBinary(),
                                "view",
                                id,
                                "--relay",
                                relay.address(),
                                "--relay-pin",
                                relay.pin(),
                                "--headless",
                                "--password-file",
                                password_file,
                                "--stats",
                                stats,
                                "--duration",
                                std::to_string(duration_s)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<Subprocess>(
      Subprocess::Options{argv, Env(dir, "viewer"), kProxyVariables, out, out, ""});
}

// Frames per second in the last stats line, -1 if none.
double LastFps(const std::string& stats_path) {
  std::istringstream in(ReadFileToString(stats_path));
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty())
      last = line;
  const auto pos = last.find("\"fps\":");
  return pos == std::string::npos ? -1 : std::stod(last.substr(pos + 6));
}

// True once the viewer's stats show at least 5 frames per second (within 20 s).
bool WaitForStreaming(const std::string& stats_path) {
  const auto deadline = Clock::now() + 20s;
  while (LastFps(stats_path) < 5 && Clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  return LastFps(stats_path) >= 5;
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    if (write(fd, request.data(), request.size()) > 0) {
      char buffer[4096];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0)
        out.append(buffer, static_cast<size_t>(n));
    }
  }
  close(fd);
  return out;
}

uint64_t Metric(int port, const std::string& name) {
  const std::string text = HttpGet(port, "/metrics");
  const auto pos = text.find("\n" + name + " ");
  return pos == std::string::npos ? 0 : std::stoull(text.substr(pos + name.size() + 2));
}

TEST_CASE("Host and viewer meet through lifeline-relay by ID; the relay sees no plaintext",
          "[integration][relay]") {
  TempDir dir;
  RelayProcess relay(dir);
  relay.Start();
  HostProcess host(dir, relay, relay.pin());
  const std::string id = host.WaitForId();
  REQUIRE(!id.empty());
  CHECK(!WaitForMatch(host.out, "Connected to relay 127\\.0\\.0\\.1:[0-9]+ \\(direct\\)", 1000)
             .empty());
  const std::string password_file = PasswordFile(dir, host.out);
  const std::string password = ReadFileToString(password_file).substr(0, 12);

  auto viewer =
      StartViewer(dir, relay, id, password_file, dir.File("stats.json"), dir.File("viewer.out"), 3);
  const auto status = viewer->Wait(30'000);
  INFO(ReadFileToString(dir.File("viewer.out")));
  INFO(ReadFileToString(host.out));
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(LastFps(dir.File("stats.json")) >= 10);
  CHECK(ReadFileToString(dir.File("viewer.out")).find("through relay") != std::string::npos);

  // Requirement 1 of security.md: everything the relay forwarded is opaque.
  const std::string captured = ReadFileToString(dir.File("relay_capture.bin"));
  CHECK(captured.size() > 100'000);  // Video went through it...
  std::string bare_password = password;
  bare_password.erase(std::remove(bare_password.begin(), bare_password.end(), '-'),
                      bare_password.end());
  CHECK(captured.find(password) == std::string::npos);  // ...but no password,
  CHECK(captured.find(bare_password) == std::string::npos);
  CHECK(captured.find("0.1.0") == std::string::npos);  // no Hello (app version),
  CHECK(captured.find("VP80") == std::string::npos);   // no codec bytes in the clear.
  host.process->Stop();
}

TEST_CASE("A wrong relay pin is refused with a clear error", "[integration][relay]") {
  TempDir dir;
  RelayProcess relay(dir);
  relay.Start();
  const std::string wrong_pin(64, 'a');
  HostProcess host(dir, relay, wrong_pin);
  const auto status = host.process->Wait(20'000);
  const std::string out = ReadFileToString(host.out);
  INFO(out);
  REQUIRE(status.has_value());
  CHECK(*status == 1);
  CHECK(out.find("not the pinned key") != std::string::npos);
  CHECK(out.find("ID: ") == std::string::npos);

  WriteStringToFile(dir.File("pw"), "ABCD-EFGH-JK\n");
  auto view =
      RunCommand({LifelineBinary(), "view", "123456789", "--relay", relay.address(), "--relay-pin",
                  wrong_pin, "--headless", "--password-file", dir.File("pw")},
                 20'000, Env(dir, "viewer"));
  CHECK(view.exit_status == 1);
  CHECK(view.output.find("not the pinned key") != std::string::npos);
}

TEST_CASE("An unknown ID gets the same answer as an offline one", "[integration][relay]") {
  TempDir dir;
  RelayProcess relay(dir);
  relay.Start();
  std::string offline_id;
  {
    HostProcess host(dir, relay, relay.pin());
    offline_id = host.WaitForId();
    REQUIRE(!offline_id.empty());
    host.process->Stop();
  }
  offline_id.erase(std::remove(offline_id.begin(), offline_id.end(), ' '), offline_id.end());
  const std::string unknown_id = offline_id == "100000000" ? "100000001" : "100000000";
  WriteStringToFile(dir.File("pw"), "ABCD-EFGH-JK\n");
  auto ask = [&](const std::string& id) {
    auto result =
        RunCommand({LifelineBinary(), "view", id, "--relay", relay.address(), "--relay-pin",
                    relay.pin(), "--headless", "--password-file", dir.File("pw")},
                   20'000, Env(dir, "viewer"));
    // The same sentence apart from the ID itself.
    std::string text = result.output;
    for (const std::string& shown :
         {id, id.substr(0, 3) + " " + id.substr(3, 3) + " " + id.substr(6)})
      for (size_t pos; (pos = text.find(shown)) != std::string::npos;)
        text.replace(pos, shown.size(), "<ID>");
    // Keep only the error line (logs carry times and ports).
    const auto start = text.find("lifeline: ");
    return std::make_pair(
        result.exit_status,
        start == std::string::npos ? text : text.substr(start, text.find('\n', start) - start));
  };
  auto [unknown_status, unknown_text] = ask(unknown_id);
  auto [offline_status, offline_text] = ask(offline_id);
  INFO(unknown_text);
  INFO(offline_text);
  CHECK(unknown_status == 1);
  CHECK(offline_status == 1);
  CHECK(unknown_text.find("unknown or offline") != std::string::npos);
  CHECK(unknown_text == offline_text);
}

TEST_CASE("Relay killed mid-session: both sides end with an error; the host is back with its ID",
          "[integration][relay]") {
  TempDir dir;
  RelayProcess relay(dir);
  relay.Start();
  HostProcess host(dir, relay, relay.pin());
  const std::string id = host.WaitForId();
  REQUIRE(!id.empty());
  const std::string password_file = PasswordFile(dir, host.out);
  auto viewer = StartViewer(dir, relay, id, password_file, dir.File("stats.json"),
                            dir.File("viewer.out"), 60);
  // Streaming for real before the relay dies.
  REQUIRE(WaitForStreaming(dir.File("stats.json")));

  relay.Kill();
  const auto viewer_status = viewer->Wait(10'000);
  const std::string viewer_out = ReadFileToString(dir.File("viewer.out"));
  INFO(viewer_out);
  REQUIRE(viewer_status.has_value());
  CHECK(*viewer_status == 1);
  CHECK(viewer_out.find("session ended") != std::string::npos);
  CHECK(!WaitForMatch(host.out, "lifeline: session ended: [^\\n]+", 10'000).empty());
  CHECK(!WaitForMatch(host.out, "Relay unreachable, retrying in", 10'000).empty());
  CHECK(host.process->running());

  const int registered_before = CountMatches(host.out, "\\nConnected to relay");
  relay.Start();  // Same port, key and database.
  const auto back = Clock::now();
  const std::string id_again = host.WaitForId(2);
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - back).count();
  INFO(ReadFileToString(host.out));
  CHECK(CountMatches(host.out, "\\nConnected to relay") == registered_before + 1);
  CHECK(id_again == id);
  CHECK(elapsed_ms < 5000);
  host.process->Stop();
}

TEST_CASE("A connection flood is rate-limited while an established session keeps streaming",
          "[integration][relay]") {
  TempDir dir;
  RelayProcess relay(dir, {"--source-rate", "5", "--source-burst", "10"});
  relay.Start();
  HostProcess host(dir, relay, relay.pin());
  const std::string id = host.WaitForId();
  REQUIRE(!id.empty());
  auto viewer = StartViewer(dir, relay, id, PasswordFile(dir, host.out), dir.File("stats.json"),
                            dir.File("viewer.out"), 8);
  REQUIRE(WaitForStreaming(dir.File("stats.json")));

  // 300 connection attempts from the same source, as fast as possible.
  std::vector<int> fds;
  for (int i = 0; i < 300; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(relay.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static_cast<void>(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(1500ms);
  const uint64_t limited = Metric(relay.metrics_port(), "lifeline_relay_rate_limited_total");
  CHECK(limited >= 250);
  CHECK(Metric(relay.metrics_port(), "lifeline_relay_active_pairs") == 1);
  for (int fd : fds)
    close(fd);
  // The session never noticed.
  const auto status = viewer->Wait(30'000);
  INFO(ReadFileToString(dir.File("viewer.out")));
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(LastFps(dir.File("stats.json")) >= 10);
  host.process->Stop();
}

TEST_CASE("Host and viewer both behind an authenticating squid meet through the relay",
          "[integration][relay][proxy][squid]") {
  TempDir dir;
  SquidProxy squid(SquidAuth::kBasic);
  RelayProcess relay(dir);
  relay.Start();
  WriteStringToFile(dir.File("proxy-password"), std::string(kProxyPassword) + "\n");
  const std::vector<std::string> proxy_flags{
      "--proxy",  "http://" + squid.address(), "--proxy-user",
      kProxyUser, "--proxy-password-file",     dir.File("proxy-password")};
  HostProcess host(dir, relay, relay.pin(), proxy_flags);
  const std::string id = host.WaitForId();
  INFO(ReadFileToString(host.out));
  REQUIRE(!id.empty());
  // The host says how it got out.
  CHECK(ReadFileToString(host.out).find("Connected to relay " + relay.address() + " (HTTP proxy") !=
        std::string::npos);
  auto viewer = StartViewer(dir, relay, id, PasswordFile(dir, host.out), dir.File("stats.json"),
                            dir.File("viewer.out"), 3, proxy_flags);
  const auto status = viewer->Wait(60'000);
  INFO(ReadFileToString(dir.File("viewer.out")));
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(LastFps(dir.File("stats.json")) >= 10);
  // squid carried the viewer's tunnel (its line is written when the tunnel ends) with the
  // login, and the proxy password appears in no output.
  CHECK(squid.WaitForAccessLog("TCP_TUNNEL/200"));
  CHECK(squid.AccessLog().find(kProxyUser) != std::string::npos);
  CHECK(ReadFileToString(dir.File("viewer.out")).find(kProxyPassword) == std::string::npos);
  CHECK(ReadFileToString(host.out).find(kProxyPassword) == std::string::npos);
  host.process->Stop();
}

}  // namespace
}  // namespace lifeline::testing
