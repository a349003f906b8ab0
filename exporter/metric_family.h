// Scrape-time metric families (the collectors build them afresh at every scrape, STYLE "pull
// metrics"): the one way the collectors spell a family, a label and a sample.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

namespace sixguard::exporter {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type);
prometheus::ClientMetric::Label label(std::string_view name, std::string_view value);
prometheus::ClientMetric counter(std::vector<prometheus::ClientMetric::Label> labels, double value);
prometheus::ClientMetric gauge(std::vector<prometheus::ClientMetric::Label> labels, double value);

// A family of one unlabelled sample; type is Counter or Gauge.
prometheus::MetricFamily single_sample(std::string name, std::string help,
                                       prometheus::MetricType type, double value);

}  // namespace sixguard::exporter
