// A small reader of the Prometheus text format, enough for tests to look series up by name
// and labels: `name{a="x",b="y"} value` lines; comments skipped.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sixguard::exporter::test {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> parse_exposition(const std::string &text);

// The value of the one sample with this name and exactly these labels.
std::optional<double> find_sample(const std::vector<Sample> &samples, const std::string &name,
                                  const std::map<std::string, std::string> &labels);

std::size_t count_samples(const std::vector<Sample> &samples, const std::string &name);

}  // namespace sixguard::exporter::test
