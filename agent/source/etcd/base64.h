// Standard base64 (RFC 4648, with padding), as etcd's JSON gateway encodes bytes fields.
#pragma once

#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace sixguard::etcd {

std::string base64_encode(std::string_view bytes);
// Strict: only the standard alphabet, length a multiple of 4, padding only at the end.
Result<std::string> base64_decode(std::string_view text);

}  // namespace sixguard::etcd
