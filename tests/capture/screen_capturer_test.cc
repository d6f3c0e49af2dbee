// The factory, ParseCaptureSource and CheckDisplayAvailable.
#include "capture/screen_capturer.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "capture/synthetic_capturer.h"
#include "tests/support/xvfb.h"

namespace lifeline {
namespace {

// A display number with no server: no socket and no lock file.
std::string UnusedDisplay() {
  for (int n = 987;; ++n) {
    struct stat info;
    const std::string number = std::to_string(n);
    if (stat(("/tmp/.X11-unix/X" + number).c_str(), &info) != 0 &&
        stat(("/tmp/.X" + number + "-lock").c_str(), &info) != 0) {
      return ":" + number;
    }
  }
}

// Sets or unsets an environment variable for the scope, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_CASE("ParseCaptureSource accepts the two source names", "[capture]") {
  auto x11 = ParseCaptureSource("x11");
  REQUIRE(x11.ok());
  CHECK(*x11 == CaptureSource::kX11);
  auto synthetic = ParseCaptureSource("synthetic");
  REQUIRE(synthetic.ok());
  CHECK(*synthetic == CaptureSource::kSynthetic);
}

TEST_CASE("ParseCaptureSource names a wrong value in its error", "[capture]") {
  for (const char* text : {"", "X11", "wayland", "synthetic "}) {
    auto parsed = ParseCaptureSource(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::kSettingsInvalid);
    CHECK_THAT(parsed.error().message, Catch::Contains("'" + std::string(text) + "'"));
  }
}

TEST_CASE("CreateScreenCapturer makes a synthetic capturer of the asked size", "[capture]") {
  CaptureOptions options;
  options.source = CaptureSource::kSynthetic;
  options.synthetic_size = Size{64, 48};
  auto capturer = CreateScreenCapturer(options);
  REQUIRE(capturer.ok());
  CHECK((*capturer)->name() == "synthetic");
  CHECK((*capturer)->screen_size() == Size{64, 48});
  std::unique_ptr<Frame> frame;
  REQUIRE((*capturer)->CaptureFrame(&frame) == CaptureResult::kSuccess);
  CHECK(frame->size() == Size{64, 48});
}

TEST_CASE("CreateScreenCapturer refuses an empty or huge synthetic size", "[capture]") {
  for (Size size :
       {Size{0, 10}, Size{10, 0}, Size{-5, 10}, Size{SyntheticCapturer::kMaxSidePx + 1, 10}}) {
    CaptureOptions options;
    options.source = CaptureSource::kSynthetic;
    options.synthetic_size = size;
    auto capturer = CreateScreenCapturer(options);
    REQUIRE_FALSE(capturer.ok());
    CHECK(capturer.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("CreateScreenCapturer reports a missing X display by name", "[capture]") {
  const std::string display = UnusedDisplay();
  CaptureOptions options;
  options.source = CaptureSource::kX11;
  options.x11_display = display;
  auto capturer = CreateScreenCapturer(options);
  REQUIRE_FALSE(capturer.ok());
  CHECK(capturer.error().code == ErrorCode::kDisplayUnavailable);
  CHECK_THAT(capturer.error().message, Catch::Contains("'" + display + "'"));
}

TEST_CASE("CheckDisplayAvailable fails with kDisplayUnavailable for bogus displays", "[capture]") {
  const std::string unused = UnusedDisplay();
  for (const std::string& display : {unused, std::string("not a display")}) {
    Status status = CheckDisplayAvailable(display);
    REQUIRE_FALSE(status.ok());
    CHECK(status.code() == ErrorCode::kDisplayUnavailable);
    CHECK_THAT(status.error().message, Catch::Contains("cannot open X display '" + display));
  }
}

TEST_CASE("CheckDisplayAvailable says DISPLAY is not set when it is not", "[capture]") {
  ScopedEnv no_display("DISPLAY", nullptr);
  Status status = CheckDisplayAvailable("");
  REQUIRE_FALSE(status.ok());
  CHECK(status.code() == ErrorCode::kDisplayUnavailable);
  CHECK_THAT(status.error().message, Catch::Contains("DISPLAY is not set"));
}

TEST_CASE("CheckDisplayAvailable and the factory use a running X server", "[display]") {
  testing::Xvfb xvfb(640, 480);
  CHECK(CheckDisplayAvailable(xvfb.display()).ok());
  {
    // Empty means $DISPLAY.
    ScopedEnv display_env("DISPLAY", xvfb.display().c_str());
    CHECK(CheckDisplayAvailable("").ok());
  }
  CaptureOptions options;
  options.source = CaptureSource::kX11;
  options.x11_display = xvfb.display();
  auto capturer = CreateScreenCapturer(options);
  REQUIRE(capturer.ok());
  CHECK((*capturer)->name() == "x11-shm");
  CHECK((*capturer)->screen_size() == Size{640, 480});
  std::unique_ptr<Frame> frame;
  REQUIRE((*capturer)->CaptureFrame(&frame) == CaptureResult::kSuccess);
  CHECK(frame->size() == Size{640, 480});
}

}  // namespace
}  // namespace lifeline
