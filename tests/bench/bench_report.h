// How a benchmark's run() ends, shared by the benchmarks of tests/bench: its JSON document
// written for scripts/bench.sh, or, when it cannot run, one line on stderr naming the
// benchmark and what failed, and the exit status scripts/bench.sh reads (2: a usage error,
// 1: anything else).
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace sixguard::bench {

inline constexpr int kCannotRun = 1;
inline constexpr int kUsageError = 2;

// "BENCH: WHAT: error" (or "BENCH: error" without WHAT) on stderr; returns `status`, so that
// `return cannot_run(...)` ends run().
inline int cannot_run(std::string_view bench, const Error &error, std::string_view what = {},
                      int status = kCannotRun) {
  std::cerr << bench << ": ";
  if (!what.empty()) std::cerr << what << ": ";
  std::cerr << error.describe() << "\n";
  return status;
}

// The arguments could not be parsed.
inline int usage_error(std::string_view bench, const Error &error) {
  return cannot_run(bench, error, {}, kUsageError);
}

// Writes document, indented, to path.
inline Status write_json(const nlohmann::json &document, const std::string &path) {
  std::ofstream out(path);
  out << document.dump(2) << "\n";
  if (!out) return make_error("cannot write " + path);
  return {};
}

}  // namespace sixguard::bench
