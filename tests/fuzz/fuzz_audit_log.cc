// Fuzz target: the host-policy parsers (audit log verifier, audit head, access.toml,
// throttle state) must turn any text into a result or a clear error, without I/O.
#include <string>
#include <string_view>

#include "app/core/access_list.h"
#include "app/core/audit_log.h"
#include "app/core/throttle.h"
#include "tests/fuzz/fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // Audit log: a verified log has exactly one '\n' per checked line, and whatever
  // verifies without a head also verifies against the head it implies.
  const auto report = lifeline::VerifyAuditLogText(text, std::nullopt);
  if (report.ok()) {
    size_t newlines = 0;
    for (char c : text)
      newlines += c == '\n';
    if (newlines != report.lines_checked)
      __builtin_trap();
    const lifeline::AuditLogHead head{report.last_seq, report.last_hash};
    if (!lifeline::VerifyAuditLogText(text, head).ok())
      __builtin_trap();
  } else if (report.reason.empty()) {
    __builtin_trap();
  }
  (void)lifeline::ParseAuditLogHead(text);

  // access.toml: whatever parses must survive a round trip unchanged.
  auto list = lifeline::ParseAccessList(text);
  if (list.ok()) {
    auto again = lifeline::ParseAccessList(lifeline::SerializeAccessList(*list));
    if (!again.ok() || !(*again == *list))
      __builtin_trap();
  }

  // Throttle state: same.
  auto state = lifeline::AuthThrottle::ParseState(text);
  if (state.ok()) {
    auto again = lifeline::AuthThrottle::ParseState(lifeline::AuthThrottle::SerializeState(*state));
    if (!again.ok() || again->consecutive_failures != state->consecutive_failures ||
        again->last_failure_unix_ms != state->last_failure_unix_ms ||
        again->password_generation != state->password_generation ||
        again->rotated_at_failures != state->rotated_at_failures) {
      __builtin_trap();
    }
  }
  return 0;
}

namespace lifeline::fuzz {
std::vector<std::vector<uint8_t>> Seeds() {
  std::vector<std::string> texts;
  // A valid small audit log, built by the real encoder.
  std::string log;
  std::string hash = AuditLogGenesisHash();
  const AuditEventType types[] = {AuditEventType::kAttempt, AuditEventType::kAuthFailed,
                                  AuditEventType::kAttempt, AuditEventType::kAuthSucceeded,
                                  AuditEventType::kSessionStarted};
  uint64_t seq = 0;
  for (AuditEventType type : types) {
    AuditEvent event;
    event.type = type;
    event.peer_id = "123456789";
    event.fingerprint = std::string(64, 'a');
    event.details = "from 127.0.0.1:5000\tnote\\";
    const std::string prev = hash;
    ++seq;
    log +=
        FormatAuditLogLine(seq, 1'700'000'000'000 + static_cast<int64_t>(seq), event, prev, &hash);
  }
  texts.push_back(log);
  texts.push_back(FormatAuditLogHead({seq, hash}));
  // A valid access.toml.
  texts.push_back(
      "allowlist_enabled = true\n[[allow]]\ndevice_id = \"111111111\"\nfingerprint = \"" +
      std::string(64, 'a') + "\"\nnote = \"Alice\"\n[[block]]\ndevice_id = \"222222222\"\n" +
      "[[block]]\nfingerprint = \"" + std::string(64, 'B') + "\"\n");
  // A valid throttle state.
  texts.push_back(AuthThrottle::SerializeState({12, 1'700'000'000'000, 1, 10}));
  std::vector<std::vector<uint8_t>> seeds;
  for (const std::string& t : texts)
    seeds.emplace_back(t.begin(), t.end());
  return seeds;
}
}  // namespace lifeline::fuzz
