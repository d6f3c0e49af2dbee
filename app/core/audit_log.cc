#include "app/core/audit_log.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include <openssl/evp.h>

namespace lifeline {
namespace {

constexpr std::string_view kHeadMagic = "lifeline-audit-head v1";
constexpr std::string_view kTruncatedMark = "[truncated]";
constexpr size_t kHashHexLength = 64;
constexpr size_t kFieldCount = 8;
constexpr size_t kMaxHeadFileBytes = 256;

// The longest line FormatAuditLogLine() can produce (each raw byte escapes to at most 4).
constexpr size_t kLongestWrittenLine = 20 + 1 + 19 + 1 + 16 + 1 +  // seq, ms, event
                                       (kMaxPeerIdBytes * 4 + kTruncatedMark.size()) + 1 +
                                       (kMaxFingerprintBytes * 4 + kTruncatedMark.size()) + 1 +
                                       (kMaxDetailsBytes * 4 + kTruncatedMark.size()) + 1 +
                                       kHashHexLength + 1 + kHashHexLength;
static_assert(kLongestWrittenLine <= kMaxAuditLineBytes);

constexpr std::array<std::string_view, 12> kEventNames = {
    "attempt",      "auth_succeeded",  "auth_failed",    "throttled",
    "blocked",      "session_started", "session_ended",  "password_rotated",
    "totp_enabled", "totp_disabled",   "consent_denied", "log_set_aside",
};
static_assert(kEventNames.size() == static_cast<size_t>(AuditEventType::kLogSetAside) + 1);

std::string ErrnoText(int err) {
  return std::strerror(err);
}

// Lower-case hex SHA-256, or "" when OpenSSL fails (callers treat that as an error).
std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &digest_len, EVP_sha256(), nullptr) != 1 ||
      digest_len != 32) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * digest_len, '0');
  for (unsigned int i = 0; i < digest_len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool IsHashHex(std::string_view s) {
  return s.size() == kHashHexLength && std::all_of(s.begin(), s.end(), IsLowerHex);
}

void AppendEscaped(std::string_view raw, size_t max_raw_bytes, std::string* out) {
  const bool cut = raw.size() > max_raw_bytes;
  if (cut)
    raw = raw.substr(0, max_raw_bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        if (c < 0x20 || c > 0x7e) {
          out->append("\\x");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(ch);
        }
    }
  }
  if (cut)
    out->append(kTruncatedMark);
}

// True when `field` is something AppendEscaped() can produce: printable ASCII, and every
// backslash starts one of the escapes above.
bool IsValidEscapedField(std::string_view field) {
  for (size_t i = 0; i < field.size(); ++i) {
    const auto c = static_cast<unsigned char>(field[i]);
    if (c < 0x20 || c > 0x7e)
      return false;
    if (c != '\\')
      continue;
    if (i + 1 >= field.size())
      return false;
    const char e = field[i + 1];
    if (e == '\\' || e == 't' || e == 'n' || e == 'r') {
      i += 1;
    } else if (e == 'x' && i + 3 < field.size() && IsLowerHex(field[i + 2]) &&
               IsLowerHex(field[i + 3])) {
      i += 3;
    } else {
      return false;
    }
  }
  return true;
}

using policy_file::ParseDecimal;

struct ParsedLine {
  uint64_t seq = 0;
  std::string_view prev_hash;
  std::string_view hash;
};

struct LineProblem {
  AuditLog::Problem problem = AuditLog::Problem::kNone;
  std::string reason;
};

