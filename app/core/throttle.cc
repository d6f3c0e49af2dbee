#include "app/core/throttle.h"

#include <algorithm>
#include <array>
#include <limits>

#include "app/core/audit_log.h"  // policy_file::

namespace lifeline {
namespace {

// State file format: exactly these five lines, in this order, each "key value\n" with one
// space and a decimal value without sign or leading zeros:
//
//   lifeline-auth-throttle v1
//   consecutive_failures 3
//   last_failure_unix_ms 1700000000000
//   password_generation 1
//   rotated_at_failures 0
//
// Anything else (missing or extra lines, other order, out-of-range numbers,
// rotated_at_failures > consecutive_failures) is corrupt.
constexpr std::string_view kMagicLine = "lifeline-auth-throttle v1";
constexpr std::array<std::string_view, 4> kKeys = {"consecutive_failures", "last_failure_unix_ms",
                                                   "password_generation", "rotated_at_failures"};
constexpr size_t kMaxStateFileBytes = 1024;
// Year 9999 in Unix milliseconds: larger timestamps are corrupt.
constexpr int64_t kMaxUnixMs = 253'402'300'799'999;

using policy_file::ParseDecimal;

}  // namespace

// static
int64_t AuthThrottle::DelayAfterFailuresMs(int64_t consecutive_failures) {
  if (consecutive_failures <= kFreeFailures)
    return 0;
  const int64_t exponent = consecutive_failures - kFreeFailures;
  if (exponent >= 32)  // 2^32 s is far beyond the cap.
    return kMaxDelayMs;
  return std::min<int64_t>((int64_t{1} << exponent) * 1000, kMaxDelayMs);
}

// static
std::string AuthThrottle::SerializeState(const State& state) {
  std::string out(kMagicLine);
  out += "\n";
  const std::array<std::string, 4> values = {
      std::to_string(state.consecutive_failures), std::to_string(state.last_failure_unix_ms),
      std::to_string(state.password_generation), std::to_string(state.rotated_at_failures)};
  for (size_t i = 0; i < kKeys.size(); ++i) {
    out.append(kKeys[i]).append(" ").append(values[i]).append("\n");
  }
  return out;
}

// static
Expected<AuthThrottle::State> AuthThrottle::ParseState(std::string_view text) {
  auto corrupt = [](const std::string& what) {
    return Error{ErrorCode::kThrottleStateCorrupt, what};
  };
  if (text.size() > kMaxStateFileBytes)
    return corrupt("longer than " + std::to_string(kMaxStateFileBytes) + " bytes");
  auto next_line = [&text](std::string_view* line) {
    const size_t newline = text.find('\n');
    if (newline == std::string_view::npos)
      return false;
    *line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    return true;
  };
  std::string_view line;
  if (!next_line(&line) || line != kMagicLine)
    return corrupt("does not start with \"" + std::string(kMagicLine) + "\"");
  const std::array<uint64_t, 4> maxima = {static_cast<uint64_t>(kMaxCountedFailures),
                                          static_cast<uint64_t>(kMaxUnixMs), uint64_t{1} << 53,
                                          static_cast<uint64_t>(kMaxCountedFailures)};
  std::array<uint64_t, 4> values = {};
  for (size_t i = 0; i < kKeys.size(); ++i) {
    const std::string key(kKeys[i]);
    if (!next_line(&line))
      return corrupt("line " + std::to_string(i + 2) + " (" + key + ") is missing");
    if (line.size() <= key.size() + 1 || line.substr(0, key.size()) != key ||
        line[key.size()] != ' ') {
      return corrupt("line " + std::to_string(i + 2) + " must be \"" + key + " <number>\"");
    }
    if (!ParseDecimal(line.substr(key.size() + 1), maxima[i], &values[i]))
      return corrupt(key + " is not a number in range");
  }
  if (!text.empty())
    return corrupt("has extra text after the last line");
  State state;
  state.consecutive_failures = static_cast<int64_t>(values[0]);
  state.last_failure_unix_ms = static_cast<int64_t>(values[1]);
  state.password_generation = values[2];
  state.rotated_at_failures = static_cast<int64_t>(values[3]);
  if (state.rotated_at_failures > state.consecutive_failures)
    return corrupt("rotated_at_failures is larger than consecutive_failures");
  return state;
}

AuthThrottle::AuthThrottle(std::string path,
                           const WallClock& wall_clock,
                           const Clock* monotonic_clock,
                           const State& state)
    : path_(std::move(path)),
      wall_clock_(wall_clock),
      monotonic_clock_(monotonic_clock),
      state_(state) {
  if (monotonic_clock_ && state_.consecutive_failures > 0) {
    // Anchor the monotonic clock so that it agrees with the wall clock now; from here on
    // a forward jump of the wall clock cannot shorten the wait.
    const int64_t wall_elapsed_ms =
        std::max<int64_t>(0, wall_clock_.NowUnixMs() - state_.last_failure_unix_ms);
    last_failure_mono_us_ = monotonic_clock_->NowUs() - wall_elapsed_ms * 1000;
  }
}

// static
Expected<std::unique_ptr<AuthThrottle>> AuthThrottle::Open(const std::string& path,
                                                           const WallClock& wall_clock,
                                                           const Clock* monotonic_clock) {
  auto text = policy_file::ReadSmallFile(path, kMaxStateFileBytes);
  if (!text.ok()) {
    return Error{ErrorCode::kThrottleStateCorrupt,
                 "throttle state " + path + ": " + text.error().message};
  }
  State state;
  if (text->has_value()) {
    auto parsed = ParseState(**text);
    if (!parsed.ok()) {
      return Error{ErrorCode::kThrottleStateCorrupt,
                   "throttle state file " + path + " is corrupt: " + parsed.error().message};
    }
    state = *parsed;
  }
  return std::unique_ptr<AuthThrottle>(new AuthThrottle(path, wall_clock, monotonic_clock, state));
}

// static
std::unique_ptr<AuthThrottle> AuthThrottle::OpenFailClosed(const std::string& path,
                                                           const WallClock& wall_clock,
                                                           Status* open_status,
                                                           const Clock* monotonic_clock) {
  auto opened = Open(path, wall_clock, monotonic_clock);
  if (opened.ok()) {
    *open_status = Status::Ok();
    return std::move(opened).value();
  }
  *open_status = Status(opened.error().code,
                        opened.error().message + " (failing closed: treated as " +
                            std::to_string(kFailClosedFailures) + " consecutive failures)");
  State state;
  state.consecutive_failures = kFailClosedFailures;
  state.last_failure_unix_ms = std::max<int64_t>(0, wall_clock.NowUnixMs());
  return std::unique_ptr<AuthThrottle>(new AuthThrottle(path, wall_clock, monotonic_clock, state));
}

AuthThrottle::Decision AuthThrottle::CheckLocked() {
  const int64_t delay_ms = DelayAfterFailuresMs(state_.consecutive_failures);
  if (delay_ms == 0)
    return {};
  const int64_t now_ms = wall_clock_.NowUnixMs();
  if (now_ms < state_.last_failure_unix_ms)
    state_.last_failure_unix_ms = std::max<int64_t>(now_ms, 0);  // The clock went back.
  int64_t elapsed_ms = now_ms - state_.last_failure_unix_ms;
  if (monotonic_clock_ && last_failure_mono_us_) {
    const int64_t mono_elapsed_ms = (monotonic_clock_->NowUs() - *last_failure_mono_us_) / 1000;
    elapsed_ms = std::min(elapsed_ms, mono_elapsed_ms);
  }
  elapsed_ms = std::max<int64_t>(elapsed_ms, 0);
  if (elapsed_ms >= delay_ms)
    return {};
  return {Verdict::kWait, delay_ms - elapsed_ms};
}

void AuthThrottle::MarkFailureNowLocked() {
  // "Now" is at or after every earlier failure, unless the wall clock went back; then "now"
  // restarts the full delay, which is the safe choice (see the header).
  state_.last_failure_unix_ms = std::max<int64_t>(wall_clock_.NowUnixMs(), 0);
  if (monotonic_clock_)
    last_failure_mono_us_ = monotonic_clock_->NowUs();
}

Status AuthThrottle::PersistLocked() {
  Status s = policy_file::WriteFileAtomically(path_, SerializeState(state_));
  if (!s.ok())
    return Status(ErrorCode::kPolicyIo, "throttle state: " + s.error().message);
  return s;
}

AuthThrottle::Decision AuthThrottle::Check() {
  std::lock_guard lock(mutex_);
  return CheckLocked();
}

Expected<AuthThrottle::Decision> AuthThrottle::RecordAttemptStarted() {
  std::lock_guard lock(mutex_);
  const Decision decision = CheckLocked();
  if (!decision.allowed())
    return decision;
  state_.consecutive_failures = std::min(state_.consecutive_failures + 1, kMaxCountedFailures);
  MarkFailureNowLocked();
  if (Status s = PersistLocked(); !s.ok())
    return s.error();
  return decision;
}

Status AuthThrottle::RecordFailure() {
  std::lock_guard lock(mutex_);
  if (state_.consecutive_failures == 0)
    state_.consecutive_failures = 1;
  MarkFailureNowLocked();
  return PersistLocked();
}

Status AuthThrottle::RecordSuccess() {
  std::lock_guard lock(mutex_);
  state_.consecutive_failures = 0;
  state_.rotated_at_failures = 0;
  last_failure_mono_us_.reset();
  return PersistLocked();
}

bool AuthThrottle::ShouldRotatePassword() const {
  std::lock_guard lock(mutex_);
  return state_.consecutive_failures / kRotateEveryFailures >
         state_.rotated_at_failures / kRotateEveryFailures;
}

Status AuthThrottle::PasswordRotated() {
  std::lock_guard lock(mutex_);
  state_.password_generation += 1;
  state_.rotated_at_failures = state_.consecutive_failures;
  return PersistLocked();
}

int64_t AuthThrottle::consecutive_failures() const {
  std::lock_guard lock(mutex_);
  return state_.consecutive_failures;
}

int64_t AuthThrottle::last_failure_unix_ms() const {
  std::lock_guard lock(mutex_);
  return state_.last_failure_unix_ms;
}

uint64_t AuthThrottle::password_generation() const {
  std::lock_guard lock(mutex_);
  return state_.password_generation;
}

}  // namespace lifeline
