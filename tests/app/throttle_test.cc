#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "app/core/throttle.h"
#include "base/time.h"
#include "base/wall_clock.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kHour = 3600 * kSecond;

std::unique_ptr<AuthThrottle> OpenOrDie(const std::string& path,
                                        const WallClock& clock,
                                        const Clock* mono = nullptr) {
  auto throttle = AuthThrottle::Open(path, clock, mono);
  REQUIRE(throttle.ok());
  return std::move(throttle).value();
}

// One failed attempt that the throttle allows right now.
void FailOnce(AuthThrottle& throttle) {
  auto decision = throttle.RecordAttemptStarted();
  REQUIRE(decision.ok());
  REQUIRE(decision->allowed());
  REQUIRE(throttle.RecordFailure().ok());
}

// Waits (on the fake clock) until the throttle allows the next attempt; returns the wait.
int64_t WaitUntilAllowed(AuthThrottle& throttle, FakeWallClock& clock) {
  int64_t waited_ms = 0;
  for (auto d = throttle.Check(); !d.allowed(); d = throttle.Check()) {
    REQUIRE(d.retry_after_ms > 0);
    clock.AdvanceMs(d.retry_after_ms);
    waited_ms += d.retry_after_ms;
  }
  return waited_ms;
}

TEST_CASE("Throttle delay: free for two failures, then doubling, capped at 2 h",
          "[app][throttle]") {
  CHECK(AuthThrottle::DelayAfterFailuresMs(0) == 0);
  CHECK(AuthThrottle::DelayAfterFailuresMs(1) == 0);
  CHECK(AuthThrottle::DelayAfterFailuresMs(2) == 0);
  CHECK(AuthThrottle::DelayAfterFailuresMs(3) == 2 * kSecond);
  CHECK(AuthThrottle::DelayAfterFailuresMs(4) == 4 * kSecond);
  CHECK(AuthThrottle::DelayAfterFailuresMs(5) == 8 * kSecond);
  CHECK(AuthThrottle::DelayAfterFailuresMs(10) == 256 * kSecond);
  CHECK(AuthThrottle::DelayAfterFailuresMs(14) == 4096 * kSecond);
  CHECK(AuthThrottle::DelayAfterFailuresMs(15) == 2 * kHour);
  CHECK(AuthThrottle::DelayAfterFailuresMs(24) == 2 * kHour);
  CHECK(AuthThrottle::DelayAfterFailuresMs(70) == 2 * kHour);
  CHECK(AuthThrottle::DelayAfterFailuresMs(AuthThrottle::kMaxCountedFailures) == 2 * kHour);
}

