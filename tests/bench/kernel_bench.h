// The opening of a benchmark that needs the kernel (live_bench, scale_bench): its options
// parsed, libbpf quiet, and root, bpffs and bpf() available (tests/common/kernel_test.h).
#pragma once

#include <bpf/libbpf.h>

#include <optional>
#include <string_view>

#include "agent/core/result.h"
#include "tests/bench/bench_report.h"
#include "tests/common/kernel_test.h"

namespace sixguard::bench {

// The exit status when the benchmark cannot start (a usage error, or no kernel to run on),
// after saying why on stderr; nothing when it can, with libbpf quiet from then on.
template <typename Options>
std::optional<int> cannot_start(std::string_view bench, const Result<Options> &options) {
  if (!options) return usage_error(bench, options.error());
  libbpf_set_print(nullptr);
  if (auto reason = test::kernel_unavailable_reason()) {
    return cannot_run(bench, make_error(*reason));
  }
  return std::nullopt;
}

}  // namespace sixguard::bench
