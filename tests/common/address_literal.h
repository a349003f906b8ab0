// A test's literal addresses and prefixes: parsed at once, and a typo aborts (a bug in the test,
// not a result to check). Header-only, so that any test target can use it.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "agent/core/address.h"
#include "agent/core/result.h"

namespace sixguard::test {

template <typename T>
T parsed_or_abort(Result<T> parsed, const char *what, const char *text) {
  if (!parsed) {
    std::fprintf(stderr, "test %s %s: %s\n", what, text, parsed.error().describe().c_str());
    std::abort();
  }
  return std::move(*parsed);
}

inline Ipv6 addr(const char *text) {
  return parsed_or_abort(parse_ipv6(text), "address", text);
}

inline Ipv6Prefix prefix(const char *text) {
  return parsed_or_abort(parse_ipv6_prefix(text), "prefix", text);
}

}  // namespace sixguard::test
