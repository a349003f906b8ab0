// One BPF_PROG_TEST_RUN set-up with the context a hook sees (XDP: ingress_ifindex; TC: the
// skb's ifindex), shared by the per-packet benchmarks so each measures the same call.
#pragma once

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/result.h"

namespace sixguard::bench {

class HookTestRun {
 public:
  // The packet must outlive this object; opts point into it and into the contexts below.
  HookTestRun(bool xdp, const std::vector<uint8_t> &packet, uint32_t ifindex, uint32_t repeat) {
    opts_.sz = sizeof(opts_);  // libbpf's opts versioning, as LIBBPF_OPTS sets it
    opts_.data_in = packet.data();
    opts_.data_size_in = static_cast<uint32_t>(packet.size());
    opts_.repeat = repeat;
    if (xdp) {
      xdp_ctx_.data_end = static_cast<uint32_t>(packet.size());
      xdp_ctx_.ingress_ifindex = ifindex;
      opts_.ctx_in = &xdp_ctx_;
      opts_.ctx_size_in = sizeof(xdp_ctx_);
    } else {
      skb_ctx_.ifindex = ifindex;
      opts_.ctx_in = &skb_ctx_;
      opts_.ctx_size_in = sizeof(skb_ctx_);
    }
  }
  HookTestRun(const HookTestRun &) = delete;
  HookTestRun &operator=(const HookTestRun &) = delete;

  // Runs the program; an error when the kernel refuses or the return code is not `expected`.
  Status run(int prog_fd, uint32_t expected) {
    if (int err = bpf_prog_test_run_opts(prog_fd, &opts_); err != 0) {
      return make_error("BPF_PROG_TEST_RUN", -err);
    }
    if (opts_.retval != expected) {
      return make_error("returned " + std::to_string(static_cast<int32_t>(opts_.retval)) +
                        ", expected " + std::to_string(static_cast<int32_t>(expected)));
    }
    return {};
  }
  // The kernel's own ns per run of the last run().
  uint32_t kernel_duration() const { return opts_.duration; }

 private:
  bpf_test_run_opts opts_{};
  xdp_md xdp_ctx_{};
  __sk_buff skb_ctx_{};
};

}  // namespace sixguard::bench
