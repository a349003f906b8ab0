// One BPF_PROG_TEST_RUN set up with the context the hook sees (XDP: the ingress device; TC: the
// skb's device and cb), then run as often as wanted. Shared by the bpf tests' harness and the
// per-packet benchmarks, so that a benchmark measures the very call the tests check.
#pragma once

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/result.h"

namespace sixguard::bpftest {

// What one BPF_PROG_TEST_RUN returned.
struct RunResult {
  uint32_t retval = 0;
  uint32_t duration_ns = 0;  // average per repetition, as the kernel reports it
};

enum class HookType { kXdp, kTc };

class TestRun {
 public:
  // XDP: ingress_ifindex = ifindex; 0 passes no context (the kernel's loopback default).
  // TC: the skb's device is ifindex (0: loopback), and cb[0..1] come from cb when given.
  // The packet must outlive this object: the options point into it.
  TestRun(HookType type, const std::vector<uint8_t> &packet, uint32_t ifindex, uint32_t repeat = 1,
          std::optional<std::array<uint32_t, 2>> cb = std::nullopt) {
    opts_.sz = sizeof(opts_);  // libbpf's opts versioning, as LIBBPF_OPTS sets it
    opts_.data_in = packet.data();
    opts_.data_size_in = static_cast<uint32_t>(packet.size());
    opts_.repeat = repeat;
    if (type == HookType::kXdp) {
      if (ifindex != 0) {
        xdp_ctx_.data_end = static_cast<uint32_t>(packet.size());
        xdp_ctx_.ingress_ifindex = ifindex;
        opts_.ctx_in = &xdp_ctx_;
        opts_.ctx_size_in = sizeof(xdp_ctx_);
      }
    } else {
      skb_ctx_.ifindex = ifindex;
      if (cb) {
        skb_ctx_.cb[0] = (*cb)[0];
        skb_ctx_.cb[1] = (*cb)[1];
      }
      opts_.ctx_in = &skb_ctx_;
      opts_.ctx_size_in = sizeof(skb_ctx_);
    }
  }
  TestRun(const TestRun &) = delete;
  TestRun &operator=(const TestRun &) = delete;

  // Runs the program; an error (errno code) when the kernel refuses the run.
  Result<RunResult> run(int prog_fd) {
    if (int err = bpf_prog_test_run_opts(prog_fd, &opts_); err != 0) {
      return make_error("BPF_PROG_TEST_RUN", err < 0 ? -err : err);
    }
    return RunResult{opts_.retval, opts_.duration};
  }

  // Runs the program; also an error when it returns anything but `expected`.
  Status run_expecting(int prog_fd, uint32_t expected) {
    auto result = run(prog_fd);
    if (!result) return result.error();
    if (result->retval != expected) {
      return make_error("returned " + std::to_string(static_cast<int32_t>(result->retval)) +
                        ", expected " + std::to_string(static_cast<int32_t>(expected)));
    }
    return {};
  }

  // The kernel's own ns per repetition of the last run.
  uint32_t kernel_duration() const { return opts_.duration; }

 private:
  bpf_test_run_opts opts_{};
  xdp_md xdp_ctx_{};
  __sk_buff skb_ctx_{};
};

}  // namespace sixguard::bpftest
