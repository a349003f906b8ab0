# The benchmark groups of scripts/bench/ (owner: benchmarks): live packet rate, scale, control
# plane. Included from tests/bench/CMakeLists.txt. Benchmarks, not ctest tests: they never fail
# on timing.

# live_bench: packets per second through sixguard's machine_egress XDP on a veth, fed by a
# BPF_PROG_TEST_RUN live-frames generator (bpf/bench_live.bpf.c), beside XDP_DROP, nftables
# and TC in the same run.
add_executable(live_bench live_bench.cpp live_filters.cpp live_system.cpp)
target_link_libraries(live_bench PRIVATE sixguard_datapath sixguard_test_common bench_baseline_skel
                                         bench_live_skel nlohmann_json::nlohmann_json)

# scale_bench: ns/packet of the flycast and cross-network paths with 1 .. 1M Flycast entries,
# 10k networks and 1k machines in the maps, and the maps' memory per entry.
add_executable(scale_bench scale_bench.cpp live_system.cpp)
target_link_libraries(scale_bench PRIVATE sixguard_bpf_harness bench_baseline_skel
                                          nlohmann_json::nlohmann_json)

# control_bench: events/s and latency through the agent's API, the agent's RSS, and the
# helpers of the restart benchmark (readiness wait, UDP traffic between test namespaces).
add_executable(control_bench control_bench.cpp control_events.cpp control_http.cpp)
target_link_libraries(control_bench PRIVATE sixguard_core sixguard_datapath PkgConfig::LIBBPF
                                            nlohmann_json::nlohmann_json)

# drift_bench: the drift checker (DESIGN §5) at 256k machines and 1M Flycast addresses on the
# real pinned maps and control plane: check time, longest lock hold, detect-and-repair time.
add_executable(drift_bench drift_bench.cpp)
target_link_libraries(drift_bench PRIVATE sixguard_daemon nlohmann_json::nlohmann_json)
