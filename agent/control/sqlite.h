// A small RAII layer over libsqlite3: a move-only connection and prepared statement, errors
// as Result with SQLite's message and, as Error::code, the errno that SQLite's result code
// means (errno_of), so that callers can tell a full disk from a corrupt file.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "agent/core/result.h"

namespace sixguard::sqlite {

class Statement;

// SQLITE_FULL: ENOSPC; SQLITE_IOERR*: the OS errno behind it (else EIO); SQLITE_CORRUPT and
// SQLITE_NOTADB: EUCLEAN; SQLITE_READONLY: EROFS; SQLITE_BUSY/LOCKED: EBUSY; others 0.
int errno_of(sqlite3 *db, int rc);

class Database {
 public:
  static Result<Database> open(const std::string &path);

  Status exec(const std::string &sql);  // one or more statements, no results
  Result<Statement> prepare(std::string_view sql);
  // Runs the query, calling on_row(statement) at each row (it reads the columns), until the
  // rows end or on_row fails.
  template <typename OnRow>
  Status each_row(std::string_view sql, OnRow on_row);
  Error error(std::string_view what) const;  // what + SQLite's last message

  // Commits on commit(); rolls back when destroyed uncommitted (an error path).
  class Transaction {
   public:
    explicit Transaction(Database &db) : db_(&db) {}
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;
    ~Transaction();
    Status commit();

   private:
    Database *db_;
    bool done_ = false;
  };
  Result<std::unique_ptr<Transaction>> begin();

  sqlite3 *handle() const { return db_.get(); }

 private:
  struct Close {
    void operator()(sqlite3 *db) const { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Close> db_;
};

class Statement {
 public:
  Statement(sqlite3 *db, sqlite3_stmt *stmt) : db_(db), stmt_(stmt) {}

  Statement &bind(int index, int64_t value);
  Statement &bind(int index, std::string_view value);
  // SQLITE_ROW: true, SQLITE_DONE: false, anything else an error.
  Result<bool> step();
  Status run();  // step to completion, then reset for reuse
  void reset();
  // Binds the values to ?1, ?2, ... in order, then run(): one call per written row.
  template <typename... Values>
  Status run_with(const Values &...values) {
    int index = 0;
    (bind(++index, values), ...);
    return run();
  }

  int64_t integer(int column) const;
  std::string text(int column) const;

 private:
  struct Finalize {
    void operator()(sqlite3_stmt *stmt) const { sqlite3_finalize(stmt); }
  };
  sqlite3 *db_;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
  int bind_status_ = SQLITE_OK;
};

template <typename OnRow>
Status Database::each_row(std::string_view sql, OnRow on_row) {
  auto statement = prepare(sql);
  if (!statement) return statement.error();
  for (;;) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!*row) return {};
    if (auto status = on_row(std::as_const(*statement)); !status) return status;
  }
}

}  // namespace sixguard::sqlite
