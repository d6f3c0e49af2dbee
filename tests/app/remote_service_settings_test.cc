#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>

#include "app/core/remote_service_settings.h"
#include "app/core/secret_store.h"
#include "app/core/settings.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

// Every field of the seed dialog filled in, valid.
RemoteServiceSettings FullSettings() {
  RemoteServiceSettings s;
  s.enabled = true;
  s.allow_remote_assistance = true;
  s.organisation_id = "ORG-4711";
  s.verification_code = "vc-93a1";
  s.proxy_mode = ProxyMode::kManual;
  s.proxy_host = "proxy.corp.example";
  s.proxy_port = 3128;
  s.proxy_auth = true;
  s.proxy_user = "alice";
  s.proxy_password = "Pr0xy-S3cret!";
  s.proxy_domain = "CORP";
  s.service_account = ServiceAccount::kOtherAccount;
  s.service_user = "svc-lifeline";
  s.service_password = "S3rvice-Pa55";
  s.language = "it";
  return s;
}

bool Has(const std::vector<FieldIssue>& issues, RemoteServiceField field, FieldProblem problem) {
  return std::find(issues.begin(), issues.end(), FieldIssue{field, problem}) != issues.end();
}

TEST_CASE("Remote Service defaults are valid and need nothing", "[app][remote_service]") {
  RemoteServiceSettings s;
  CHECK(ValidateRemoteService(s).empty());
  CHECK(ValidateRemoteService(FullSettings()).empty());
}

TEST_CASE("Each Remote Service field reports its own reason", "[app][remote_service]") {
  SECTION("enable needs the organisation ID and verification code") {
    RemoteServiceSettings s;
    s.enabled = true;
    auto issues = ValidateRemoteService(s);
    CHECK(Has(issues, RemoteServiceField::kOrganisationId, FieldProblem::kRequired));
    CHECK(Has(issues, RemoteServiceField::kVerificationCode, FieldProblem::kRequired));
    CHECK(issues.size() == 2);
  }
  SECTION("manual proxy needs a host name and a port in range") {
    RemoteServiceSettings s;
    s.proxy_mode = ProxyMode::kManual;
    s.proxy_port = 0;
    auto issues = ValidateRemoteService(s);
    CHECK(Has(issues, RemoteServiceField::kProxyHost, FieldProblem::kRequired));
    CHECK(Has(issues, RemoteServiceField::kProxyPort, FieldProblem::kPortRange));
    s.proxy_host = "bad_host!";
    s.proxy_port = 65536;
    issues = ValidateRemoteService(s);
    CHECK(Has(issues, RemoteServiceField::kProxyHost, FieldProblem::kHostSyntax));
    CHECK(Has(issues, RemoteServiceField::kProxyPort, FieldProblem::kPortRange));
    s.proxy_host = "10.0.0.1";
    s.proxy_port = 65535;
    CHECK(ValidateRemoteService(s).empty());
  }
  SECTION("proxy authentication needs a user; the domain has no separators") {
    RemoteServiceSettings s = FullSettings();
    s.proxy_user.clear();
    s.proxy_domain = "CORP\\x";
    auto issues = ValidateRemoteService(s);
    CHECK(Has(issues, RemoteServiceField::kProxyUser, FieldProblem::kRequired));
    CHECK(Has(issues, RemoteServiceField::kProxyDomain, FieldProblem::kInvalidChars));
  }
  SECTION("other account needs user name and password") {
    RemoteServiceSettings s;
    s.service_account = ServiceAccount::kOtherAccount;
    auto issues = ValidateRemoteService(s);
    CHECK(Has(issues, RemoteServiceField::kServiceUser, FieldProblem::kRequired));
    CHECK(Has(issues, RemoteServiceField::kServicePassword, FieldProblem::kRequired));
  }
  SECTION("unused fields are not checked") {
    RemoteServiceSettings s;
    s.proxy_mode = ProxyMode::kAutomatic;
    s.proxy_host = "not valid!";
    s.proxy_port = -3;
    s.service_user.clear();
    CHECK(ValidateRemoteService(s).empty());
  }
  SECTION("control characters and overlong text") {
    RemoteServiceSettings s;
    s.organisation_id = "a\nb";
    s.verification_code = std::string(65, 'x');
    auto issues = ValidateRemoteService(s);
    CHECK(Has(issues, RemoteServiceField::kOrganisationId, FieldProblem::kInvalidChars));
    CHECK(Has(issues, RemoteServiceField::kVerificationCode, FieldProblem::kTooLong));
  }
  SECTION("language") {
    RemoteServiceSettings s;
    s.language = "de";
    CHECK(
        Has(ValidateRemoteService(s), RemoteServiceField::kLanguage, FieldProblem::kUnknownValue));
  }
  SECTION("the first problem becomes an error naming the field") {
    RemoteServiceSettings s;
    s.proxy_mode = ProxyMode::kManual;
    s.proxy_host = "proxy";
    s.proxy_port = 70000;
    Status st = CheckRemoteService(s);
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == ErrorCode::kSettingsInvalid);
    CHECK(st.error().message ==
          "remote_service.proxy.port: must be a whole number from 1 to 65535");
  }
}

