// The desktop app's logic that needs no display: what the main window, the session
// overlay, the About box and the receipt show, computed here so tests reach it without
// wx. The wx front-end (app/ui_wx) only lays these values out and translates the words.
//
// Threading: plain values and free functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/core/paths.h"
#include "app/core/remote_service_settings.h"
#include "base/geometry.h"
#include "base/status.h"

namespace lifeline {

// What the person typed as "Partner ID": a 9-digit ID (spaces allowed) or HOST:PORT.
struct Partner {
  enum class Kind { kId, kAddress };
  Kind kind = Kind::kAddress;
  std::string id;       // 9 digits, kId.
  std::string address;  // "host:port", kAddress.
};
// Errors: kAddressInvalid with a sentence for the person.
Expected<Partner> ParsePartner(std::string_view text);

// "0:42", "12:05", "1:02:03".
std::string FormatElapsed(std::chrono::seconds elapsed);

// Where the overlay goes: the bottom-right corner of the primary monitor's work area
// (the area without panels), `margin` pixels in from both edges, clamped to the area.
Rect OverlayRect(const Rect& work_area, Size overlay_size, int margin);

// What a session may do, as the overlay lists it.
struct SessionPermissions {
  bool view = true;
  bool control = false;  // Input from the viewer (issue 7).
  bool clipboard = false;
  bool files = false;
};

// The end-of-session receipt for the person who was helped.
struct SessionReceipt {
  std::string peer_id;       // "123 456 789".
  std::string peer_address;  // "127.0.0.1:5000".
  std::chrono::seconds duration{0};
  bool control_allowed = false;                // Keyboard and mouse were allowed (not view-only).
  std::vector<std::string> files_transferred;  // Names; empty: none.
  std::string end_reason;                      // Empty: ended normally.
};

// The licence as far as Lifeline knows it. There is no licence file format yet (a later
// issue): ReadLicence() reports "no licence" until there is one.
struct LicenceInfo {
  bool present = false;
  std::string serial;
  std::optional<std::chrono::sys_days> licence_expiry;
  std::optional<std::chrono::sys_days> maintenance_expiry;
};
LicenceInfo ReadLicence(const AppPaths& paths);

enum class LicenceNoticeKind {
  kLicenceExpiresSoon,      // Within a month: shown at every start.
  kMaintenanceExpiresSoon,  // Within a month: shown at every start.
  kLicenceExpired,          // A clear message at start.
  kMaintenanceExpired,
};
struct LicenceNotice {
  LicenceNoticeKind kind;
  int days_left = 0;  // 0 or negative when expired.
};
// The notices for `today`; "within a month" is 31 days or fewer.
std::vector<LicenceNotice> LicenceNotices(const LicenceInfo& licence, std::chrono::sys_days today);

}  // namespace lifeline

namespace lifeline {

// The Remote Service dialog's Connect button: tries the way out the settings describe.
// With `target` (HOST:PORT of the remote service or relay) it connects through the proxy
// (ConnectOutbound); without one it checks that a manual proxy answers on TCP. Blocks up
// to `timeout_ms`: call from a worker thread. `text` is one English sentence for the
// feedback area (no secrets); `error` is kOk on success.
struct RouteCheck {
  Error error{ErrorCode::kOk, ""};
  std::string text;
};
RouteCheck CheckRemoteServiceRoute(const RemoteServiceSettings& settings,
                                   const std::string& target,
                                   int timeout_ms);

}  // namespace lifeline
