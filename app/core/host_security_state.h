// HostSecurityState: everything a host keeps between sessions, opened from the settings
// folder at start: the device identity (TLS key), the one-time password, the brute-force
// throttle, the allow/block lists, the audit log and the 2FA secret. The CLI host and
// (later) the desktop app both use it.
//
// Files in the settings folder: device_key.pem, device_cert.pem, throttle.state,
// access.toml (optional), audit.log (+ audit.log.head), two_factor.toml (optional).
//
// Threading: created on one thread; the objects inside are thread-safe.
#pragma once

#include <memory>
#include <optional>

#include "app/core/access_list.h"
#include "app/core/audit_log.h"
#include "app/core/auth_protocol.h"
#include "app/core/host_credentials.h"
#include "app/core/paths.h"
#include "app/core/settings.h"
#include "app/core/throttle.h"
#include "app/core/two_factor.h"
#include "base/status.h"
#include "net/tls/device_identity.h"

namespace lifeline {

struct HostSecurityState {
  // Errors name the file that could not be used. A damaged throttle file does not stop
  // the host: it starts throttled (fail closed) and logs why.
  static Expected<std::unique_ptr<HostSecurityState>> Open(const AppPaths& paths,
                                                           const Settings& settings,
                                                           bool require_consent);

  DeviceIdentity identity;
  std::unique_ptr<HostCredentials> credentials;
  std::unique_ptr<AuthThrottle> throttle;
  std::optional<AccessList> access_list;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<TwoFactor> two_factor;
  HostSecurity security;  // Points into the members above; `ui` is set by the front-end.

 private:
  explicit HostSecurityState(DeviceIdentity id) : identity(std::move(id)) {}
};

}  // namespace lifeline