// Checks one line (without '\n') on its own: format and its own hash. Chain and sequence
// checks need the previous line and are done by the caller.
LineProblem ParseLine(std::string_view line, ParsedLine* out) {
  using Problem = AuditLog::Problem;
  if (line.size() > kMaxAuditLineBytes) {
    return {Problem::kMalformedLine,
            "longer than " + std::to_string(kMaxAuditLineBytes) + " bytes"};
  }
  std::array<std::string_view, kFieldCount> fields;
  size_t count = 0;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    const std::string_view field =
        line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    if (count == kFieldCount)
      return {Problem::kMalformedLine, "has more than 8 fields"};
    fields[count++] = field;
    if (tab == std::string_view::npos)
      break;
    start = tab + 1;
  }
  if (count != kFieldCount) {
    return {Problem::kMalformedLine, "has " + std::to_string(count) + " fields instead of 8"};
  }
  if (!IsHashHex(fields[7]))
    return {Problem::kMalformedLine, "hash is not 64 lower-case hex digits"};
  const std::string_view hashed = line.substr(0, line.size() - kHashHexLength);
  const std::string computed = Sha256Hex(hashed);
  if (computed.empty())
    return {Problem::kMalformedLine, "SHA-256 failed (OpenSSL)"};
  if (computed != fields[7])
    return {Problem::kLineChanged, "content does not match its hash (the line was changed)"};
  // The hash matches: what follows can only fail for lines written by a broken or hostile
  // writer that also computed the hash.
  uint64_t seq = 0;
  if (!ParseDecimal(fields[0], std::numeric_limits<uint64_t>::max(), &seq) || seq == 0)
    return {Problem::kMalformedLine, "seq is not a positive decimal number"};
  uint64_t unix_ms = 0;
  if (!ParseDecimal(fields[1], static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
                    &unix_ms)) {
    return {Problem::kMalformedLine, "unix_ms is not a decimal number"};
  }
  if (!ParseAuditEventName(fields[2]))
    return {Problem::kMalformedLine, "unknown event name"};
  for (size_t i = 3; i <= 5; ++i) {
    if (!IsValidEscapedField(fields[i]))
      return {Problem::kMalformedLine, "field " + std::to_string(i + 1) + " is badly escaped"};
  }
  if (!IsHashHex(fields[6]))
    return {Problem::kMalformedLine, "prev_hash is not 64 lower-case hex digits"};
  out->seq = seq;
  out->prev_hash = fields[6];
  out->hash = fields[7];
  return {};
}

// How Verify() knows where the log should end.
struct HeadInput {
  enum class Mode { kNotChecked, kMissing, kMalformed, kPresent };
  Mode mode = Mode::kNotChecked;
  AuditLogHead head;
  std::string error;  // For kMalformed.
};

// Verifies a log fed to it in arbitrary pieces; memory is bounded by one line.
class ChainVerifier {
 public:
  explicit ChainVerifier(HeadInput head) : head_(std::move(head)) {
    report_.last_hash = AuditLogGenesisHash();
  }

  // Returns false once a problem was found (further input is ignored).
  bool Feed(std::string_view data) {
    while (!failed_ && !data.empty()) {
      const size_t newline = data.find('\n');
      if (newline == std::string_view::npos) {
        if (pending_.size() + data.size() > kMaxAuditLineBytes) {
          Fail(line_number_ + 1, AuditLog::Problem::kMalformedLine,
               "longer than " + std::to_string(kMaxAuditLineBytes) + " bytes");
          break;
        }
        pending_.append(data);
        break;
      }
      if (pending_.empty()) {
        Line(data.substr(0, newline));
      } else {
        if (pending_.size() + newline > kMaxAuditLineBytes) {
          Fail(line_number_ + 1, AuditLog::Problem::kMalformedLine,
               "longer than " + std::to_string(kMaxAuditLineBytes) + " bytes");
          break;
        }
        pending_.append(data.substr(0, newline));
        Line(pending_);
        pending_.clear();
      }
      data.remove_prefix(newline + 1);
    }
    return !failed_;
  }

  AuditLog::VerifyReport Finish() {
    if (!failed_ && !pending_.empty()) {
      Fail(line_number_ + 1, AuditLog::Problem::kTruncatedLastLine,
           "the file ends in the middle of a line (an interrupted write, or the end was cut off)");
    }
    if (!failed_)
      CheckHead();
    return std::move(report_);
  }

