#include "exporter/exporter.h"

#include <sstream>
#include <utility>

#include <prometheus/text_serializer.h>

namespace sixguard::exporter {

Exporter::Exporter(BuildInfo build)
    : observer_(std::make_unique<MetricsObserver>(registry_)),
      drift_(std::make_unique<DriftMetrics>(registry_)),
      collector_(std::make_shared<DatapathCollector>(std::move(build), readiness_)) {}

void Exporter::set_counter_source(std::shared_ptr<CounterSource> source) {
  collector_->set_counter_source(std::move(source));
}

void Exporter::set_map_stats_source(std::shared_ptr<MapStatsSource> source) {
  collector_->set_map_stats_source(std::move(source));
}

void Exporter::set_attachment_source(std::shared_ptr<AttachmentSource> source) {
  collector_->set_attachment_source(std::move(source));
}

void Exporter::add_collectable(std::shared_ptr<prometheus::Collectable> collectable) {
  collectables_.push_back(std::move(collectable));
}

std::string Exporter::scrape() const {
  auto families = collector_->Collect();
  for (const auto &collectable : collectables_) {
    auto more = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  auto control = registry_.Collect();
  families.insert(families.end(), std::make_move_iterator(control.begin()),
                  std::make_move_iterator(control.end()));
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, families);
  return text.str();
}

HttpReply Exporter::handle(std::string_view method, std::string_view target) const {
  const std::string_view path = target.substr(0, target.find('?'));
  const bool known = path == "/metrics" || path == "/healthz" || path == "/readyz";
  if (!known) return {404, "text/plain; charset=utf-8", "not found\n"};
  if (method != "GET" && method != "HEAD") {
    return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  }
  if (path == "/metrics") return {200, std::string(kPrometheusTextContentType), scrape()};
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  const Readiness::State state = readiness_.get();
  if (state.ready) return {200, "text/plain; charset=utf-8", "ready\n"};
  return {503, "text/plain; charset=utf-8", "not ready: " + state.reason + "\n"};
}

}  // namespace sixguard::exporter
