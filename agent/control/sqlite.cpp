#include "agent/control/sqlite.h"

#include <cerrno>

namespace sixguard::sqlite {

int errno_of(sqlite3 *db, int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return ENOSPC;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: {
      const int system = db ? sqlite3_system_errno(db) : 0;
      return system != 0 ? system : ((rc & 0xff) == SQLITE_IOERR ? EIO : ENOENT);
    }
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return EUCLEAN;
    case SQLITE_READONLY:
      return EROFS;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return EBUSY;
    case SQLITE_NOMEM:
      return ENOMEM;
    default:
      return 0;
  }
}

Result<Database> Database::open(const std::string &path) {
  sqlite3 *raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Database db;
  db.db_.reset(raw);
  if (rc != SQLITE_OK) {
    return make_error(
        "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)),
        errno_of(raw, rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

Error Database::error(std::string_view what) const {
  return make_error(std::string(what) + ": " + sqlite3_errmsg(db_.get()),
                    errno_of(db_.get(), sqlite3_extended_errcode(db_.get())));
}

Status Database::exec(const std::string &sql) {
  char *message = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return make_error("sqlite: " + text + " in: " + sql, errno_of(db_.get(), rc));
  }
  return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt *stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return error("sqlite prepare '" + std::string(sql) + "'");
  }
  return Statement(db_.get(), stmt);
}

Result<std::unique_ptr<Database::Transaction>> Database::begin() {
  if (auto status = exec("BEGIN IMMEDIATE"); !status) return status.error();
  return std::make_unique<Transaction>(*this);
}

Database::Transaction::~Transaction() {
  if (!done_) (void)db_->exec("ROLLBACK");
}

Status Database::Transaction::commit() {
  done_ = true;
  if (auto status = db_->exec("COMMIT"); !status) {
    (void)db_->exec("ROLLBACK");
    return status;
  }
  return {};
}

Statement &Statement::bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_.get(), index, value);
  if (rc != SQLITE_OK) bind_status_ = rc;
  return *this;
}

Statement &Statement::bind(int index, std::string_view value) {
  const int rc = sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                                   SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_status_ = rc;
  return *this;
}

Result<bool> Statement::step() {
  if (bind_status_ != SQLITE_OK) {
    return make_error(std::string("sqlite bind: ") + sqlite3_errstr(bind_status_));
  }
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return make_error(
      std::string("sqlite step '") + sqlite3_sql(stmt_.get()) + "': " + sqlite3_errmsg(db_),
      errno_of(db_, rc));
}

Status Statement::run() {
  Result<bool> row = false;
  do {
    row = step();
  } while (row && *row);
  reset();
  if (!row) return row.error();
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_status_ = SQLITE_OK;
}

int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}

std::string Statement::text(int column) const {
  const auto *text = sqlite3_column_text(stmt_.get(), column);
  return text ? std::string(reinterpret_cast<const char *>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)))
              : std::string();
}

}  // namespace sixguard::sqlite