 private:
  void Fail(uint64_t line_number, AuditLog::Problem problem, std::string reason) {
    failed_ = true;
    report_.problem = problem;
    report_.first_bad_line = line_number;
    report_.reason = line_number == 0 ? std::move(reason)
                                      : "line " + std::to_string(line_number) + ": " + reason;
  }

  void Line(std::string_view line) {
    ++line_number_;
    ParsedLine parsed;
    LineProblem problem = ParseLine(line, &parsed);
    if (problem.problem != AuditLog::Problem::kNone) {
      Fail(line_number_, problem.problem, std::move(problem.reason));
      return;
    }
    const uint64_t expected = report_.last_seq + 1;
    if (parsed.seq > expected) {
      Fail(line_number_, AuditLog::Problem::kLineRemoved,
           "seq " + std::to_string(parsed.seq) + " where " + std::to_string(expected) +
               " was expected (lines were removed or moved)");
      return;
    }
    if (parsed.seq < expected) {
      Fail(line_number_, AuditLog::Problem::kReordered,
           "seq " + std::to_string(parsed.seq) + " after seq " + std::to_string(report_.last_seq) +
               " (lines were reordered or duplicated)");
      return;
    }
    if (parsed.prev_hash != report_.last_hash) {
      Fail(line_number_, AuditLog::Problem::kChainBroken,
           line_number_ == 1 ? std::string("does not start from the genesis hash")
                             : "does not chain to the previous line (a line was replaced)");
      return;
    }
    report_.last_seq = parsed.seq;
    report_.last_hash = std::string(parsed.hash);
    report_.lines_checked = line_number_;
    if (head_.mode == HeadInput::Mode::kPresent && parsed.seq == head_.head.last_seq)
      hash_at_head_seq_ = report_.last_hash;
  }

  void CheckHead() {
    using Problem = AuditLog::Problem;
    const uint64_t last = report_.last_seq;
    switch (head_.mode) {
      case HeadInput::Mode::kNotChecked:
        return;
      case HeadInput::Mode::kMalformed:
        Fail(0, Problem::kHeadMalformed, "head file: " + head_.error);
        return;
      case HeadInput::Mode::kMissing:
        if (last > 1) {
          Fail(0, Problem::kHeadMissing,
               "the head file is missing (the log has " + std::to_string(last) + " lines)");
        } else if (last == 1) {
          report_.note = "no head file; accepted for a one-line log (interrupted first append)";
        }
        return;
      case HeadInput::Mode::kPresent:
        break;
    }
    const AuditLogHead& head = head_.head;
    if (head.last_seq > last) {
      Fail(0, Problem::kRemovedAtEnd,
           "the head file records seq " + std::to_string(head.last_seq) +
               " but the log ends at seq " + std::to_string(last) +
               " (lines were removed at the end)");
      return;
    }
    const std::string& expected_hash =
        head.last_seq == 0 ? AuditLogGenesisHash() : hash_at_head_seq_;
    if (head.last_hash != expected_hash) {
      Fail(0, Problem::kHeadMismatch,
           "the head file's hash for seq " + std::to_string(head.last_seq) +
               " differs from the log's (the log was rewritten)");
      return;
    }
    // More lines than the head records is not an error: appending is possible for anyone
    // who can write the file (the chain has no key), and it happens legitimately when a
    // crash interrupted an append or when lines are appended while Verify() runs.
    if (last > head.last_seq) {
      report_.note = std::to_string(last - head.last_seq) +
                     " line(s) after the seq the head file records (appended meanwhile, or an "
                     "interrupted append)";
    }
  }

  HeadInput head_;
  AuditLog::VerifyReport report_;
  std::string pending_;
  std::string hash_at_head_seq_;
  uint64_t line_number_ = 0;
  bool failed_ = false;
};

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

