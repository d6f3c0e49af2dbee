// `lifeline doctor` and the --proxy flags, run as a person runs them, with a real squid.
#include <catch2/catch.hpp>

#include <string>

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

TEST_CASE("--proxy refuses a password on the command line", "[integration][doctor]") {
  TempDir dir;
  auto result =
      RunCommand({LifelineBinary(), "doctor", "--proxy", "http://alice:hunter22@127.0.0.1:3128"},
                 10'000, IsolatedEnv(dir), kProxyVariables);
  CHECK(result.exit_status == 2);
  CHECK(result.output.find("--proxy-password-file") != std::string::npos);
  CHECK(result.output.find("hunter22") == std::string::npos);
}

}  // namespace lifeline::testing
