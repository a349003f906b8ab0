#include "exporter/metric_family.h"

#include <utility>

namespace sixguard::exporter {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily result;
  result.name = std::move(name);
  result.help = std::move(help);
  result.type = type;
  return result;
}

ClientMetric::Label label(std::string_view name, std::string_view value) {
  return ClientMetric::Label{std::string(name), std::string(value)};
}

ClientMetric counter(std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = value;
  return metric;
}

ClientMetric gauge(std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  return metric;
}

MetricFamily single_sample(std::string name, std::string help, MetricType type, double value) {
  MetricFamily result = family(std::move(name), std::move(help), type);
  result.metric.push_back(type == MetricType::Counter ? counter({}, value) : gauge({}, value));
  return result;
}

}  // namespace sixguard::exporter
