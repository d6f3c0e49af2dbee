// AuditLog: the host's hash-chained, append-only security log (security.md §2.7-2.8).
//
// Every authentication attempt and its outcome, throttling and blocking decisions, session
// start and end, password rotation and TOTP changes are appended as one line each. `lifeline
// audit verify` (AuditLog::Verify) detects a changed, removed, reordered or truncated line.
//
// File format (`audit.log`, printable ASCII, one event per line, each ending in '\n'):
//
//   seq \t unix_ms \t event \t peer_id \t fingerprint \t details \t prev_hash \t hash \n
//
//   seq          decimal, 1 for the first line, +1 per line, no leading zeros.
//   unix_ms      decimal wall-clock milliseconds (clamped to >= 0; may go backwards when the
//                system clock does, so it is informational, not part of the ordering).
//   event        one of the names in AuditEventName() ("auth_failed", ...).
//   peer_id,     escaped free text (empty when there is no peer). Escaping: '\\' -> "\\\\",
//   fingerprint, TAB -> "\\t", LF -> "\\n", CR -> "\\r", every other byte outside 0x20-0x7e ->
//   details      "\\xhh" (lower-case hex). So a field never contains a TAB or a line break,
//                and the file is printable ASCII (no terminal escape injection). Raw fields
//                longer than kMaxPeerIdBytes / kMaxFingerprintBytes / kMaxDetailsBytes are
//                cut and end in "[truncated]".
//   prev_hash    the previous line's `hash`; for seq 1 the genesis value AuditLogGenesisHash()
//                = hex(SHA-256("lifeline audit log v1 genesis")).
//   hash         hex(SHA-256(every byte of the line before this field, including prev_hash and
//                the TAB that precedes `hash`)), 64 lower-case hex digits.
//
// A line is at most kMaxAuditLineBytes bytes (without '\n'); readers refuse longer lines before
// buffering them.
//
// The head file (`audit.log.head`), replaced atomically after every append:
//
//   lifeline-audit-head v1 \t last_seq \t last_hash \n
//
// Chaining alone cannot notice that the last lines were cut off (the shorter file is still a
// valid chain); the head file records where the log ended, so Verify() reports lines removed
// at the end. The log is written first and the head second, so after a crash the log may be
// one line ahead of the head. Being ahead is accepted in general (said in
// VerifyReport::note): appending valid lines needs no secret anyway, and `lifeline audit
// verify` may read while the host appends. What the head catches is a log that is shorter
// than it, or whose line at the head's seq has another hash.
//
// Limits, honestly: SHA-256 without a key is tamper-evident only against edits that do not
// recompute the chain. Someone who can write both files (root, the same user) can rewrite
// history consistently. Mitigations for later: a keyed MAC with the key in the OS keystore,
// or exporting the head (last seq + hash) to another machine or showing it to the user.
//
// Secrets: the API has no password, OTP, TOTP code or key field, and callers must not put
// any into `details` (security.md requirement 10). Peer IDs and key fingerprints are not
// secrets.
//
// A broken log is never silently reset or continued: Open() returns kAuditLogCorrupt and
// refuses to append until the user resolves it, for example with SetAsideCorruptLog(), which
// keeps the broken file under a new name and starts a new chain whose first line says so.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/wall_clock.h"

namespace lifeline {

enum class AuditEventType {
  kAttempt,        // The host sent its PAKE share: one counted authentication attempt.
  kAuthSucceeded,  // PAKE and (if enabled) TOTP both succeeded.
  kAuthFailed,     // Wrong password or TOTP code, failed key confirmation, or aborted.
  kThrottled,      // An attempt was refused because of the brute-force delay.
  kBlocked,        // A blocklisted peer, or one missing from the active allowlist.
  kSessionStarted,
  kSessionEnded,
  kPasswordRotated,  // details say why ("10 consecutive failures", "session ended").
  kTotpEnabled,
  kTotpDisabled,
  kConsentDenied,  // The local user denied (or did not answer) the connection request.
  kLogSetAside,    // First line of a new chain after SetAsideCorruptLog(); details say why.
};

// The name used in the file ("attempt", "auth_succeeded", ...).
std::string_view AuditEventName(AuditEventType type);
std::optional<AuditEventType> ParseAuditEventName(std::string_view name);

// One event. There is deliberately no field for a password or code.
struct AuditEvent {
  AuditEventType type = AuditEventType::kAttempt;
  std::string peer_id;      // The peer's device ID as announced, or empty.
  std::string fingerprint;  // Hex SHA-256 of the peer's device key, or empty.
  std::string details;      // Free text for people (address, reason). Never a secret.
};

// Caps on the raw (unescaped) fields; longer values are cut and marked "[truncated]".
inline constexpr size_t kMaxPeerIdBytes = 64;
inline constexpr size_t kMaxFingerprintBytes = 64;
inline constexpr size_t kMaxDetailsBytes = 512;
// The longest line a reader accepts (without '\n'). Every line we write is shorter.
inline constexpr size_t kMaxAuditLineBytes = 4096;

// hex(SHA-256("lifeline audit log v1 genesis")): the prev_hash of line 1.
const std::string& AuditLogGenesisHash();

// Encodes one line (with its trailing '\n') in the format above and sets `*hash` to its hash.
// This is the canonical encoder that Append() uses; public for tests and fuzz seeds.
std::string FormatAuditLogLine(uint64_t seq,
                               int64_t unix_ms,
                               const AuditEvent& event,
                               std::string_view prev_hash,
                               std::string* hash);

// Where the head file says the log ends.
struct AuditLogHead {
  uint64_t last_seq = 0;  // 0: the log is empty.
  std::string last_hash;  // AuditLogGenesisHash() when last_seq == 0.
};
std::string FormatAuditLogHead(const AuditLogHead& head);
// Expected error: kAuditLogCorrupt when `text` is not exactly one well-formed head line.
Expected<AuditLogHead> ParseAuditLogHead(std::string_view text);

class AuditLog {
 public:
  enum class Problem {
    kNone,
    kMalformedLine,      // Wrong field count, bad number, unknown event, bad escape, too long.
    kLineChanged,        // The line's hash does not match its content.
    kLineRemoved,        // seq jumps forward: lines before this one were removed (or moved).
    kReordered,          // seq goes backwards or repeats: lines were reordered or duplicated.
    kChainBroken,        // prev_hash is not the previous line's hash (a line was replaced).
    kTruncatedLastLine,  // The file ends in the middle of a line (no '\n').
    kRemovedAtEnd,       // The head file records more lines than the log has.
    kHeadMismatch,       // The head file's hash for its seq differs from the log's line.
    kHeadMissing,        // The log has more than one line but no head file.
    kHeadMalformed,      // The head file exists but cannot be parsed.
  };

