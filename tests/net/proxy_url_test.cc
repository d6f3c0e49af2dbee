// Proxy URL parsing, redaction and ProxyConfig validation (pure functions).
#include "net/proxy/proxy_url.h"

#include <catch2/catch.hpp>

#include "net/proxy/proxy_config.h"
#include "net/proxy/proxy_detection.h"

namespace lifeline {

TEST_CASE("ParseProxyUrl reads the schemes, default ports and logins", "[proxy][unit]") {
  auto http = ParseProxyUrl("http://127.0.0.1:3128");
  REQUIRE(http.ok());
  CHECK(http->scheme == ProxyScheme::kHttp);
  CHECK(http->host == "127.0.0.1");
  CHECK(http->port == 3128);
  CHECK_FALSE(http->has_credentials);

  auto socks = ParseProxyUrl("SOCKS5H://[::1]/");
  REQUIRE(socks.ok());
  CHECK(socks->scheme == ProxyScheme::kSocks5);
  CHECK(socks->port == 1080);
  CHECK(socks->ToString() == "socks5://[::1]:1080");

  auto login = ParseProxyUrl("https://CORP%5Calice:p%40ss:w@proxy.example:8443");
  REQUIRE(login.ok());
  CHECK(login->scheme == ProxyScheme::kHttps);
  CHECK(login->user == "CORP\\alice");
  CHECK(login->password == "p@ss:w");
  CHECK(login->ToString() == "https://proxy.example:8443");
  CHECK(login->Describe() == "HTTPS proxy proxy.example:8443");

  auto direct = ParseProxyUrl("direct://");
  REQUIRE(direct.ok());
  CHECK(direct->scheme == ProxyScheme::kDirect);
}

TEST_CASE("ParseProxyUrl refuses bad URLs without showing the password", "[proxy][unit]") {
  for (const char* bad :
       {"ftp://alice:hunter22@h:1", "http://alice:hunter22@", "socks4://h:1",
        "http://alice:hunter22@h:1/path", "alice:hunter22@h:1", "http://alice:hunter22@h:99999",
        "http://alice:hunt%zz@h:1", "http://:hunter22@h:1"}) {
    auto parsed = ParseProxyUrl(bad, "--proxy");
    INFO(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::kProxyConfigInvalid);
    CHECK(parsed.error().message.rfind("--proxy: ", 0) == 0);
    CHECK(parsed.error().message.find("hunter22") == std::string::npos);
  }
}

TEST_CASE("RedactProxyUrl hides the login", "[proxy][unit]") {
  CHECK(RedactProxyUrl("http://alice:s3cret@127.0.0.1:3128") == "http://***@127.0.0.1:3128");
  CHECK(RedactProxyUrl("http://a:p@ss@h:1/x@y") == "http://***@h:1/x@y");
  CHECK(RedactProxyUrl("socks5://h:1") == "socks5://h:1");
  CHECK(RedactProxyUrl("pac+http://u:pw@h/p.pac") == "pac+http://***@h/p.pac");
}

TEST_CASE("ParseProxyList keeps libproxy's order and skips unusable entries", "[proxy][unit]") {
  const ProxyList list = ParseProxyList(
      {"http://127.0.0.1:3132", "socks4://127.0.0.1:1080", "socks5://127.0.0.1:1080", "direct://"});
  REQUIRE(list.endpoints.size() == 3);
  CHECK(list.endpoints[0].ToString() == "http://127.0.0.1:3132");
  CHECK(list.endpoints[1].ToString() == "socks5://127.0.0.1:1080");
  CHECK(list.endpoints[2].scheme == ProxyScheme::kDirect);
  REQUIRE(list.skipped.size() == 1);
  CHECK(list.skipped[0].find("socks4") != std::string::npos);
}

TEST_CASE("PAC URL from a libproxy environment value", "[proxy][unit]") {
  CHECK(PacUrlFromProxyVariable("pac+http://127.0.0.1:8000/proxy.pac") ==
        "http://127.0.0.1:8000/proxy.pac");
  CHECK(PacUrlFromProxyVariable("http://127.0.0.1:3128").empty());
  CHECK(PacUrlFromProxyVariable("pac+").empty());
}

TEST_CASE("ValidateProxyConfig names the field", "[proxy][unit]") {
  ProxyConfig config;
  CHECK(ValidateProxyConfig(config).ok());  // none
  config.mode = ProxyMode::kManual;
  auto expect_field = [&](const char* field) {
    const Status status = ValidateProxyConfig(config);
    REQUIRE_FALSE(status.ok());
    CHECK(status.code() == ErrorCode::kProxyConfigInvalid);
    CHECK(status.error().message.rfind(field, 0) == 0);
    CHECK(status.error().message.find("pa$$word") == std::string::npos);
  };
  expect_field("proxy.host:");
  config.host = "bad host!";
  expect_field("proxy.host:");
  config.host = "proxy.corp.example";
  expect_field("proxy.port:");
  config.port = 3128;
  CHECK(ValidateProxyConfig(config).ok());
  config.auth = true;
  config.user = "alice";
  config.password = "pa$$word\r\nX-Injected: 1";
  expect_field("proxy.password:");
  config.password = "pa$$word";
  CHECK(ValidateProxyConfig(config).ok());
  config.user = "alice\n";
  expect_field("proxy.user:");
  config.user = "OTHER\\alice";
  config.domain = "CORP";
  expect_field("proxy.domain:");
  config.user = "alice";
  CHECK(ValidateProxyConfig(config).ok());
  CHECK(EndpointFromConfig(config).user == "CORP\\alice");
  config.password = std::string(256, 'x');
  expect_field("proxy.password:");
  config.password = "pa$$word";
  config.type = ProxyType::kSocks5;
  config.user = "";
  config.domain = "";
  expect_field("proxy.user:");
  // Automatic mode ignores host and port.
  ProxyConfig automatic;
  automatic.mode = ProxyMode::kAutomatic;
  CHECK(ValidateProxyConfig(automatic).ok());
}

TEST_CASE("JoinDomainUser", "[proxy][unit]") {
  CHECK(JoinDomainUser("alice", "CORP") == "CORP\\alice");
  CHECK(JoinDomainUser("alice@corp.example", "CORP") == "alice@corp.example");
  CHECK(JoinDomainUser("alice", "") == "alice");
}

}  // namespace lifeline
