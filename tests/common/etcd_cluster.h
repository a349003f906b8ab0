// Real etcd for tests: Debian's `etcd` binary (package etcd-server) started by the test on
// free loopback ports, each member with its own data directory under a temporary directory,
// stopped by PID (never by name) and the directory removed when the fixture goes. Optional
// TLS: a test CA, member and client certificates made with `openssl` in the temporary
// directory, members requiring a client certificate signed by that CA.
//
//   auto cluster = sixguard::test::EtcdCluster::start({.members = 3});
//   if (!cluster) GTEST_SKIP() << cluster.error().message;   // see etcd_unavailable_reason()
//   cluster->client_urls();          // "http://127.0.0.1:P1,http://127.0.0.1:P2,..."
//   cluster->kill_member(0);         // SIGKILL; restart_member(0) brings it back (same data)
//   cluster->pause_member(1);        // SIGSTOP (resume_member: SIGCONT)
//
// start() returns once every member answers a range through the JSON gateway (evidence, not
// a sleep), or an error with the member's log tail after `ready_timeout`.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "tests/common/kernel_test.h"

namespace sixguard::test {

// nullopt when the etcd binary is installed; else why not (tests skip, or fail under
// SIXGUARD_REQUIRE_KERNEL_TESTS=1 like every environment-dependent test).
std::optional<std::string> etcd_unavailable_reason();

struct EtcdOptions {
  int members = 1;
  bool tls = false;  // https client URLs, client certificates required
  std::chrono::milliseconds ready_timeout{30000};
  // Extra etcd flags for every member, e.g. "--experimental-watch-progress-notify-interval=1s".
  std::vector<std::string> extra_flags = {};
};

// The PEM files of a TLS cluster (under the fixture's directory).
struct EtcdTlsFiles {
  std::string ca;           // the test CA's certificate
  std::string client_cert;  // signed by the CA
  std::string client_key;
  std::string wrong_cert;  // a client certificate from another CA: must be refused
  std::string wrong_key;
};

class EtcdCluster {
 public:
  static Result<std::unique_ptr<EtcdCluster>> start(EtcdOptions options = {});
  ~EtcdCluster();  // SIGKILLs every member it started, waits for them, removes the directory
  EtcdCluster(const EtcdCluster &) = delete;
  EtcdCluster &operator=(const EtcdCluster &) = delete;

  std::string client_urls() const;  // comma-separated, every member
  std::string client_url(int member) const;
  std::vector<std::string> client_url_list() const;
  const EtcdTlsFiles &tls_files() const { return tls_; }  // empty unless options.tls
  const std::string &directory() const { return dir_; }
  int size() const { return static_cast<int>(members_.size()); }

  Status kill_member(int member);     // SIGKILL and reap
  Status restart_member(int member);  // start again with its data; waits until it answers
  Status pause_member(int member);    // SIGSTOP
  Status resume_member(int member);   // SIGCONT
  pid_t pid(int member) const;
  std::string log_tail(int member, std::size_t bytes = 4000) const;

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    std::string data_dir;
    std::string log_file;
    pid_t pid = -1;
  };
  EtcdCluster() = default;
  Status make_certificates();
  Status spawn(int member, bool new_cluster);
  Status wait_ready(int member, std::chrono::milliseconds timeout);
  std::string initial_cluster() const;

  EtcdOptions options_;
  std::string dir_;
  EtcdTlsFiles tls_;
  std::vector<Member> members_;
};

}  // namespace sixguard::test

// Skips the test when etcd is not installed; fails instead under
// SIXGUARD_REQUIRE_KERNEL_TESTS=1 (CI), where a silent skip would hide a missing dependency.
#define SG_REQUIRE_ETCD() SG_TEST_REQUIRE_(::sixguard::test::etcd_unavailable_reason())