TEST_CASE("24 attempts cost at least TeamViewer's 17 hours of enforced waiting",
          "[app][throttle]") {
  testing::TempDir dir;
  FakeWallClock clock;
  auto throttle = OpenOrDie(dir.File("throttle"), clock);
  int64_t total_wait_ms = 0;
  for (int attempt = 1; attempt <= 24; ++attempt) {
    total_wait_ms += WaitUntilAllowed(*throttle, clock);
    FailOnce(*throttle);
    if (throttle->ShouldRotatePassword())
      REQUIRE(throttle->PasswordRotated().ok());
  }
  // 8190 s for failures 3..14, 9 x 2 h for failures 15..23 (see throttle.h).
  CHECK(total_wait_ms == 72'990 * kSecond);
  CHECK(total_wait_ms >= 17 * kHour);
  CHECK(throttle->consecutive_failures() == 24);
}

TEST_CASE("A throttled attempt is refused and not counted", "[app][throttle]") {
  testing::TempDir dir;
  FakeWallClock clock;
  auto throttle = OpenOrDie(dir.File("throttle"), clock);
  for (int i = 0; i < 3; ++i) {
    WaitUntilAllowed(*throttle, clock);
    FailOnce(*throttle);
  }
  auto d = throttle->Check();
  REQUIRE_FALSE(d.allowed());
  CHECK(d.retry_after_ms == 2 * kSecond);
  clock.AdvanceMs(1999);
  auto started = throttle->RecordAttemptStarted();
  REQUIRE(started.ok());
  CHECK_FALSE(started->allowed());
  CHECK(started->retry_after_ms == 1);
  CHECK(throttle->consecutive_failures() == 3);
  clock.AdvanceMs(1);
  CHECK(throttle->Check().allowed());
}

TEST_CASE("The wait runs from the end of a failed attempt", "[app][throttle]") {
  testing::TempDir dir;
  FakeWallClock clock;
  auto throttle = OpenOrDie(dir.File("throttle"), clock);
  FailOnce(*throttle);
  FailOnce(*throttle);
  auto started = throttle->RecordAttemptStarted();  // k = 3 from now.
  REQUIRE(started.ok());
  clock.AdvanceMs(30 * kSecond);  // The viewer types a wrong TOTP code slowly.
  REQUIRE(throttle->RecordFailure().ok());
  auto d = throttle->Check();
  REQUIRE_FALSE(d.allowed());
  CHECK(d.retry_after_ms == 2 * kSecond);
}

TEST_CASE("Password rotation is due after every 10 consecutive failures", "[app][throttle]") {
  testing::TempDir dir;
  FakeWallClock clock;
  auto throttle = OpenOrDie(dir.File("throttle"), clock);
  for (int i = 1; i <= 9; ++i) {
    WaitUntilAllowed(*throttle, clock);
    FailOnce(*throttle);
    CHECK_FALSE(throttle->ShouldRotatePassword());
  }
  WaitUntilAllowed(*throttle, clock);
  FailOnce(*throttle);  // 10th.
  CHECK(throttle->ShouldRotatePassword());
  CHECK(throttle->password_generation() == 0);
  REQUIRE(throttle->PasswordRotated().ok());
  CHECK_FALSE(throttle->ShouldRotatePassword());
  CHECK(throttle->password_generation() == 1);
  CHECK(throttle->consecutive_failures() == 10);  // Rotation does not reset the counter.
  for (int i = 11; i <= 19; ++i) {
    WaitUntilAllowed(*throttle, clock);
    FailOnce(*throttle);
    CHECK_FALSE(throttle->ShouldRotatePassword());
  }
  WaitUntilAllowed(*throttle, clock);
  FailOnce(*throttle);  // 20th.
  CHECK(throttle->ShouldRotatePassword());
  // Reopening keeps the pending rotation.
  throttle.reset();
  throttle = OpenOrDie(dir.File("throttle"), clock);
  CHECK(throttle->ShouldRotatePassword());
  REQUIRE(throttle->PasswordRotated().ok());
  CHECK(throttle->password_generation() == 2);
}

TEST_CASE("Throttle state survives a restart", "[app][throttle]") {
  testing::TempDir dir;
  const std::string path = dir.File("throttle");
  FakeWallClock clock;
  {
    auto throttle = OpenOrDie(path, clock);
    for (int i = 0; i < 5; ++i) {
      WaitUntilAllowed(*throttle, clock);
      FailOnce(*throttle);
    }
  }
  clock.AdvanceMs(3 * kSecond);
  auto reopened = OpenOrDie(path, clock);
  CHECK(reopened->consecutive_failures() == 5);
  auto d = reopened->Check();
  REQUIRE_FALSE(d.allowed());
  CHECK(d.retry_after_ms == 5 * kSecond);  // delay(5) = 8 s, 3 s elapsed.

  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("An attempt is on disk before RecordAttemptStarted returns", "[app][throttle]") {
  testing::TempDir dir;
  const std::string path = dir.File("throttle");
  FakeWallClock clock;
  auto throttle = OpenOrDie(path, clock);
  REQUIRE(throttle->RecordAttemptStarted().ok());
  auto state = AuthThrottle::ParseState(testing::ReadFileToString(path));
  REQUIRE(state.ok());
  CHECK(state->consecutive_failures == 1);
  CHECK(state->last_failure_unix_ms == clock.NowUnixMs());
}

TEST_CASE("An aborted attempt still counts, also across a restart", "[app][throttle]") {
  testing::TempDir dir;
  const std::string path = dir.File("throttle");
  FakeWallClock clock;
  {
    auto throttle = OpenOrDie(path, clock);
    for (int i = 0; i < 3; ++i) {
      WaitUntilAllowed(*throttle, clock);
      auto started = throttle->RecordAttemptStarted();  // The viewer disconnects: no call.
      REQUIRE(started.ok());
      REQUIRE(started->allowed());
    }
    CHECK(throttle->consecutive_failures() == 3);
    CHECK_FALSE(throttle->Check().allowed());
  }
  auto reopened = OpenOrDie(path, clock);
  CHECK(reopened->consecutive_failures() == 3);
  CHECK_FALSE(reopened->Check().allowed());
}

TEST_CASE("Only full success resets the counter", "[app][throttle]") {
  testing::TempDir dir;
  const std::string path = dir.File("throttle");
  FakeWallClock clock;
  auto throttle = OpenOrDie(path, clock);
  for (int i = 0; i < 12; ++i) {
    WaitUntilAllowed(*throttle, clock);
    FailOnce(*throttle);
  }
  REQUIRE(throttle->ShouldRotatePassword());
  WaitUntilAllowed(*throttle, clock);
  REQUIRE(throttle->RecordAttemptStarted().ok());
  CHECK(throttle->consecutive_failures() == 13);  // Counted until the success is known.
  REQUIRE(throttle->RecordSuccess().ok());
  CHECK(throttle->consecutive_failures() == 0);
  CHECK_FALSE(throttle->ShouldRotatePassword());
  CHECK(throttle->Check().allowed());
  auto reopened = OpenOrDie(path, clock);
  CHECK(reopened->consecutive_failures() == 0);
  CHECK(reopened->Check().allowed());
}

TEST_CASE("A corrupt or unreadable state file fails closed with an error", "[app][throttle]") {
  testing::TempDir dir;
  const std::string path = dir.File("throttle");
  FakeWallClock clock;
  const std::string good = AuthThrottle::SerializeState({0, 0, 0, 0});
  const std::string cases[] = {
      "garbage",
      "",
      good.substr(0, good.size() - 5),
      good + "extra 1\n",
      "lifeline-auth-throttle v1\nconsecutive_failures -1\nlast_failure_unix_ms 0\n"
      "password_generation 0\nrotated_at_failures 0\n",
      "lifeline-auth-throttle v1\nconsecutive_failures 007\nlast_failure_unix_ms 0\n"
      "password_generation 0\nrotated_at_failures 0\n",
      "lifeline-auth-throttle v1\nconsecutive_failures 99999999999999999999\n"
      "last_failure_unix_ms 0\npassword_generation 0\nrotated_at_failures 0\n",
      "lifeline-auth-throttle v1\nconsecutive_failures 1\nlast_failure_unix_ms 0\n"
      "password_generation 0\nrotated_at_failures 2\n",
      "lifeline-auth-throttle v1\nlast_failure_unix_ms 0\nconsecutive_failures 1\n"
      "password_generation 0\nrotated_at_failures 0\n",
      std::string(4096, 'x'),
  };
  for (const std::string& text : cases) {
    INFO(text);
    testing::WriteStringToFile(path, text);
    auto strict = AuthThrottle::Open(path, clock);
    REQUIRE_FALSE(strict.ok());
    CHECK(strict.error().code == ErrorCode::kThrottleStateCorrupt);
    CHECK(strict.error().message.find(path) != std::string::npos);

    Status status;
    auto throttle = AuthThrottle::OpenFailClosed(path, clock, &status);
    REQUIRE(throttle);
    CHECK(status.code() == ErrorCode::kThrottleStateCorrupt);
    CHECK(throttle->consecutive_failures() == AuthThrottle::kFailClosedFailures);
    CHECK(throttle->ShouldRotatePassword());
    auto d = throttle->Check();
    REQUIRE_FALSE(d.allowed());
    CHECK(d.retry_after_ms == AuthThrottle::DelayAfterFailuresMs(10));
  }

  // The next attempt replaces the bad file with the fail-closed count, never with zero.
  Status status;
  auto throttle = AuthThrottle::OpenFailClosed(path, clock, &status);
  WaitUntilAllowed(*throttle, clock);
  REQUIRE(throttle->RecordAttemptStarted().ok());
  auto reopened = OpenOrDie(path, clock);
  CHECK(reopened->consecutive_failures() == AuthThrottle::kFailClosedFailures + 1);

  // A symlink is refused too (and fails closed).
  const std::string link = dir.File("link");
  REQUIRE(symlink(path.c_str(), link.c_str()) == 0);
  auto via_link = AuthThrottle::Open(link, clock);
  REQUIRE_FALSE(via_link.ok());
  CHECK(via_link.error().code == ErrorCode::kThrottleStateCorrupt);
}

TEST_CASE("A good state file opens with OpenFailClosed without error", "[app][throttle]") {
  testing::TempDir dir;
  FakeWallClock clock;
  Status status(ErrorCode::kInternal, "not set");
  auto throttle = AuthThrottle::OpenFailClosed(dir.File("throttle"), clock, &status);
  CHECK(status.ok());
  CHECK(throttle->consecutive_failures() == 0);
}

TEST_CASE("The wall clock going backwards does not end a wait early", "[app][throttle]") {
  testing::TempDir dir;
  FakeWallClock clock;
  auto throttle = OpenOrDie(dir.File("throttle"), clock);
  for (int i = 0; i < 5; ++i) {
    WaitUntilAllowed(*throttle, clock);
    FailOnce(*throttle);
  }
  clock.AdvanceMs(3 * kSecond);  // 5 s of the 8 s left.
  clock.AdvanceMs(-kHour);       // Now the last failure lies in the future.
  auto d = throttle->Check();
  REQUIRE_FALSE(d.allowed());
  CHECK(d.retry_after_ms >= 5 * kSecond);  // Not early...
  CHECK(d.retry_after_ms <= 8 * kSecond);  // ...and not an hour longer either.
  clock.AdvanceMs(d.retry_after_ms - 1);
  CHECK_FALSE(throttle->Check().allowed());
  clock.AdvanceMs(1);
  CHECK(throttle->Check().allowed());
}

TEST_CASE("With a monotonic clock a forward wall-clock jump does not end a wait early",
          "[app][throttle]") {
  testing::TempDir dir;
  FakeWallClock clock;
  FakeClock mono;
  auto throttle = OpenOrDie(dir.File("throttle"), clock, &mono);
  for (int i = 0; i < 4; ++i) {
    for (auto d = throttle->Check(); !d.allowed(); d = throttle->Check()) {
      clock.AdvanceMs(d.retry_after_ms);
      mono.AdvanceUs(d.retry_after_ms * 1000);
    }
    FailOnce(*throttle);
  }
  clock.AdvanceMs(3 * kHour);  // Someone sets the clock forward.
  auto d = throttle->Check();
  REQUIRE_FALSE(d.allowed());
  CHECK(d.retry_after_ms == 4 * kSecond);
  mono.AdvanceUs(4 * kSecond * 1000);
  CHECK(throttle->Check().allowed());
}

TEST_CASE("A state that cannot be persisted is an error and still counts", "[app][throttle]") {
  testing::TempDir dir;
  FakeWallClock clock;
  auto throttle = OpenOrDie(dir.File("missing-folder/throttle"), clock);
  auto started = throttle->RecordAttemptStarted();
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().code == ErrorCode::kPolicyIo);
  CHECK(throttle->consecutive_failures() == 1);
}

TEST_CASE("Concurrent attempts are each counted once", "[app][throttle]") {
  testing::TempDir dir;
  const std::string path = dir.File("throttle");
  FakeWallClock clock;
  auto throttle = OpenOrDie(path, clock);
  constexpr int kThreads = 4;
  constexpr int kAttemptsPerThread = 10;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int counted = 0; counted < kAttemptsPerThread;) {
        auto started = throttle->RecordAttemptStarted();
        if (!started.ok()) {
          errors++;
          return;
        }
        if (started->allowed()) {
          ++counted;
          if (!throttle->RecordFailure().ok())
            errors++;
        } else {
          clock.AdvanceMs(started->retry_after_ms);
        }
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(errors == 0);
  CHECK(throttle->consecutive_failures() == kThreads * kAttemptsPerThread);
  CHECK(OpenOrDie(path, clock)->consecutive_failures() == kThreads * kAttemptsPerThread);
}

TEST_CASE("Throttle state text round trip", "[app][throttle]") {
  const AuthThrottle::State state{12, 1'700'000'123'456, 3, 10};
  auto parsed = AuthThrottle::ParseState(AuthThrottle::SerializeState(state));
  REQUIRE(parsed.ok());
  CHECK(parsed->consecutive_failures == 12);
  CHECK(parsed->last_failure_unix_ms == 1'700'000'123'456);
  CHECK(parsed->password_generation == 3);
  CHECK(parsed->rotated_at_failures == 10);
}

}  // namespace
}  // namespace lifeline
