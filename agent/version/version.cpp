#include "agent/version/version.h"

namespace sixguard {

#ifndef SIXGUARD_VERSION
#error "SIXGUARD_VERSION is set by agent/version/CMakeLists.txt from the project version"
#endif

const char *project_version() {
  return SIXGUARD_VERSION;
}

std::string version_line() {
  return std::string("sixguard ") + project_version() + " (revision " + source_revision() + ")";
}

}  // namespace sixguard
