#include "exporter/labels.h"

#include <algorithm>

namespace sixguard::exporter {

namespace {
template <std::size_t N>
std::string_view find_or(const std::array<std::string_view, N> &known, std::string_view value,
                         std::string_view fallback) {
  auto it = std::find(known.begin(), known.end(), value);
  return it == known.end() ? fallback : *it;
}
}  // namespace

std::string_view bounded_event_type(std::string_view type) {
  return find_or(kEventTypes, type, kUnknownEventType);
}

std::string_view bounded_event_result(std::string_view result) {
  return find_or(kEventResults, result, kOtherEventResult);
}

}  // namespace sixguard::exporter
