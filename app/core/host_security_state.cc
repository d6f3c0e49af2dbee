#include "app/core/host_security_state.h"

#include <filesystem>

#include "base/log.h"
#include "base/time.h"
#include "base/wall_clock.h"

namespace lifeline {

// static
Expected<std::unique_ptr<HostSecurityState>> HostSecurityState::Open(const AppPaths& paths,
                                                                     const Settings& settings,
                                                                     bool require_consent) {
  static_cast<void>(settings);
  if (Status st = EnsureConfigDir(paths); !st.ok())
    return st.error();
  const std::string dir = paths.config_dir + "/";
  auto identity = DeviceIdentity::LoadOrCreate(paths.config_dir);
  if (!identity.ok())
    return identity.error();
  std::unique_ptr<HostSecurityState> state(new HostSecurityState(std::move(identity).value()));

  auto credentials =
      HostCredentials::Create(DeviceIdFromFingerprint(state->identity.fingerprint()));
  if (!credentials.ok())
    return credentials.error();
  state->credentials = std::move(credentials).value();

  Status throttle_status;
  state->throttle = AuthThrottle::OpenFailClosed(dir + "throttle.state", SystemWallClock::Get(),
                                                 &throttle_status, &SystemClock::Get());
  if (!throttle_status.ok()) {
    log::Error("host: {}; starting throttled until it is fixed", throttle_status.ToString());
  }

  const std::string access_path = dir + "access.toml";
  std::error_code ec;
  if (std::filesystem::exists(access_path, ec)) {
    auto list = LoadAccessList(access_path);
    if (!list.ok())
      return list.error();  // A broken block list must not silently vanish.
    state->access_list = std::move(list).value();
  }

  auto audit = AuditLog::Open(dir + "audit.log", SystemWallClock::Get());
  if (!audit.ok())
    return audit.error();
  state->audit = std::move(audit).value();

  auto two_factor = TwoFactor::Load(dir + "two_factor.toml", SystemWallClock::Get());
  if (!two_factor.ok())
    return two_factor.error();
  state->two_factor = std::move(two_factor).value();

  HostSecurity& security = state->security;
  security.credentials = state->credentials.get();
  security.throttle = state->throttle.get();
  security.access_list = state->access_list ? &*state->access_list : nullptr;
  security.audit = state->audit.get();
  security.two_factor = state->two_factor.get();
  security.require_consent = require_consent;
  return state;
}

}  // namespace lifeline