  struct VerifyReport {
    bool ok() const { return problem == Problem::kNone; }
    uint64_t lines_checked = 0;   // Complete lines whose format, hash and chain were verified.
    uint64_t first_bad_line = 0;  // 1-based line number in the file; 0 when ok or when the
                                  // problem is about the end of the file (head checks).
    Problem problem = Problem::kNone;
    std::string reason;     // For people: what is wrong, naming line and seq.
    uint64_t last_seq = 0;  // Of the last verified line (0 for an empty log).
    std::string last_hash;  // Of the last verified line (genesis for an empty log).
    std::string note;       // Non-fatal remarks (for example "head lags one line").
  };

  // Opens (creating with mode 0600 if missing) the log at `path` and its head file
  // `path + ".head"`, takes an exclusive flock (one writing process), and checks that
  // appends can continue the chain: the fast path reads only the last line and the head;
  // when they do not simply agree, the whole file is verified as by Verify() (and the head
  // rewritten when the log is just ahead of it).
  // Errors: kPolicyIo (cannot open, create, read or lock; in use by another process;
  // symlink), kAuditLogCorrupt (the log or head is broken; the message names the file, the
  // line and what is wrong; nothing is written and the files are left as they are).
  static Expected<std::unique_ptr<AuditLog>> Open(const std::string& path, const WallClock& clock);

  // Resolves a corrupt log explicitly: renames `path` to `path + ".corrupt-<unix_ms>"` (and
  // its head file alongside), then starts a new log at `path` whose first line is a
  // kLogSetAside event naming the old file and `reason`. Returns the new name of the old log.
  // The caller must not hold the log open. Errors: kPolicyIo.
  static Expected<std::string> SetAsideCorruptLog(const std::string& path,
                                                  std::string_view reason,
                                                  const WallClock& clock);

  // Full check of `path` against `path + ".head"`. The Expected holds an error only when the
  // log cannot be read (kPolicyIo); a broken log is a report with ok() == false. Reads the
  // file as a stream: memory use is bounded by kMaxAuditLineBytes, whatever the file size.
  static Expected<VerifyReport> Verify(const std::string& path);

  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line with the current wall-clock time, fdatasync()s it, then replaces the head
  // file. Thread-safe; lines from concurrent callers are serialized and chained in order.
  // Errors: kPolicyIo (write or sync failed; a partly written line is truncated away again;
  // when the line is on disk but the head could not be replaced, the next Append retries the
  // head first), kAuditLogCorrupt (an earlier write left the file in an unknown state; the log
  // refuses further appends).
  Status Append(const AuditEvent& event);

  const std::string& path() const { return path_; }
  uint64_t last_seq() const;

 private:
  AuditLog(std::string path, const WallClock& clock, int fd);
  Status WriteHeadLocked();

  const std::string path_;
  const WallClock& clock_;
  const int fd_;  // O_APPEND, flock()ed for the lifetime of this object.

  mutable std::mutex mutex_;
  uint64_t last_seq_ = 0;    // Guarded by mutex_.
  std::string last_hash_;    // Guarded by mutex_.
  uint64_t file_size_ = 0;   // Guarded by mutex_. Bytes of complete lines.
  bool head_dirty_ = false;  // Guarded by mutex_. The head file lags the log.
  bool broken_ = false;      // Guarded by mutex_. A failed write could not be undone.
};

// Verifies log text in memory, with the same rules as AuditLog::Verify(). `head` is the
// parsed head file, or nullopt when there is none (then lines removed at the end cannot be
// noticed). No I/O; for the fuzz target and tests.
AuditLog::VerifyReport VerifyAuditLogText(std::string_view text,
                                          const std::optional<AuditLogHead>& head);

// Small file helpers shared by the host-policy files (throttle state, access.toml, audit
// head). They live here because the three policy components share no other header.
namespace policy_file {

// Reads the regular file `path` if it is at most `max_bytes` long (checked with fstat before
// reading). A missing file is std::nullopt. Refuses symlinks (O_NOFOLLOW). Errors: kPolicyIo
// naming the file (unreadable, not a regular file, too large).
Expected<std::optional<std::string>> ReadSmallFile(const std::string& path, size_t max_bytes);

// Parses a decimal number without sign or leading zeros that is at most `max`. False for
// anything else (empty, too long, overflow).
bool ParseDecimal(std::string_view s, uint64_t max, uint64_t* out);

// Replaces `path` atomically with `contents`: a new temporary file in the same folder
// (O_EXCL, mode 0600, never following links), write, fsync, rename over `path`, fsync the
// folder. Either the old or the new content survives a crash. Errors: kPolicyIo.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace policy_file

}  // namespace lifeline
