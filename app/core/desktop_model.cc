#include "app/core/desktop_model.h"

#include <algorithm>
#include <cstdio>

#include "app/core/remote_service_settings.h"
#include "net/proxy/outbound.h"
#include "net/tcp.h"

namespace lifeline {

Expected<Partner> ParsePartner(std::string_view text) {
  std::string compact;
  bool only_digits_and_spaces = !text.empty();
  for (char c : text) {
    if (c >= '0' && c <= '9')
      compact.push_back(c);
    else if (c != ' ')
      only_digits_and_spaces = false;
  }
  Partner partner;
  if (only_digits_and_spaces) {
    if (compact.size() != 9) {
      return Error{ErrorCode::kAddressInvalid,
                   "a partner ID has 9 digits (for example 123 456 789)"};
    }
    partner.kind = Partner::Kind::kId;
    partner.id = compact;
    return partner;
  }
  std::string trimmed(text);
  while (!trimmed.empty() && trimmed.back() == ' ')
    trimmed.pop_back();
  while (!trimmed.empty() && trimmed.front() == ' ')
    trimmed.erase(trimmed.begin());
  auto address = ParseHostPort(trimmed);
  if (!address.ok()) {
    return Error{ErrorCode::kAddressInvalid,
                 "type the partner's 9-digit ID or its address as HOST:PORT"};
  }
  partner.kind = Partner::Kind::kAddress;
  partner.address = address->ToString();
  return partner;
}

std::string FormatElapsed(std::chrono::seconds elapsed) {
  const long long total = std::max<long long>(0, elapsed.count());
  const long long hours = total / 3600;
  const long long minutes = (total / 60) % 60;
  const long long seconds = total % 60;
  char text[32];
  if (hours > 0)
    std::snprintf(text, sizeof(text), "%lld:%02lld:%02lld", hours, minutes, seconds);
  else
    std::snprintf(text, sizeof(text), "%lld:%02lld", minutes, seconds);
  return text;
}

Rect OverlayRect(const Rect& work_area, Size overlay_size, int margin) {
  Rect r;
  r.width = std::min(overlay_size.width, work_area.width);
  r.height = std::min(overlay_size.height, work_area.height);
  r.x = std::max(work_area.x, work_area.x + work_area.width - r.width - margin);
  r.y = std::max(work_area.y, work_area.y + work_area.height - r.height - margin);
  return r;
}

LicenceInfo ReadLicence(const AppPaths&) {
  return LicenceInfo{};  // No licence file format exists yet.
}

std::vector<LicenceNotice> LicenceNotices(const LicenceInfo& licence, std::chrono::sys_days today) {
  std::vector<LicenceNotice> notices;
  if (!licence.present)
    return notices;
  auto check = [&](const std::optional<std::chrono::sys_days>& expiry, LicenceNoticeKind soon,
                   LicenceNoticeKind expired) {
    if (!expiry)
      return;
    const int days = static_cast<int>((*expiry - today).count());
    if (days <= 0)
      notices.push_back({expired, days});
    else if (days <= 31)
      notices.push_back({soon, days});
  };
  check(licence.licence_expiry, LicenceNoticeKind::kLicenceExpiresSoon,
        LicenceNoticeKind::kLicenceExpired);
  check(licence.maintenance_expiry, LicenceNoticeKind::kMaintenanceExpiresSoon,
        LicenceNoticeKind::kMaintenanceExpired);
  return notices;
}

RouteCheck CheckRemoteServiceRoute(const RemoteServiceSettings& settings,
                                   const std::string& target,
                                   int timeout_ms) {
  RouteCheck check;
  if (Status st = CheckRemoteService(settings); !st.ok()) {
    check.error = st.error();
    check.text = "The settings are not complete: " + st.error().message;
    return check;
  }
  if (!target.empty()) {
    auto address = ParseHostPort(target);
    if (!address.ok()) {
      check.error = address.error();
      check.text = address.error().message;
      return check;
    }
    OutboundOptions options;
    options.timeout_ms = timeout_ms;
    OutboundRoute route;
    auto transport = ConnectOutbound(*address, ToProxyConfig(settings), options, &route);
    if (!transport.ok()) {
      check.error = transport.error();
      check.text = "Cannot connect to " + address->ToString() + ": " + transport.error().ToString();
      return check;
    }
    check.text = "Connected to " + address->ToString() + " (" + route.description + ", " +
                 std::to_string(route.elapsed_ms) + " ms)";
    return check;
  }
  switch (settings.proxy_mode) {
    case ProxyMode::kNone:
      check.text =
          "Direct connection (no proxy server). No remote service address is "
          "configured, so nothing else was tried.";
      return check;
    case ProxyMode::kAutomatic:
      check.text =
          "The proxy server is detected automatically when a connection is made. No "
          "remote service address is configured, so nothing was tried.";
      return check;
    case ProxyMode::kManual:
      break;
  }
  HostPort proxy{settings.proxy_host, static_cast<uint16_t>(settings.proxy_port)};
  auto transport = ConnectTcp(proxy, timeout_ms);
  if (!transport.ok()) {
    check.error = Error{ErrorCode::kProxyUnreachable,
                        "proxy server " + proxy.ToString() + ": " + transport.error().message};
    check.text =
        "The proxy server " + proxy.ToString() + " does not answer: " + check.error.ToString();
    return check;
  }
  check.text = "The proxy server " + proxy.ToString() +
               " answers. No remote service address is configured, so no tunnel was tried.";
  return check;
}

}  // namespace lifeline
