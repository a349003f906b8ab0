#include "exporter/build_info.h"

#include <sys/utsname.h>

#include "agent/version/version.h"

namespace sixguard::exporter {

BuildInfo BuildInfo::current() {
  BuildInfo info{project_version(), "unknown", source_revision()};
  struct utsname names {};
  if (::uname(&names) == 0) info.kernel = names.release;
  return info;
}

}  // namespace sixguard::exporter
