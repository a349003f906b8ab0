#include "tests/bpf/host_fixture.h"

#include <memory>

namespace sixguard::bpftest {

Result<Host *> shared_host() {
  // Destroyed at exit, which deletes the namespace and unloads the programs.
  static Result<std::unique_ptr<Host>> host = Host::create();
  if (!host) return host.error();
  return host->get();
}

}  // namespace sixguard::bpftest