TEST_CASE("Relay fields: address syntax, pin required with an address", "[app][remote_service]") {
  RemoteServiceSettings s;
  s.enabled = true;
  s.organisation_id = "ORG";
  s.verification_code = "v";
  CHECK_FALSE(UsesRelay(s));
  s.relay_address = "relay.example";  // No port.
  auto issues = ValidateRemoteService(s);
  CHECK(Has(issues, RemoteServiceField::kRelayAddress, FieldProblem::kAddressSyntax));
  CHECK(Has(issues, RemoteServiceField::kRelayPin, FieldProblem::kRequired));
  s.relay_address = "relay.example:7000";
  s.relay_pin = std::string(63, 'a');
  CHECK(Has(ValidateRemoteService(s), RemoteServiceField::kRelayPin, FieldProblem::kPinSyntax));
  s.relay_pin = std::string(64, 'A');
  s.relay_fallback = "relay.example:443";
  CHECK(ValidateRemoteService(s).empty());
  CHECK(UsesRelay(s));
  s.enabled = false;
  CHECK_FALSE(UsesRelay(s));  // "Enable" off: no connection to the remote service at all.

  Settings settings;
  settings.remote_service = s;
  auto again = ParseSettings(SerializeSettings(settings));
  REQUIRE(again.ok());
  CHECK(again->remote_service == s);
  auto bad = ParseSettings("[remote_service]\nrelay = \"r:1\"\nrelay_pin = \"xyz\"\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.rfind("remote_service.relay_pin", 0) == 0);
}

TEST_CASE("Port text and host name syntax", "[app][remote_service]") {
  CHECK(ParsePortText("8080") == 8080);
  CHECK(ParsePortText("1") == 1);
  CHECK(ParsePortText("65535") == 65535);
  for (const char* bad : {"", "0", "65536", "99999", "-1", "80a", " 80", "123456", "+80"})
    CHECK_FALSE(ParsePortText(bad).has_value());

  for (const char* good : {"proxy", "proxy.corp.example", "proxy.corp.", "a-b.c", "10.1.2.3", "::1",
                           "[2001:db8::1]", "xn--bcher-kva.example"}) {
    INFO(good);
    CHECK(IsValidHostName(good));
  }
  for (const char* bad : {"", "-proxy", "proxy-", "pro xy", "a..b", "proxy_1", "300.1.1.1", "1.2.3",
                          "[10.0.0.1]", "http://proxy", "proxy:8080", "::g"}) {
    INFO(bad);
    CHECK_FALSE(IsValidHostName(bad));
  }
  CHECK_FALSE(IsValidHostName(std::string(64, 'a') + ".example"));
  CHECK(IsValidHostName(std::string(63, 'a') + ".example"));
}

TEST_CASE("Proxy fields map onto ProxyConfig", "[app][remote_service]") {
  RemoteServiceSettings s = FullSettings();
  ProxyConfig config = ToProxyConfig(s);
  CHECK(config.mode == ProxyMode::kManual);
  CHECK(config.type == ProxyType::kHttp);
  CHECK(config.host == "proxy.corp.example");
  CHECK(config.port == 3128);
  CHECK(config.auth);
  CHECK(config.user == "alice");
  CHECK(config.password == "Pr0xy-S3cret!");
  CHECK(config.domain == "CORP");
  s.proxy_auth = false;
  config = ToProxyConfig(s);
  CHECK_FALSE(config.auth);
  CHECK(config.user.empty());
  CHECK(config.password.empty());
  s.proxy_mode = ProxyMode::kAutomatic;
  config = ToProxyConfig(s);
  CHECK(config.mode == ProxyMode::kAutomatic);
  CHECK(config.host.empty());
}

TEST_CASE("Remote Service settings round-trip through the settings file without secrets",
          "[app][remote_service]") {
  testing::TempDir dir;
  Settings settings;
  settings.remote_service = FullSettings();
  const std::string path = dir.File("settings.toml");
  REQUIRE(SaveSettings(path, settings).ok());
  const std::string text = testing::ReadFileToString(path);
  CHECK(text.find("Pr0xy-S3cret!") == std::string::npos);
  CHECK(text.find("S3rvice-Pa55") == std::string::npos);
  CHECK(text.find("proxy.corp.example") != std::string::npos);

  auto loaded = LoadSettings(path);
  REQUIRE(loaded.ok());
  RemoteServiceSettings expected = FullSettings();
  expected.proxy_password.clear();
  expected.service_password.clear();
  CHECK(loaded->remote_service == expected);
  CHECK(loaded->host.listen == settings.host.listen);
}

TEST_CASE("Wrong Remote Service values in the file name their field", "[app][remote_service]") {
  struct Case {
    const char* text;
    const char* field;
  };
  const Case cases[] = {
      {"[remote_service]\nenabled = \"yes\"\n", "remote_service.enabled"},
      {"[remote_service]\nenabled = true\n", "remote_service.organisation_id"},
      {"[remote_service.proxy]\nmode = \"sometimes\"\n", "remote_service.proxy.mode"},
      {"[remote_service.proxy]\nmode = \"manual\"\nhost = \"p\"\nport = 0\n",
       "remote_service.proxy.port"},
      {"[remote_service.proxy]\nmode = \"manual\"\nhost = \"a b\"\n", "remote_service.proxy.host"},
      {"[remote_service.service_account]\nkind = \"root\"\n",
       "remote_service.service_account.kind"},
      {"[remote_service.service_account]\nkind = \"other\"\n",
       "remote_service.service_account.user"},
      {"[ui]\nlanguage = \"xx\"\n", "ui.language"},
      {"remote_service = 1\n", "remote_service"},
      {"[remote_service]\nproxy = 2\n", "remote_service.proxy"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto s = ParseSettings(c.text);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kSettingsInvalid);
    CHECK(s.error().message.rfind(c.field, 0) == 0);
  }
  // An other account without its password in the file is fine: the password is elsewhere.
  auto ok = ParseSettings("[remote_service.service_account]\nkind = \"other\"\nuser = \"svc\"\n");
  REQUIRE(ok.ok());
  CHECK(ok->remote_service.service_account == ServiceAccount::kOtherAccount);
}

TEST_CASE("Encrypted secret store: round trip, never plain, private files", "[app][secret_store]") {
  testing::TempDir dir;
  EncryptedFileSecretStore store(dir.path());
  CHECK(store.kind() == SecretStoreKind::kEncryptedFile);
  auto missing = store.Lookup("nothing");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  CHECK(store.Remove("nothing").ok());

  REQUIRE(store.Store("a", "first-secret-value").ok());
  REQUIRE(store.Store("b", "second-secret-value").ok());
  REQUIRE(store.Store("a", "replaced-secret-value").ok());
  auto a = store.Lookup("a");
  REQUIRE(a.ok());
  CHECK(a->value() == "replaced-secret-value");
  CHECK(store.Lookup("b")->value() == "second-secret-value");

  // A fresh object (the next start) reads the same values.
  EncryptedFileSecretStore again(dir.path());
  CHECK(again.Lookup("b")->value() == "second-secret-value");

  const std::string blob = testing::ReadFileToString(store.data_path());
  CHECK(blob.find("second-secret-value") == std::string::npos);
  CHECK(blob.find("replaced") == std::string::npos);
  for (const std::string& file : {store.data_path(), store.key_path()}) {
    struct stat st {};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  CHECK(testing::ReadFileToString(store.key_path()).size() == 32);

  REQUIRE(store.Remove("a").ok());
  CHECK_FALSE(store.Lookup("a")->has_value());
  CHECK(store.Lookup("b")->value() == "second-secret-value");
  CHECK(store.ProtectionDescription().find("secrets.key") != std::string::npos);
}

TEST_CASE("Encrypted secret store detects tampering and a wrong key", "[app][secret_store]") {
  testing::TempDir dir;
  EncryptedFileSecretStore store(dir.path());
  REQUIRE(store.Store("k", "value").ok());
  std::string blob = testing::ReadFileToString(store.data_path());

  SECTION("flipped ciphertext bit") {
    blob[blob.size() - 20] ^= 0x01;
    testing::WriteStringToFile(store.data_path(), blob);
  }
  SECTION("other key") {
    testing::WriteStringToFile(store.key_path(), std::string(32, 'k'));
  }
  SECTION("key file gone") {
    REQUIRE(std::remove(store.key_path().c_str()) == 0);
  }
  SECTION("truncated") {
    testing::WriteStringToFile(store.data_path(), blob.substr(0, 10));
  }
  SECTION("not ours") {
    testing::WriteStringToFile(store.data_path(), "password = \"plain text\"\n");
  }
  auto result = store.Lookup("k");
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kSecretStoreCorrupt);
  CHECK(result.error().message.find("value") == std::string::npos);
}

TEST_CASE("Secret entries codec rejects bad lengths", "[app][secret_store]") {
  std::map<std::string, std::string> entries{{"x", "1"}, {"key", std::string(300, 'v')}};
  auto bytes = EncodeSecretEntries(entries);
  auto decoded = DecodeSecretEntries(bytes.data(), bytes.size());
  REQUIRE(decoded.ok());
  CHECK(*decoded == entries);
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    auto partial = DecodeSecretEntries(bytes.data(), cut);
    if (partial.ok())
      CHECK(partial->size() < entries.size());  // Only at an entry boundary.
  }
  const uint8_t empty_key[] = {0, 0, 0, 0, 0, 0};
  CHECK_FALSE(DecodeSecretEntries(empty_key, sizeof(empty_key)).ok());
  const uint8_t huge_value[] = {0, 1, 'k', 0xff, 0xff, 0xff, 0xff};
  CHECK_FALSE(DecodeSecretEntries(huge_value, sizeof(huge_value)).ok());
}

TEST_CASE("Remote Service passwords go to the secret store, and only while used",
          "[app][remote_service][secret_store]") {
  testing::TempDir dir;
  EncryptedFileSecretStore store(dir.path());
  RemoteServiceSettings s = FullSettings();
  REQUIRE(SaveRemoteServiceSecrets(store, s).ok());
  RemoteServiceSettings loaded;
  REQUIRE(LoadRemoteServiceSecrets(store, &loaded).ok());
  CHECK(loaded.proxy_password == "Pr0xy-S3cret!");
  CHECK(loaded.service_password == "S3rvice-Pa55");

  s.proxy_auth = false;
  s.service_account = ServiceAccount::kLocalSystem;
  REQUIRE(SaveRemoteServiceSecrets(store, s).ok());
  CHECK_FALSE(store.Lookup(kProxyPasswordSecret)->has_value());
  CHECK_FALSE(store.Lookup(kServicePasswordSecret)->has_value());
}

}  // namespace
}  // namespace lifeline
