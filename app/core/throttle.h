// AuthThrottle: the host's persisted brute-force protection (security.md §2.7, requirement 12).
//
// The rule (spec):
//
//   k = consecutive failed authentication attempts against this host, from any source. An
//       attempt counts from the moment the host sends its PAKE share (RecordAttemptStarted),
//       so a viewer that disconnects before key confirmation has still used one attempt.
//       Only a fully successful authentication (PAKE and, if enabled, TOTP) resets k to 0.
//   Before the next attempt the host waits, measured from the last failure:
//       delay(k) = 0                          for k <= 2
//       delay(k) = min(2^(k-2) s, 2 h)        for k >= 3
//       i.e. 2 s, 4 s, 8 s, ... 4096 s (k = 14), then 2 h for k >= 15.
//   After every 10 consecutive failures (k = 10, 20, 30, ...) the one-time password is
//   rotated and the local user told (ShouldRotatePassword / PasswordRotated). Rotation does
//   not reset k: a fresh password does not give the attacker fresh cheap guesses.
//
//   Cumulative enforced waiting for 24 attempts (the waits after failures 1..23):
//       sum_{k=3..14} 2^(k-2) s = 8190 s, plus 9 x 7200 s (k = 15..23) = 64800 s,
//       total 72990 s = 20 h 16 min 30 s (22 h 16 min 30 s counting the wait after the 24th).
//   TeamViewer advertises "as many as 17 hours for 24 attempts". The 1 h cap of security.md
//   §2.7 gives only 40094 s = 11 h 8 min for the same 24 attempts, so the cap here is 2 h,
//   the smallest whole-hour cap that reaches 17 h (§2.7 and requirement 12 should follow).
//
// Persistence: the state file (one `key value` per line, see throttle.cc) is replaced
// atomically before each Record* call returns, so an attempt is on disk before the host
// answers it. The counter survives restarts and password rotations.
//
// Failing closed: a state file that cannot be read or parsed is never treated as "no
// failures". OpenFailClosed() then starts from k = 10 failures at the current time (a
// 256 s wait, and a password rotation due) and returns the error for the caller to report.
// Deleting the file does reset the throttle; protecting the file is the job of the
// folder's permissions (the file is mode 0600).
//
// Time: waits use the wall clock (they must survive a restart). If the wall clock goes
// backwards, the last failure is moved back to "now", so the full delay starts again
// instead of the wait growing by the jump; it never ends early. If a monotonic Clock is
// given, the elapsed time within one process is also limited by it, so a wall clock jumping
// forward does not end a wait early either.
//
// Threading: all methods are thread-safe (one mutex). Owner: the host's accept loop, which
// keeps one AuthThrottle per host for the lifetime of the process.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/time.h"
#include "base/wall_clock.h"

namespace lifeline {

class AuthThrottle {
 public:
  enum class Verdict { kAllowed, kWait };
  struct Decision {
    Verdict verdict = Verdict::kAllowed;
    int64_t retry_after_ms = 0;  // > 0 exactly when verdict == kWait.
    bool allowed() const { return verdict == Verdict::kAllowed; }
  };

  static constexpr int64_t kFreeFailures = 2;                    // delay(k) = 0 up to here.
  static constexpr int64_t kMaxDelayMs = 2 * 3600 * 1000;        // The cap (see above).
  static constexpr int64_t kRotateEveryFailures = 10;            // Rotate at k = 10, 20, ...
  static constexpr int64_t kFailClosedFailures = 10;             // k assumed for a corrupt file.
  static constexpr int64_t kMaxCountedFailures = 1'000'000'000;  // k saturates here.

  // delay(k) from the rule above, in milliseconds.
  static int64_t DelayAfterFailuresMs(int64_t consecutive_failures);

  // Loads the state from `path` (a missing file is a fresh state with k = 0).
  // `monotonic_clock` (optional, may be null; production passes &SystemClock::Get())
  // guards against the wall clock jumping forward while the process runs.
  // Errors: kThrottleStateCorrupt (the file exists but cannot be read or parsed, or is a
  // symlink or too large; the message names the file). Callers that must keep running
  // use OpenFailClosed() instead.
  static Expected<std::unique_ptr<AuthThrottle>> Open(const std::string& path,
                                                      const WallClock& wall_clock,
                                                      const Clock* monotonic_clock = nullptr);

  // Like Open(), but always returns a throttle: on an error it starts failed closed (k = 10
  // at the current time, rotation due), sets `*open_status` to the error (else to Ok) and
  // replaces the bad file at the next recorded event.
  static std::unique_ptr<AuthThrottle> OpenFailClosed(const std::string& path,
                                                      const WallClock& wall_clock,
                                                      Status* open_status,
                                                      const Clock* monotonic_clock = nullptr);

  AuthThrottle(const AuthThrottle&) = delete;
  AuthThrottle& operator=(const AuthThrottle&) = delete;

  // May an attempt start now? Does not count anything. (Not const: it may move the last
  // failure back when the wall clock went backwards.)
  Decision Check();

  // Call when the host is about to send its PAKE share. Checks and counts atomically: if the
  // throttle says wait, nothing is counted and the kWait decision is returned (the host must
  // not send its share). Otherwise the attempt is counted as a failure (k + 1, last failure
  // = now) and persisted before this returns kAllowed. An error (kPolicyIo) means the count
  // could not be persisted: it still holds in memory, and the host must abort the attempt.
  Expected<Decision> RecordAttemptStarted();

  // The attempt failed (wrong password, bad key confirmation, wrong TOTP code). It was already
  // counted by RecordAttemptStarted(); this moves the last failure to now so that the wait
  // runs from the end of the attempt. (If k is 0, for example after a concurrent success,
  // the failure is counted as 1.) Aborted attempts need no call. Errors: kPolicyIo.
  Status RecordFailure();

  // Full success (PAKE and TOTP if enabled): k = 0. Errors: kPolicyIo (k is 0 in memory).
  Status RecordSuccess();

  // True when k has reached a multiple of 10 since the last PasswordRotated() (or success).
  bool ShouldRotatePassword() const;
  // The host rotated the one-time password: clears ShouldRotatePassword() until the next
  // multiple of 10 and increments password_generation(). Errors: kPolicyIo.
  Status PasswordRotated();

  int64_t consecutive_failures() const;
  int64_t last_failure_unix_ms() const;
  // How many rotations this throttle has seen (persisted; identifies the current password).
  uint64_t password_generation() const;
  const std::string& path() const { return path_; }

  // The persisted state and its text form (throttle.cc documents the format); public for
  // tests and the fuzz target.
  struct State {
    int64_t consecutive_failures = 0;
    int64_t last_failure_unix_ms = 0;
    uint64_t password_generation = 0;
    int64_t rotated_at_failures = 0;  // k at the last PasswordRotated(); <= k.
  };
  static std::string SerializeState(const State& state);
  // Errors: kThrottleStateCorrupt with what is wrong (the caller adds the file name).
  static Expected<State> ParseState(std::string_view text);

 private:
  AuthThrottle(std::string path,
               const WallClock& wall_clock,
               const Clock* monotonic_clock,
               const State& state);
  Decision CheckLocked();
  void MarkFailureNowLocked();
  Status PersistLocked();

  const std::string path_;
  const WallClock& wall_clock_;
  const Clock* const monotonic_clock_;  // May be null.

  mutable std::mutex mutex_;
  State state_;                                  // Guarded by mutex_.
  std::optional<int64_t> last_failure_mono_us_;  // Guarded by mutex_.
};

}  // namespace lifeline