// Makes a rename or a file creation in the folder of `path` durable.
Status SyncDirectoryOf(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return Status(ErrorCode::kPolicyIo, "cannot open folder " + dir + ": " + ErrnoText(errno));
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  if (rc != 0)
    return Status(ErrorCode::kPolicyIo, "cannot sync folder " + dir + ": " + ErrnoText(err));
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return Status(ErrorCode::kPolicyIo, n < 0 ? ErrnoText(errno) : "short write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string HeadPath(const std::string& log_path) {
  return log_path + ".head";
}

// Reads the head file. nullopt value: there is none.
Expected<std::optional<AuditLogHead>> ReadHead(const std::string& log_path) {
  auto text = policy_file::ReadSmallFile(HeadPath(log_path), kMaxHeadFileBytes);
  if (!text.ok())
    return text.error();
  if (!text->has_value())
    return std::optional<AuditLogHead>();
  auto head = ParseAuditLogHead(**text);
  if (!head.ok()) {
    return Error{ErrorCode::kAuditLogCorrupt,
                 "audit head file " + HeadPath(log_path) + ": " + head.error().message};
  }
  return std::optional<AuditLogHead>(std::move(head).value());
}

struct TailState {
  uint64_t last_seq = 0;
  std::string last_hash;
  bool head_lags = false;  // The log has one line the head file does not record yet.
};

// The fast check when opening a log of `size` bytes: reads only the head file and the last
// line. nullopt value: not the simple case (a problem, or the log is more than one line
// ahead of its head); the caller then verifies the whole file.
Expected<std::optional<TailState>> ReadTail(const std::string& path, uint64_t size) {
  const std::optional<TailState> not_simple;
  auto head_or = ReadHead(path);
  if (!head_or.ok()) {
    if (head_or.error().code == ErrorCode::kAuditLogCorrupt)
      return not_simple;  // Malformed head file: the full check reports it.
    return head_or.error();
  }
  const AuditLogHead head =
      head_or->has_value() ? **head_or : AuditLogHead{0, AuditLogGenesisHash()};
  if (size == 0) {
    if (head.last_seq != 0)
      return not_simple;
    return std::optional<TailState>(TailState{0, AuditLogGenesisHash(), false});
  }
  // The last line (at most kMaxAuditLineBytes + '\n') and the '\n' before it.
  const uint64_t tail_size = std::min<uint64_t>(size, kMaxAuditLineBytes + 2);
  std::string tail(tail_size, '\0');
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return Error{ErrorCode::kPolicyIo, "cannot read audit log " + path + ": " + ErrnoText(errno)};
  size_t got = 0;
  while (got < tail.size()) {
    const ssize_t n =
        pread(fd, tail.data() + got, tail.size() - got, static_cast<off_t>(size - tail_size + got));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  if (got != tail.size())
    return Error{ErrorCode::kPolicyIo, "cannot read the end of audit log " + path};
  if (tail.back() != '\n')
    return not_simple;  // Truncated last line.
  const std::string_view body = std::string_view(tail).substr(0, tail.size() - 1);
  const size_t prev_newline = body.rfind('\n');
  std::string_view last_line;
  if (prev_newline != std::string_view::npos) {
    last_line = body.substr(prev_newline + 1);
  } else if (tail_size == size) {
    last_line = body;
  } else {
    return not_simple;  // Last line too long.
  }
  ParsedLine parsed;
  if (ParseLine(last_line, &parsed).problem != AuditLog::Problem::kNone)
    return not_simple;
  if (head.last_seq == parsed.seq && head.last_hash == parsed.hash)
    return std::optional<TailState>(TailState{parsed.seq, std::string(parsed.hash), false});
  if (head.last_seq + 1 == parsed.seq && head.last_hash == parsed.prev_hash)
    return std::optional<TailState>(TailState{parsed.seq, std::string(parsed.hash), true});
  return not_simple;
}

}  // namespace

std::string_view AuditEventName(AuditEventType type) {
  const auto index = static_cast<size_t>(type);
  return index < kEventNames.size() ? kEventNames[index] : std::string_view("unknown");
}

std::optional<AuditEventType> ParseAuditEventName(std::string_view name) {
  for (size_t i = 0; i < kEventNames.size(); ++i) {
    if (kEventNames[i] == name)
      return static_cast<AuditEventType>(i);
  }
  return std::nullopt;
}

const std::string& AuditLogGenesisHash() {
  static const std::string genesis = Sha256Hex("lifeline audit log v1 genesis");
  return genesis;
}

std::string FormatAuditLogLine(uint64_t seq,
                               int64_t unix_ms,
                               const AuditEvent& event,
                               std::string_view prev_hash,
                               std::string* hash) {
  std::string line;
  line.reserve(256);
  line.append(std::to_string(seq)).push_back('\t');
  line.append(std::to_string(std::max<int64_t>(unix_ms, 0))).push_back('\t');
  line.append(AuditEventName(event.type)).push_back('\t');
  AppendEscaped(event.peer_id, kMaxPeerIdBytes, &line);
  line.push_back('\t');
  AppendEscaped(event.fingerprint, kMaxFingerprintBytes, &line);
  line.push_back('\t');
  AppendEscaped(event.details, kMaxDetailsBytes, &line);
  line.push_back('\t');
  line.append(prev_hash).push_back('\t');
  *hash = Sha256Hex(line);
  line.append(*hash).push_back('\n');
  return line;
}

std::string FormatAuditLogHead(const AuditLogHead& head) {
  return std::string(kHeadMagic) + "\t" + std::to_string(head.last_seq) + "\t" + head.last_hash +
         "\n";
}

Expected<AuditLogHead> ParseAuditLogHead(std::string_view text) {
  auto bad = [](std::string what) { return Error{ErrorCode::kAuditLogCorrupt, std::move(what)}; };
  if (text.size() > kMaxHeadFileBytes)
    return bad("too long");
  if (text.empty() || text.back() != '\n')
    return bad("does not end in a line break");
  text.remove_suffix(1);
  const size_t tab1 = text.find('\t');
  if (tab1 == std::string_view::npos || text.substr(0, tab1) != kHeadMagic)
    return bad("does not start with \"" + std::string(kHeadMagic) + "\"");
  const size_t tab2 = text.find('\t', tab1 + 1);
  if (tab2 == std::string_view::npos)
    return bad("has no hash");
  AuditLogHead head;
  if (!ParseDecimal(text.substr(tab1 + 1, tab2 - tab1 - 1), std::numeric_limits<uint64_t>::max(),
                    &head.last_seq)) {
    return bad("seq is not a decimal number");
  }
  const std::string_view hash = text.substr(tab2 + 1);
  if (!IsHashHex(hash))
    return bad("hash is not 64 lower-case hex digits");
  head.last_hash = std::string(hash);
  if (head.last_seq == 0 && head.last_hash != AuditLogGenesisHash())
    return bad("seq 0 must have the genesis hash");
  return head;
}

AuditLog::VerifyReport VerifyAuditLogText(std::string_view text,
                                          const std::optional<AuditLogHead>& head) {
  HeadInput input;
  if (head) {
    input.mode = HeadInput::Mode::kPresent;
    input.head = *head;
  }
  ChainVerifier verifier(std::move(input));
  verifier.Feed(text);
  return verifier.Finish();
}

// static
Expected<AuditLog::VerifyReport> AuditLog::Verify(const std::string& path) {
  HeadInput input;
  auto head = ReadHead(path);
  if (head.ok()) {
    input.mode = head->has_value() ? HeadInput::Mode::kPresent : HeadInput::Mode::kMissing;
    if (head->has_value())
      input.head = **head;
  } else if (head.error().code == ErrorCode::kAuditLogCorrupt) {
    input.mode = HeadInput::Mode::kMalformed;
    input.error = head.error().message;
  } else {
    return head.error();
  }

  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Error{ErrorCode::kPolicyIo, "cannot open audit log " + path + ": " + ErrnoText(errno)};
  }
  ChainVerifier verifier(std::move(input));
  std::vector<char> buffer(64 * 1024);
  while (true) {
    const ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return Error{ErrorCode::kPolicyIo, "cannot read audit log " + path + ": " + ErrnoText(err)};
    }
    if (n == 0)
      break;
    if (!verifier.Feed(std::string_view(buffer.data(), static_cast<size_t>(n))))
      break;
  }
  close(fd);
  return verifier.Finish();
}

