#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "app/core/desktop_model.h"
#include "app/core/viewer_launcher.h"
#include "net/tcp.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;

TEST_CASE("Partner ID: 9 digits or HOST:PORT", "[app][desktop]") {
  auto id = ParsePartner("123 456 789");
  REQUIRE(id.ok());
  CHECK(id->kind == Partner::Kind::kId);
  CHECK(id->id == "123456789");
  auto address = ParsePartner(" 127.0.0.1:7070 ");
  REQUIRE(address.ok());
  CHECK(address->kind == Partner::Kind::kAddress);
  CHECK(address->address == "127.0.0.1:7070");
  CHECK(ParsePartner("[::1]:5000")->address == "[::1]:5000");
  for (const char* bad : {"", "12345", "1234567890", "host", "host:", "a b:1", "127.0.0.1:99999"}) {
    INFO(bad);
    auto parsed = ParsePartner(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::kAddressInvalid);
  }
}

TEST_CASE("Elapsed time reads like a clock", "[app][desktop]") {
  CHECK(FormatElapsed(0s) == "0:00");
  CHECK(FormatElapsed(42s) == "0:42");
  CHECK(FormatElapsed(725s) == "12:05");
  CHECK(FormatElapsed(3723s) == "1:02:03");
  CHECK(FormatElapsed(-5s) == "0:00");
}

TEST_CASE("Overlay goes to the bottom-right of the work area", "[app][desktop]") {
  CHECK(OverlayRect({0, 0, 1920, 1080}, {300, 80}, 10) == Rect{1610, 990, 300, 80});
  // A panel at the top and a second origin: still inside the work area.
  CHECK(OverlayRect({100, 30, 1280, 770}, {340, 128}, 12) == Rect{1028, 660, 340, 128});
  // A screen smaller than the overlay: clamped, never off screen.
  CHECK(OverlayRect({0, 0, 200, 100}, {340, 128}, 12) == Rect{0, 0, 200, 100});
}

TEST_CASE("Licence notices: none without a licence, a month ahead, expired", "[app][desktop]") {
  const std::chrono::sys_days today = std::chrono::year{2026} / 11 / 23;
  LicenceInfo none;
  CHECK(LicenceNotices(none, today).empty());
  CHECK_FALSE(ReadLicence(AppPaths{}).present);  // No licence format yet.

  LicenceInfo licence;
  licence.present = true;
  licence.serial = "LL-0001";
  licence.licence_expiry = today + std::chrono::days{40};
  licence.maintenance_expiry = today + std::chrono::days{31};
  auto notices = LicenceNotices(licence, today);
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].kind == LicenceNoticeKind::kMaintenanceExpiresSoon);
  CHECK(notices[0].days_left == 31);

  licence.licence_expiry = today;
  licence.maintenance_expiry = today - std::chrono::days{3};
  notices = LicenceNotices(licence, today);
  REQUIRE(notices.size() == 2);
  CHECK(notices[0].kind == LicenceNoticeKind::kLicenceExpired);
  CHECK(notices[1].kind == LicenceNoticeKind::kMaintenanceExpired);
  CHECK(notices[1].days_left == -3);
}

TEST_CASE("Connect check: a manual proxy that answers, and one that does not", "[app][desktop]") {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());
  RemoteServiceSettings s;
  s.proxy_mode = ProxyMode::kManual;
  s.proxy_host = "127.0.0.1";
  s.proxy_port = (*listener)->local_address().port;
  RouteCheck ok = CheckRemoteServiceRoute(s, "", 2000);
  INFO(ok.text);
  CHECK(ok.error.code == ErrorCode::kOk);
  CHECK(ok.text.find("answers") != std::string::npos);

  s.proxy_port = testing::FreeLoopbackPort();
  RouteCheck down = CheckRemoteServiceRoute(s, "", 2000);
  CHECK(down.error.code == ErrorCode::kProxyUnreachable);
  CHECK(down.text.find("127.0.0.1:" + std::to_string(s.proxy_port)) != std::string::npos);

  s.proxy_host = "not a host";
  RouteCheck invalid = CheckRemoteServiceRoute(s, "", 2000);
  CHECK(invalid.error.code == ErrorCode::kSettingsInvalid);

  // With a target, the connection goes through ConnectOutbound (direct here).
  RemoteServiceSettings direct;
  RouteCheck through = CheckRemoteServiceRoute(
      direct, "127.0.0.1:" + std::to_string((*listener)->local_address().port), 2000);
  INFO(through.text);
  CHECK(through.error.code == ErrorCode::kOk);
  CHECK(through.text.find("Connected to 127.0.0.1:") == 0);
}

TEST_CASE("The viewer child gets its credentials on stdin, never in argv", "[app][desktop]") {
  testing::TempDir dir;
  // A stand-in for `lifeline`: a script recording its arguments and its standard input.
  const std::string fake = dir.File("fake-lifeline");
  testing::WriteStringToFile(fake, "#!/bin/sh\necho \"$@\" > \"$0.args\"\ncat > \"$0.stdin\"\n");
  REQUIRE(chmod(fake.c_str(), 0700) == 0);
  ViewerLaunch launch;
  launch.executable = fake;
  launch.address = "127.0.0.1:7070";
  launch.password = "SECRET-PASS-77";
  launch.two_factor_code = "123456";
  launch.extra_args = {"--headless"};
  auto child = ViewerProcess::Start(launch);
  REQUIRE(child.ok());
  std::optional<int> status;
  for (int i = 0; i < 200 && !status; ++i) {
    std::this_thread::sleep_for(10ms);
    status = child->Poll();
  }
  REQUIRE(status == 0);
  const std::string args = testing::ReadFileToString(fake + ".args");
  CHECK(args == "view 127.0.0.1:7070 --headless\n");
  CHECK(testing::ReadFileToString(fake + ".stdin") == "SECRET-PASS-77\n123456\n");
  for (const std::string& arg : ViewerArgv(launch))
    CHECK(arg.find("SECRET") == std::string::npos);

  launch.executable = dir.File("missing");
  auto missing = ViewerProcess::Start(launch);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("SECRET") == std::string::npos);
}

}  // namespace
}  // namespace lifeline
