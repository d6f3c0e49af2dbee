// IdStore: the relay's table "device key fingerprint -> stable 9-digit ID" (security.md
// §2.8). The SQLite implementation is the default (one file, WAL); a shared store can
// replace it behind this interface when one relay is not enough.
//
// Threading: an IdStore is used by one thread at a time (the relay's I/O thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace lifeline {

struct IdRecord {
  std::string id;                 // 9 digits, never starting with 0.
  uint64_t issued_at_unix_s = 0;  // When this fingerprint first registered.
};

class IdStore {
 public:
  virtual ~IdStore() = default;
  // The record for `fingerprint`, created (random, unused ID) on first sight.
  // Error kRelayRegistrationFailed when the store cannot be read or written.
  virtual Expected<IdRecord> LookupOrCreate(const std::string& fingerprint,
                                            uint64_t now_unix_s) = 0;
  // Number of bindings (for metrics).
  virtual Expected<uint64_t> Count() = 0;
};

// Opens (creating if needed) the SQLite database at `path` (":memory:" for tests).
// Error kFileIo naming the file.
Expected<std::unique_ptr<IdStore>> OpenSqliteIdStore(const std::string& path);

// A random 9-digit ID from the CSPRNG (100000000..999999999).
std::string RandomRelayId();

}  // namespace lifeline
