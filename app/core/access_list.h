// AccessList: the host's allow and block lists (security.md §2.8, requirement 15).
//
// Rules, in this order (AccessList::Check):
//   1. Blocked when the peer's device ID equals the device_id of any [[block]] entry, or its
//      key fingerprint equals the fingerprint of any [[block]] entry.
//   2. When the allowlist is active, allowed only when some [[allow]] entry has the peer's
//      fingerprint and, if that entry names a device_id, also the peer's device ID. A numeric
//      ID alone is not an identity: an allowlisted ID presenting another key is refused.
//   3. Otherwise allowed.
// The allowlist is active when `allowlist_enabled = true`, or when the key is absent and
// there is at least one [[allow]] entry (`allowlist_enabled = false` keeps the entries but
// does not enforce them; `true` with no entries refuses everyone).
// The lists only narrow who may try: an allowed peer still needs the password (and TOTP).
// The host checks them before the PAKE (blocked peers never get to guess).
//
// File (`access.toml`, at most 1 MiB, at most 10000 entries per list):
//
//   allowlist_enabled = true          # optional
//   [[allow]]
//   device_id = "123456789"           # optional for allow entries
//   fingerprint = "<64 hex digits>"   # required for allow entries
//   note = "Alice's laptop"           # optional, <= 200 bytes, no control characters
//   [[block]]
//   device_id = "987654321"           # a block entry needs device_id, fingerprint or both
//
// device_id: 1 to 32 ASCII digits. fingerprint: 64 hex digits (SHA-256 of the peer's device
// key as seen in the inner TLS certificate); upper case is accepted and stored lower case.
// Unknown keys are errors (a misspelt "fingerprint" must not silently widen an entry).
// Errors name the field and the entry index (0-based, in file order):
// "allow[2].fingerprint: must be 64 hex digits".
//
// Threading: AccessList is a value; concurrent const use is safe, mutation is not.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lifeline {

struct AccessEntry {
  std::string device_id;    // Digits, or empty (allowed empty: allow entries; block entries
                            // need device_id or fingerprint).
  std::string fingerprint;  // 64 lower-case hex digits, or empty (block entries only).
  std::string note;         // For people; optional.

  bool operator==(const AccessEntry&) const = default;
};

enum class AccessDecision { kAllowed, kBlocked, kNotAllowlisted };

class AccessList {
 public:
  static constexpr size_t kMaxEntries = 10000;  // Per list.
  static constexpr size_t kMaxNoteBytes = 200;
  static constexpr size_t kMaxFileBytes = 1024 * 1024;

  // An empty list allows everyone.
  AccessList() = default;

  // The rules above. `fingerprint` is compared case-insensitively; an empty or malformed
  // fingerprint never matches an allow entry.
  AccessDecision Check(std::string_view device_id, std::string_view fingerprint) const;

  bool allowlist_active() const;
  // nullopt: active when there are allow entries (the file had no allowlist_enabled key).
  const std::optional<bool>& allowlist_enabled() const { return allowlist_enabled_; }
  void set_allowlist_enabled(std::optional<bool> enabled) { allowlist_enabled_ = enabled; }

  const std::vector<AccessEntry>& allow() const { return allow_; }
  const std::vector<AccessEntry>& block() const { return block_; }

  // Validate and add one entry (fingerprint normalized to lower case). Errors:
  // kPolicyInvalid naming the field ("allow[3].device_id: ..." with the index it would get),
  // or the list being full.
  Status AddAllowed(AccessEntry entry);
  Status AddBlocked(AccessEntry entry);
  // Remove every entry of that list with this device ID or fingerprint; returns how many.
  size_t RemoveAllowed(std::string_view device_id_or_fingerprint);
  size_t RemoveBlocked(std::string_view device_id_or_fingerprint);

  bool operator==(const AccessList&) const = default;

 private:
  std::optional<bool> allowlist_enabled_;
  std::vector<AccessEntry> allow_;
  std::vector<AccessEntry> block_;
};

// Parses access.toml text. Errors: kPolicyInvalid with the field and entry index, or the TOML
// line and column.
Expected<AccessList> ParseAccessList(std::string_view toml_text);
// TOML text that ParseAccessList() turns back into an equal list.
std::string SerializeAccessList(const AccessList& list);

// Loads `path` (a missing file is an empty list: nobody blocked, allowlist off).
// Errors: kPolicyIo (unreadable, symlink, larger than 1 MiB), kPolicyInvalid (naming the
// file, field and entry index).
Expected<AccessList> LoadAccessList(const std::string& path);
// Writes atomically (temporary file, fsync, rename; mode 0600). Errors: kPolicyIo.
Status SaveAccessList(const std::string& path, const AccessList& list);

}  // namespace lifeline
