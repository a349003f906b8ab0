#include "exporter/registered_metrics.h"

namespace sixguard::exporter {

prometheus::Family<prometheus::Counter> &counter_family(prometheus::Registry &registry,
                                                        const std::string &name,
                                                        const std::string &help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Counter &unlabelled_counter(prometheus::Registry &registry, const std::string &name,
                                        const std::string &help) {
  return counter_family(registry, name, help).Add({});
}

prometheus::Gauge &unlabelled_gauge(prometheus::Registry &registry, const std::string &name,
                                    const std::string &help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Histogram &unlabelled_histogram(
    prometheus::Registry &registry, const std::string &name, const std::string &help,
    const prometheus::Histogram::BucketBoundaries &buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add({}, buckets);
}

}  // namespace sixguard::exporter
