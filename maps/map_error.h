// How every map operation reports failure: "<map>: <operation>" plus the errno, so that
// Error::describe() reads "sg_flycast: update: No space left on device".
#pragma once

#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace sixguard::maps {

inline Error map_error(std::string_view map, std::string_view operation, int code) {
  return make_error(std::string(map) + ": " + std::string(operation), code < 0 ? -code : code);
}

}  // namespace sixguard::maps
