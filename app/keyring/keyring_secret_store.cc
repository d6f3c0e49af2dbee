#include "app/keyring/keyring_secret_store.h"

#include <cstdlib>

#include <libsecret/secret.h>

namespace lifeline {
namespace {

const SecretSchema* Schema() {
  static const SecretSchema schema = {"org.lifeline.Secret",
                                      SECRET_SCHEMA_NONE,
                                      {{"application", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                       {"config", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                       {"key", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                       {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING}},
                                      0,
                                      nullptr,
                                      nullptr,
                                      nullptr,
                                      nullptr,
                                      nullptr,
                                      nullptr,
                                      nullptr};
  return &schema;
}

struct GErrorDeleter {
  void operator()(GError* e) const { g_error_free(e); }
};

// Takes ownership of a GError and turns it into an Error without any secret in it.
Error FromGError(GError* raw, ErrorCode code, const std::string& what) {
  std::unique_ptr<GError, GErrorDeleter> error(raw);
  return Error{code, what + ": " + (error && error->message ? error->message : "unknown error")};
}

struct GObjectDeleter {
  void operator()(void* o) const { g_object_unref(o); }
};

struct GVariantDeleter {
  void operator()(GVariant* v) const { g_variant_unref(v); }
};

// True when `name` has an owner on the bus or can be activated.
bool SecretServiceOnBus(GDBusConnection* bus, std::string* why) {
  GError* raw = nullptr;
  std::unique_ptr<GVariant, GVariantDeleter> owned(g_dbus_connection_call_sync(
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new("(s)", "org.freedesktop.secrets"), G_VARIANT_TYPE("(b)"),
      G_DBUS_CALL_FLAGS_NONE, 2000, nullptr, &raw));
  if (!owned) {
    *why = FromGError(raw, ErrorCode::kSecretStoreUnavailable, "D-Bus").message;
    return false;
  }
  gboolean has_owner = FALSE;
  g_variant_get(owned.get(), "(b)", &has_owner);
  if (has_owner)
    return true;
  std::unique_ptr<GVariant, GVariantDeleter> names(g_dbus_connection_call_sync(
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "ListActivatableNames", nullptr, G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NONE, 2000,
      nullptr, &raw));
  if (!names) {
    *why = FromGError(raw, ErrorCode::kSecretStoreUnavailable, "D-Bus").message;
    return false;
  }
  GVariantIter* iter = nullptr;
  const gchar* name = nullptr;
  bool found = false;
  g_variant_get(names.get(), "(as)", &iter);
  while (g_variant_iter_loop(iter, "&s", &name)) {
    if (std::string_view(name) == "org.freedesktop.secrets")
      found = true;
  }
  g_variant_iter_free(iter);
  if (!found)
    *why = "no Secret Service (keyring) is running on the session bus";
  return found;
}

}  // namespace

Expected<std::unique_ptr<KeyringSecretStore>> KeyringSecretStore::Open(
    const std::string& config_dir) {
  // Never let GIO start a bus of its own (dbus-launch would outlive us).
  const char* address = std::getenv("DBUS_SESSION_BUS_ADDRESS");
  if (!address || !*address) {
    return Error{ErrorCode::kSecretStoreUnavailable,
                 "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"};
  }
  // A private connection for this check: GIO's shared one outlives a bus that went away.
  GError* raw = nullptr;
  std::unique_ptr<GDBusConnection, GObjectDeleter> bus(g_dbus_connection_new_for_address_sync(
      address,
      static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
      nullptr, nullptr, &raw));
  if (!bus)
    return FromGError(raw, ErrorCode::kSecretStoreUnavailable, "cannot reach the session bus");
  std::string why;
  if (!SecretServiceOnBus(bus.get(), &why))
    return Error{ErrorCode::kSecretStoreUnavailable, why};
  return std::unique_ptr<KeyringSecretStore>(new KeyringSecretStore(config_dir));
}

KeyringSecretStore::~KeyringSecretStore() {
  // Drop libsecret's cached service proxy, so the next Open() talks to the bus of its time.
  secret_service_disconnect();
}

std::string KeyringSecretStore::ProtectionDescription() const {
  return "Passwords are kept in your desktop keyring (Secret Service), protected by your "
         "login.";
}

Status KeyringSecretStore::Store(const std::string& key, const std::string& secret) {
  GError* raw = nullptr;
  const std::string label = "Lifeline: " + key;
  const gboolean ok = secret_password_store_sync(
      Schema(), SECRET_COLLECTION_DEFAULT, label.c_str(), secret.c_str(), nullptr, &raw,
      "application", "lifeline", "config", config_dir_.c_str(), "key", key.c_str(), nullptr);
  if (!ok)
    return FromGError(raw, ErrorCode::kSecretStoreFailed, "keyring refused to store " + key);
  return Status::Ok();
}

Expected<std::optional<std::string>> KeyringSecretStore::Lookup(const std::string& key) {
  GError* raw = nullptr;
  gchar* found =
      secret_password_lookup_sync(Schema(), nullptr, &raw, "application", "lifeline", "config",
                                  config_dir_.c_str(), "key", key.c_str(), nullptr);
  if (raw)
    return FromGError(raw, ErrorCode::kSecretStoreFailed, "keyring lookup of " + key + " failed");
  if (!found)
    return std::optional<std::string>();
  std::string value(found);
  secret_password_free(found);  // Wipes the copy libsecret made.
  return std::optional<std::string>(std::move(value));
}

Status KeyringSecretStore::Remove(const std::string& key) {
  GError* raw = nullptr;
  secret_password_clear_sync(Schema(), nullptr, &raw, "application", "lifeline", "config",
                             config_dir_.c_str(), "key", key.c_str(), nullptr);
  if (raw)
    return FromGError(raw, ErrorCode::kSecretStoreFailed, "keyring refused to remove " + key);
  return Status::Ok();
}

std::unique_ptr<SecretStore> OpenPreferredSecretStore(const AppPaths& paths,
                                                      std::string* fallback_reason) {
  fallback_reason->clear();
  if (!paths.portable) {
    auto keyring = KeyringSecretStore::Open(paths.config_dir);
    if (keyring.ok())
      return std::move(keyring).value();
    *fallback_reason = keyring.error().message;
  }
  return std::make_unique<EncryptedFileSecretStore>(paths.config_dir);
}

}  // namespace lifeline
