// Metrics registered once at start-up and updated as things happen (the observers'
// counters and gauges): the one way they are built, so every family has a name and a help
// and an unlabelled metric is its family's one series, present at 0 from the start.
#pragma once

#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace sixguard::exporter {

// A family whose series are added by label (Family::Add).
prometheus::Family<prometheus::Counter> &counter_family(prometheus::Registry &registry,
                                                        const std::string &name,
                                                        const std::string &help);

// The one series of an unlabelled family.
prometheus::Counter &unlabelled_counter(prometheus::Registry &registry, const std::string &name,
                                        const std::string &help);
prometheus::Gauge &unlabelled_gauge(prometheus::Registry &registry, const std::string &name,
                                    const std::string &help);
prometheus::Histogram &unlabelled_histogram(prometheus::Registry &registry, const std::string &name,
                                            const std::string &help,
                                            const prometheus::Histogram::BucketBoundaries &buckets);

}  // namespace sixguard::exporter
