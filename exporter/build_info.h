// sixguard_build_info{version,kernel}: what is running where, for dashboards and bug reports.
#pragma once

#include <string>

namespace sixguard::exporter {

struct BuildInfo {
  std::string version;  // the project version this binary was built from
  std::string kernel;   // uname -r of the running kernel

  // This binary's version and the running kernel's release.
  static BuildInfo current();
};

}  // namespace sixguard::exporter