AuditLog::AuditLog(std::string path, const WallClock& clock, int fd)
    : path_(std::move(path)), clock_(clock), fd_(fd), last_hash_(AuditLogGenesisHash()) {}

AuditLog::~AuditLog() {
  close(fd_);  // Also releases the flock.
}

// static
Expected<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path,
                                                   const WallClock& clock) {
  if (AuditLogGenesisHash().empty())
    return Error{ErrorCode::kInternal, "SHA-256 is not available (OpenSSL)"};
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return Error{ErrorCode::kPolicyIo, "cannot open audit log " + path + ": " + ErrnoText(errno)};
  // From here on the object owns fd (closing it releases the lock).
  std::unique_ptr<AuditLog> log(new AuditLog(path, clock, fd));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    return Error{ErrorCode::kPolicyIo,
                 "cannot lock audit log " + path +
                     (err == EWOULDBLOCK ? std::string(": in use by another Lifeline process")
                                         : ": " + ErrnoText(err))};
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return Error{ErrorCode::kPolicyIo, "audit log " + path + " is not a regular file"};
  if ((st.st_mode & 077) != 0)
    (void)fchmod(fd, 0600);  // Best effort for a log created by an older version.
  if (Status s = SyncDirectoryOf(path); !s.ok())  // The file may be new.
    return s.error();

  // Fast path: the last line is well formed and the head file agrees with it (or lags it by
  // the one line of an interrupted append).
  auto tail = ReadTail(path, static_cast<uint64_t>(st.st_size));
  if (!tail.ok())
    return tail.error();
  if (tail->has_value()) {
    log->last_seq_ = (*tail)->last_seq;
    log->last_hash_ = (*tail)->last_hash;
    log->head_dirty_ = (*tail)->head_lags;
  } else {
    // Anything else: verify the whole file (we hold the lock, so nobody appends meanwhile).
    auto report = Verify(path);
    if (!report.ok())
      return report.error();
    if (!report->ok()) {
      return Error{ErrorCode::kAuditLogCorrupt,
                   "audit log " + path + ": " + report->reason +
                       "; not appending (see `lifeline audit verify`; the log must be set aside)"};
    }
    log->last_seq_ = report->last_seq;
    log->last_hash_ = report->last_hash;
    log->head_dirty_ = true;
  }
  log->file_size_ = static_cast<uint64_t>(st.st_size);
  if (log->head_dirty_) {
    std::lock_guard lock(log->mutex_);
    if (Status s = log->WriteHeadLocked(); !s.ok())
      return s.error();
  }
  return log;
}

