#include "build_info.h"

#include <sys/utsname.h>

namespace sixguard::exporter {

#ifndef SIXGUARD_VERSION
#error "SIXGUARD_VERSION is set by exporter/CMakeLists.txt from the project version"
#endif

BuildInfo BuildInfo::current() {
  BuildInfo info{SIXGUARD_VERSION, "unknown"};
  struct utsname names {};
  if (::uname(&names) == 0) info.kernel = names.release;
  return info;
}

}  // namespace sixguard::exporter
