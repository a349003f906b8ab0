# Objects of the benchmark groups of scripts/bench/ (owner: benchmarks). Included from
# bpf/CMakeLists.txt.
# The live benchmark's traffic generator: an XDP program that redirects every live frame of a
# BPF_PROG_TEST_RUN into a veth (tests/bench/live_bench.cpp).
bpf_object(bench_live bench_live.bpf.c)
