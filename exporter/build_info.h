// sixguard_build_info{version,revision,kernel}: what is running where, for dashboards and bug
// reports.
#pragma once

#include <string>

namespace sixguard::exporter {

struct BuildInfo {
  std::string version;  // the project version this binary was built from
  std::string kernel;   // uname -r of the running kernel
  // The source revision (agent/version/version.h); last so that tests can leave it out.
  std::string revision = "unknown";

  // This binary's version and revision and the running kernel's release.
  static BuildInfo current();
};

}  // namespace sixguard::exporter