uint64_t AuditLog::last_seq() const {
  std::lock_guard lock(mutex_);
  return last_seq_;
}

Status AuditLog::WriteHeadLocked() {
  Status s = policy_file::WriteFileAtomically(HeadPath(path_),
                                              FormatAuditLogHead({last_seq_, last_hash_}));
  head_dirty_ = !s.ok();
  return s;
}

Status AuditLog::Append(const AuditEvent& event) {
  std::lock_guard lock(mutex_);
  if (broken_) {
    return Status(ErrorCode::kAuditLogCorrupt,
                  "audit log " + path_ + ": an earlier write failed and could not be undone");
  }
  if (head_dirty_) {
    if (Status s = WriteHeadLocked(); !s.ok())
      return s;
  }
  std::string hash;
  const std::string line =
      FormatAuditLogLine(last_seq_ + 1, clock_.NowUnixMs(), event, last_hash_, &hash);
  if (hash.empty())
    return Status(ErrorCode::kInternal, "SHA-256 failed (OpenSSL)");

  Status written = WriteAll(fd_, line);
  if (written.ok() && fdatasync(fd_) != 0)
    written = Status(ErrorCode::kPolicyIo, "fdatasync: " + ErrnoText(errno));
  if (!written.ok()) {
    // Take a partly written line away again, so the file stays a valid chain.
    if (ftruncate(fd_, static_cast<off_t>(file_size_)) != 0)
      broken_ = true;
    return Status(ErrorCode::kPolicyIo,
                  "cannot append to audit log " + path_ + ": " + written.error().message);
  }
  last_seq_ += 1;
  last_hash_ = std::move(hash);
  file_size_ += line.size();
  head_dirty_ = true;
  return WriteHeadLocked();
}

