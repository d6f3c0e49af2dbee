// The desktop keyring through libsecret, against a real GNOME Keyring on a private bus.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "app/core/remote_service_settings.h"
#include "app/core/settings.h"
#include "app/keyring/keyring_secret_store.h"
#include "tests/support/session_bus.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

// One keyring bus per test process: GIO keeps its session-bus connection for the life of
// the process, so libsecret cannot move to a second bus (ctest runs each case alone anyway).
testing::SessionBus& KeyringBus() {
  static testing::SessionBus bus(/*with_keyring=*/true);
  bus.Export();
  return bus;
}

TEST_CASE("Keyring store keeps, replaces and removes secrets per settings folder",
          "[desktop][keyring]") {
  KeyringBus();
  testing::TempDir config_a;
  testing::TempDir config_b;
  auto a = KeyringSecretStore::Open(config_a.path());
  REQUIRE(a.ok());
  auto b = KeyringSecretStore::Open(config_b.path());
  REQUIRE(b.ok());
  CHECK((*a)->kind() == SecretStoreKind::kKeyring);

  REQUIRE((*a)->Store("proxy", "keyring-secret-1").ok());
  REQUIRE((*a)->Store("proxy", "keyring-secret-2").ok());
  auto found = (*a)->Lookup("proxy");
  REQUIRE(found.ok());
  CHECK(found->value() == "keyring-secret-2");
  // Another installation (settings folder) does not see it.
  auto other = (*b)->Lookup("proxy");
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());

  REQUIRE((*a)->Remove("proxy").ok());
  CHECK_FALSE((*a)->Lookup("proxy")->has_value());
  CHECK((*a)->Remove("proxy").ok());
}

TEST_CASE("Remote Service settings: passwords in the keyring, never in the file",
          "[desktop][keyring]") {
  KeyringBus();
  testing::TempDir dir;
  AppPaths paths;
  paths.config_dir = dir.path();
  paths.settings_file = dir.File("settings.toml");
  std::string reason;
  auto store = OpenPreferredSecretStore(paths, &reason);
  REQUIRE(store->kind() == SecretStoreKind::kKeyring);
  CHECK(reason.empty());

  Settings settings;
  auto& rs = settings.remote_service;
  rs.proxy_mode = ProxyMode::kManual;
  rs.proxy_host = "proxy.corp.example";
  rs.proxy_port = 8080;
  rs.proxy_auth = true;
  rs.proxy_user = "alice";
  rs.proxy_password = "kr-proxy-pw-77";
  rs.service_account = ServiceAccount::kOtherAccount;
  rs.service_user = "svc";
  rs.service_password = "kr-service-pw-88";
  REQUIRE(SaveSettings(paths.settings_file, settings).ok());
  REQUIRE(SaveRemoteServiceSecrets(*store, rs).ok());

  for (const char* file : {"settings.toml", "secrets.enc", "secrets.key"}) {
    const std::string text = testing::ReadFileToString(dir.File(file));
    CHECK(text.find("kr-proxy-pw-77") == std::string::npos);
    CHECK(text.find("kr-service-pw-88") == std::string::npos);
  }
  auto loaded = LoadSettings(paths.settings_file);
  REQUIRE(loaded.ok());
  auto again = OpenPreferredSecretStore(paths, &reason);
  REQUIRE(LoadRemoteServiceSecrets(*again, &loaded->remote_service).ok());
  CHECK(loaded->remote_service == rs);
}

TEST_CASE("Without a keyring the encrypted file is used and the reason is given",
          "[desktop][keyring]") {
  testing::TempDir dir;
  AppPaths paths;
  paths.config_dir = dir.path();
  std::string reason;
  SECTION("no session bus at all") {
    const char* saved = std::getenv("DBUS_SESSION_BUS_ADDRESS");
    const std::string keep = saved ? saved : "";
    unsetenv("DBUS_SESSION_BUS_ADDRESS");
    auto store = OpenPreferredSecretStore(paths, &reason);
    if (saved)
      setenv("DBUS_SESSION_BUS_ADDRESS", keep.c_str(), 1);
    CHECK(store->kind() == SecretStoreKind::kEncryptedFile);
    CHECK(reason.find("DBUS_SESSION_BUS_ADDRESS") != std::string::npos);
  }
  SECTION("a bus without a keyring") {
    testing::SessionBus bus(/*with_keyring=*/false);
    bus.Export();
    auto store = OpenPreferredSecretStore(paths, &reason);
    CHECK(store->kind() == SecretStoreKind::kEncryptedFile);
    CHECK(reason.find("Secret Service") != std::string::npos);
    KeyringBus();  // Back to the shared bus for later cases.
  }
  SECTION("portable mode never uses the keyring") {
    KeyringBus();
    paths.portable = true;
    auto store = OpenPreferredSecretStore(paths, &reason);
    CHECK(store->kind() == SecretStoreKind::kEncryptedFile);
    CHECK(reason.empty());
  }
}

}  // namespace
}  // namespace lifeline
