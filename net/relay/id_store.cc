#include "net/relay/id_store.h"

#include <openssl/rand.h>
#include <sqlite3.h>

namespace lifeline {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

class SqliteIdStore final : public IdStore {
 public:
  SqliteIdStore(std::unique_ptr<sqlite3, DbCloser> db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}

  Status Prepare() {
    if (!Prep("SELECT id, issued_at FROM bindings WHERE fingerprint = ?1", &select_) ||
        !Prep("INSERT INTO bindings (fingerprint, id, issued_at) VALUES (?1, ?2, ?3)", &insert_) ||
        !Prep("SELECT COUNT(*) FROM bindings", &count_))
      return Failure("prepare");
    return {};
  }

  Expected<IdRecord> LookupOrCreate(const std::string& fingerprint, uint64_t now_unix_s) override {
    sqlite3_reset(select_.get());
    sqlite3_bind_text(select_.get(), 1, fingerprint.data(), static_cast<int>(fingerprint.size()),
                      SQLITE_TRANSIENT);
    int rc = sqlite3_step(select_.get());
    if (rc == SQLITE_ROW) {
      IdRecord record;
      record.id = reinterpret_cast<const char*>(sqlite3_column_text(select_.get(), 0));
      record.issued_at_unix_s = static_cast<uint64_t>(sqlite3_column_int64(select_.get(), 1));
      sqlite3_reset(select_.get());
      return record;
    }
    sqlite3_reset(select_.get());
    if (rc != SQLITE_DONE)
      return Failure("look up");
    // A new device: a random unused ID (a collision just tries again).
    for (int attempt = 0; attempt < 20; ++attempt) {
      IdRecord record{RandomRelayId(), now_unix_s};
      sqlite3_reset(insert_.get());
      sqlite3_bind_text(insert_.get(), 1, fingerprint.data(), static_cast<int>(fingerprint.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_text(insert_.get(), 2, record.id.data(), static_cast<int>(record.id.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_int64(insert_.get(), 3, static_cast<sqlite3_int64>(now_unix_s));
      rc = sqlite3_step(insert_.get());
      sqlite3_reset(insert_.get());
      if (rc == SQLITE_DONE)
        return record;
      if (rc != SQLITE_CONSTRAINT)
        return Failure("store a new ID in");
    }
    return Error{ErrorCode::kRelayRegistrationFailed, "no free ID found in " + path_};
  }

  Expected<uint64_t> Count() override {
    sqlite3_reset(count_.get());
    if (sqlite3_step(count_.get()) != SQLITE_ROW)
      return Failure("count");
    const auto n = static_cast<uint64_t>(sqlite3_column_int64(count_.get(), 0));
    sqlite3_reset(count_.get());
    return n;
  }

 private:
  bool Prep(const char* sql, StmtPtr* out) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql, -1, &stmt, nullptr) != SQLITE_OK)
      return false;
    out->reset(stmt);
    return true;
  }
  Error Failure(const char* what) {
    return Error{ErrorCode::kRelayRegistrationFailed, std::string("cannot ") + what +
                                                          " the ID database " + path_ + ": " +
                                                          sqlite3_errmsg(db_.get())};
  }

  std::unique_ptr<sqlite3, DbCloser> db_;
  std::string path_;
  StmtPtr select_, insert_, count_;
};

}  // namespace

std::string RandomRelayId() {
  uint64_t random = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&random), sizeof(random));
  return std::to_string(100000000 + random % 900000000);
}

Expected<std::unique_ptr<IdStore>> OpenSqliteIdStore(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, DbCloser> db(raw);
  if (rc != SQLITE_OK) {
    return Error{ErrorCode::kFileIo, "cannot open the ID database " + path + ": " +
                                         (raw ? sqlite3_errmsg(raw) : "out of memory")};
  }
  char* message = nullptr;
  const char* kSchema =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
      "CREATE TABLE IF NOT EXISTS bindings (fingerprint TEXT PRIMARY KEY, "
      "id TEXT NOT NULL UNIQUE, issued_at INTEGER NOT NULL);";
  if (sqlite3_exec(db.get(), kSchema, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return Error{ErrorCode::kFileIo, "cannot set up the ID database " + path + ": " + text};
  }
  auto store = std::make_unique<SqliteIdStore>(std::move(db), path);
  if (Status st = store->Prepare(); !st.ok())
    return Error{ErrorCode::kFileIo, st.error().message};
  return std::unique_ptr<IdStore>(std::move(store));
}

}  // namespace lifeline
