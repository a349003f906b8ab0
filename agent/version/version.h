// What this binary is: the project version and the source revision it was built from.
// `sixguard --version`, sixguard_build_info{version,revision,kernel} and GET /v1/status all
// read them here, so they cannot disagree.
#pragma once

#include <string>

namespace sixguard {

// The project version (CMake's project(VERSION)), e.g. "0.1.0".
const char *project_version();
// The git commit, 12 hex digits, with "-dirty" when tracked files differed from it at build
// time; SIXGUARD_REVISION when not built from a git checkout; otherwise "unknown".
const char *source_revision();
// One line: "sixguard 0.1.0 (revision 0123456789ab)".
std::string version_line();

}  // namespace sixguard
