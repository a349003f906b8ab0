#include "tests/exporter/exposition.h"

#include <sstream>
#include <stdexcept>

namespace sixguard::exporter::test {

namespace {

// Parses `a="x",b="y"}` starting after '{'; returns the position after '}'.
std::size_t parse_labels(const std::string &line, std::size_t pos,
                         std::map<std::string, std::string> &labels) {
  while (pos < line.size() && line[pos] != '}') {
    const std::size_t equals = line.find('=', pos);
    if (equals == std::string::npos || equals + 1 >= line.size() || line[equals + 1] != '"') {
      throw std::runtime_error("bad label in: " + line);
    }
    std::string name = line.substr(pos, equals - pos);
    std::string value;
    std::size_t cursor = equals + 2;
    for (; cursor < line.size() && line[cursor] != '"'; ++cursor) {
      if (line[cursor] == '\\' && cursor + 1 < line.size()) ++cursor;
      value.push_back(line[cursor]);
    }
    if (cursor >= line.size()) throw std::runtime_error("unterminated label in: " + line);
    labels[name] = value;
    pos = cursor + 1;
    if (pos < line.size() && line[pos] == ',') ++pos;
  }
  if (pos >= line.size()) throw std::runtime_error("unterminated labels in: " + line);
  return pos + 1;
}

}  // namespace

std::vector<Sample> parse_exposition(const std::string &text) {
  std::vector<Sample> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    std::size_t pos = line.find_first_of("{ ");
    if (pos == std::string::npos) throw std::runtime_error("no value in: " + line);
    sample.name = line.substr(0, pos);
    if (line[pos] == '{') pos = parse_labels(line, pos + 1, sample.labels);
    const std::string value = line.substr(pos);
    sample.value = std::stod(value);  // a trailing timestamp is not produced by the exporter
    samples.push_back(std::move(sample));
  }
  return samples;
}

std::optional<double> find_sample(const std::vector<Sample> &samples, const std::string &name,
                                  const std::map<std::string, std::string> &labels) {
  std::optional<double> found;
  for (const Sample &sample : samples) {
    if (sample.name != name || sample.labels != labels) continue;
    if (found) throw std::runtime_error("duplicate series " + name);
    found = sample.value;
  }
  return found;
}

std::size_t count_samples(const std::vector<Sample> &samples, const std::string &name) {
  std::size_t count = 0;
  for (const Sample &sample : samples) count += sample.name == name;
  return count;
}

}  // namespace sixguard::exporter::test
