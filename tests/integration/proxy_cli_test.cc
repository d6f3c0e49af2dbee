// `lifeline doctor` and the --proxy flags, run as a person runs them, with a real squid.
// Also a whole secure session (host -> squid NTLM -> viewer) through the proxy flags.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/host_process.h"
#include "tests/support/proxy_fixtures.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline::testing {
namespace {

std::map<std::string, std::string> IsolatedEnv(const TempDir& dir) {
  return {{"XDG_CONFIG_HOME", dir.File("config")}, {"HOME", dir.path()}};
}

const std::vector<std::string> kProxyVariables = {"http_proxy",  "https_proxy", "HTTP_PROXY",
                                                  "HTTPS_PROXY", "all_proxy",   "ALL_PROXY"};

// The table line whose first cell starts with `path`.
std::string Line(const std::string& output, const std::string& path) {
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos)
      end = output.size();
    const std::string line = output.substr(start, end - start);
    if (line.rfind(path, 0) == 0)
      return line;
    start = end + 1;
  }
  return {};
}

}  // namespace

TEST_CASE("lifeline doctor prints a table of every way out", "[integration][doctor][squid]") {
  TempDir dir;
  SquidProxy squid(SquidAuth::kBasic);
  EchoServer relay;  // Stands in for the relay: the doctor stops at the tunnel without a pin.
  const int closed_port = FreeLoopbackPort();
  WriteStringToFile(dir.File("proxy-password"), std::string(kProxyPassword) + "\n");

  auto result = RunCommand(
      {LifelineBinary(), "doctor", "--relay", "127.0.0.1:" + std::to_string(relay.port()),
       "--fallback-port", std::to_string(closed_port), "--proxy",
       "http://alice@127.0.0.1:" + std::to_string(squid.port()), "--proxy-password-file",
       dir.File("proxy-password"), "--timeout-ms", "5000"},
      30'000, IsolatedEnv(dir), kProxyVariables);
  INFO(result.output);
  CHECK(result.exit_status == 0);
  CHECK(Line(result.output, "path").find("| result | time ms | detail") != std::string::npos);
  const std::string relay_target = "127.0.0.1:" + std::to_string(relay.port());
  const std::string fallback_target = "127.0.0.1:" + std::to_string(closed_port);
  CHECK(Line(result.output, "direct -> " + relay_target).find("| ok ") != std::string::npos);
  const std::string proxied =
      Line(result.output, "configured: HTTP proxy " + squid.address() + " -> " + relay_target);
  CHECK(proxied.find("| ok ") != std::string::npos);
  CHECK(proxied.find("CONNECT 200") != std::string::npos);
  const std::string proxied_fallback =
      Line(result.output, "configured: HTTP proxy " + squid.address() + " -> " + fallback_target);
  CHECK(proxied_fallback.find("E232") != std::string::npos);
  CHECK(proxied_fallback.find("HTTP 503") != std::string::npos);
  CHECK(Line(result.output, "direct -> " + fallback_target).find("E201") != std::string::npos);
  CHECK(result.output.find("detection (libproxy)") != std::string::npos);
  CHECK(result.output.find(kProxyPassword) == std::string::npos);
}

TEST_CASE("lifeline doctor: a wrong proxy password is a 407 naming the user",
          "[integration][doctor][squid]") {
  TempDir dir;
  SquidProxy squid(SquidAuth::kBasic);
  EchoServer relay;
  WriteStringToFile(dir.File("proxy-password"), "wrong-pass-123\n");
  auto result = RunCommand(
      {LifelineBinary(), "doctor", "--relay", "127.0.0.1:" + std::to_string(relay.port()),
       "--relay-fallback", "127.0.0.1:" + std::to_string(relay.port()), "--no-detect", "--proxy",
       "http://127.0.0.1:" + std::to_string(squid.port()), "--proxy-user", "alice",
       "--proxy-domain", "CORP", "--proxy-password-file", dir.File("proxy-password")},
      30'000, IsolatedEnv(dir), kProxyVariables);
  INFO(result.output);
  CHECK(result.exit_status == 0);  // Direct works.
  const std::string proxied = Line(result.output, "configured: HTTP proxy");
  CHECK(proxied.find("E231") != std::string::npos);
  CHECK(proxied.find("CORP\\alice") != std::string::npos);
  CHECK(proxied.find("407") != std::string::npos);
  CHECK(result.output.find("wrong-pass-123") == std::string::npos);
}

TEST_CASE("The --proxy flag refuses a password on the command line", "[integration][doctor]") {
  TempDir dir;
  auto result =
      RunCommand({LifelineBinary(), "doctor", "--proxy", "http://alice:hunter22@127.0.0.1:3128"},
                 10'000, IsolatedEnv(dir), kProxyVariables);
  CHECK(result.exit_status == 2);
  CHECK(result.output.find("--proxy-password-file") != std::string::npos);
  CHECK(result.output.find("hunter22") == std::string::npos);
}

TEST_CASE("lifeline view reaches a host through squid with an NTLM login",
          "[integration][proxy][squid]") {
  TempDir dir;
  SquidProxy squid(SquidAuth::kNtlm);
  std::map<std::string, std::string> env = IsolatedEnv(dir);
  Subprocess host({.argv = {LifelineBinary(), "host", "--listen", "127.0.0.1:0", "--source",
                            "synthetic", "--once"},
                   .set_env = env,
                   .unset_env = kProxyVariables,
                   .stdout_path = dir.File("host.out"),
                   .stderr_path = dir.File("host.err")});
  const std::string address = WaitForListenAddress(host, dir.File("host.out"));
  REQUIRE_FALSE(address.empty());
  const std::string password_file = WritePasswordFile(dir, dir.File("host.out"));
  REQUIRE_FALSE(password_file.empty());
  WriteStringToFile(dir.File("proxy-password"), std::string(kProxyPassword) + "\n");

  auto viewer =
      RunCommand({LifelineBinary(), "view", address, "--headless", "--duration", "3",
                  "--password-file", password_file, "--stats", dir.File("stats.jsonl"), "--proxy",
                  "http://127.0.0.1:" + std::to_string(squid.port()), "--proxy-user", "alice",
                  "--proxy-domain", "CORP", "--proxy-password-file", dir.File("proxy-password")},
                 60'000, env, kProxyVariables);
  INFO("viewer: " << viewer.output);
  INFO("host: " << ReadFileToString(dir.File("host.err")));
  CHECK(viewer.exit_status == 0);
  CHECK(ReadFileToString(dir.File("stats.jsonl")).find("\"fps\"") != std::string::npos);
  // squid carried it: the tunnel line names the NTLM user (written when the tunnel ends).
  CHECK(squid.WaitForAccessLog("TCP_TUNNEL/200"));
  CHECK(squid.AccessLog().find("alice") != std::string::npos);
  CHECK(viewer.output.find(kProxyPassword) == std::string::npos);
  CHECK(host.Wait(15'000).has_value());
}

TEST_CASE("lifeline doctor checks the real relay's key on every path",
          "[integration][doctor][squid]") {
  TempDir dir;
  SquidProxy squid(SquidAuth::kBasic);
  const int relay_port = FreeLoopbackPort();
  Subprocess relay(
      {.argv = {std::string(LIFELINE_BINARY_DIR) + "/app/lifeline-relay", "--listen",
                "127.0.0.1:" + std::to_string(relay_port), "--metrics-listen", "127.0.0.1:0",
                "--key", dir.File("relay_key.pem"), "--cert", dir.File("relay_cert.pem"),
                "--create-key", "--db", dir.File("relay_ids.sqlite")},
       .stdout_path = dir.File("relay.out"),
       .stderr_path = dir.File("relay.err")});
  std::string pin;
  for (int i = 0; i < 200 && pin.empty() && relay.running(); ++i) {
    const std::string text = ReadFileToString(dir.File("relay.out"));
    const size_t at = text.find("pin: ");
    if (at != std::string::npos && text.size() >= at + 5 + 64)
      pin = text.substr(at + 5, 64);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO("relay: " << ReadFileToString(dir.File("relay.out"))
                 << ReadFileToString(dir.File("relay.err")));
  REQUIRE(pin.size() == 64);
  WriteStringToFile(dir.File("proxy-password"), std::string(kProxyPassword) + "\n");
  const std::string relay_address = "127.0.0.1:" + std::to_string(relay_port);
  auto doctor = [&](const std::string& with_pin) {
    return RunCommand(
        {LifelineBinary(), "doctor", "--relay", relay_address, "--relay-fallback", relay_address,
         "--relay-pin", with_pin, "--no-detect", "--proxy", "http://alice@" + squid.address(),
         "--proxy-password-file", dir.File("proxy-password")},
        30'000, IsolatedEnv(dir), kProxyVariables);
  };
  auto good = doctor(pin);
  INFO(good.output);
  CHECK(good.exit_status == 0);
  CHECK(Line(good.output, "direct -> " + relay_address).find("relay key matches the pin") !=
        std::string::npos);
  const std::string proxied = Line(good.output, "configured: HTTP proxy " + squid.address());
  CHECK(proxied.find("| ok ") != std::string::npos);
  CHECK(proxied.find("CONNECT 200") != std::string::npos);
  CHECK(proxied.find("relay key matches the pin") != std::string::npos);

  auto wrong = doctor(std::string(64, 'a'));
  INFO(wrong.output);
  CHECK(wrong.exit_status == 1);
  CHECK(Line(wrong.output, "direct -> " + relay_address).find("E241") != std::string::npos);
}

}  // namespace lifeline::testing