// static
Expected<std::string> AuditLog::SetAsideCorruptLog(const std::string& path,
                                                   std::string_view reason,
                                                   const WallClock& clock) {
  const std::string aside = path + ".corrupt-" + std::to_string(clock.NowUnixMs());
  if (renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, aside.c_str(), RENAME_NOREPLACE) != 0) {
    return Error{ErrorCode::kPolicyIo,
                 "cannot rename audit log " + path + " to " + aside + ": " + ErrnoText(errno)};
  }
  if (renameat2(AT_FDCWD, HeadPath(path).c_str(), AT_FDCWD, HeadPath(aside).c_str(),
                RENAME_NOREPLACE) != 0 &&
      errno != ENOENT) {
    return Error{ErrorCode::kPolicyIo,
                 "cannot rename audit head file " + HeadPath(path) + ": " + ErrnoText(errno)};
  }
  if (Status s = SyncDirectoryOf(path); !s.ok())
    return s.error();
  auto log = Open(path, clock);
  if (!log.ok())
    return log.error();
  AuditEvent event;
  event.type = AuditEventType::kLogSetAside;
  event.details = "previous log set aside as " + aside + ": " + std::string(reason);
  if (Status s = (*log)->Append(event); !s.ok())
    return s.error();
  return aside;
}

namespace policy_file {

bool ParseDecimal(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0'))
    return false;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10)
      return false;
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

Expected<std::optional<std::string>> ReadSmallFile(const std::string& path, size_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return std::optional<std::string>();
    return Error{ErrorCode::kPolicyIo,
                 "cannot read " + path + ": " +
                     (errno == ELOOP ? std::string("is a symbolic link") : ErrnoText(errno))};
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Error{ErrorCode::kPolicyIo, "cannot read " + path + ": not a regular file"};
  }
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > max_bytes) {
    close(fd);
    return Error{ErrorCode::kPolicyIo,
                 "cannot read " + path + ": larger than " + std::to_string(max_bytes) + " bytes"};
  }
  // Read one byte more than allowed, in case the file grew after fstat.
  std::string text(static_cast<size_t>(st.st_size) + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return Error{ErrorCode::kPolicyIo, "cannot read " + path + ": " + ErrnoText(err)};
    }
    if (n == 0)
      break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  if (got > max_bytes) {
    return Error{ErrorCode::kPolicyIo,
                 "cannot read " + path + ": larger than " + std::to_string(max_bytes) + " bytes"};
  }
  text.resize(got);
  return std::optional<std::string>(std::move(text));
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);  // O_EXCL, mode 0600.
  if (fd < 0) {
    return Status(ErrorCode::kPolicyIo,
                  "cannot create a temporary file for " + path + ": " + ErrnoText(errno));
  }
  Status s = WriteAll(fd, contents);
  if (s.ok() && fchmod(fd, 0600) != 0)
    s = Status(ErrorCode::kPolicyIo, "fchmod: " + ErrnoText(errno));
  if (s.ok() && fsync(fd) != 0)
    s = Status(ErrorCode::kPolicyIo, "fsync: " + ErrnoText(errno));
  if (close(fd) != 0 && s.ok())
    s = Status(ErrorCode::kPolicyIo, "close: " + ErrnoText(errno));
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0)
    s = Status(ErrorCode::kPolicyIo, "rename: " + ErrnoText(errno));
  if (!s.ok()) {
    unlink(tmp.c_str());
    return Status(ErrorCode::kPolicyIo, "cannot write " + path + ": " + s.error().message);
  }
  return SyncDirectoryOf(path);
}

}  // namespace policy_file

}  // namespace lifeline
