#include "agent/api/state_views.h"

#include <cstdio>
#include <map>

namespace sixguard {

std::string app_public_id(uint32_t app_id) {
  char text[16];
  std::snprintf(text, sizeof(text), "%08x", app_id);
  return text;
}

nlohmann::json apps_json(const ControlPlane &control, const std::optional<std::string> &org) {
  nlohmann::json apps = nlohmann::json::array();
  control.read_state([&](const State &state) {
    for (const auto &[name, app] : state.apps()) {
      if (app.destroyed || (org && app.org != *org)) continue;
      const NetworkRecord *network = state.network_by_id(app.network_id);
      apps.push_back({{"id", app_public_id(app.app_id)},
                      {"name", name},
                      {"machine_count", state.machines_of_app(name).size()},
                      {"network", network ? network->name : std::string()},
                      {"org", app.org}});
    }
  });
  const std::size_t total = apps.size();
  return {{"total_apps", total}, {"apps", std::move(apps)}};
}

nlohmann::json networks_json(const ControlPlane &control) {
  nlohmann::json networks = nlohmann::json::array();
  control.read_state([&](const State &state) {
    std::map<uint32_t, std::size_t> app_counts;
    for (const auto &[name, app] : state.apps()) {
      if (!app.destroyed) ++app_counts[app.network_id];
    }
    for (const auto &[id, network] : state.networks()) {
      const auto count = app_counts.find(id);
      networks.push_back({{"org", network.org},
                          {"name", network.name},
                          {"id", id},
                          {"id_text", format_network_id(id)},
                          {"mode", network.audit ? "audit" : "enforce"},
                          {"app_count", count == app_counts.end() ? 0 : count->second}});
    }
  });
  const std::size_t total = networks.size();
  return {{"total_networks", total}, {"networks", std::move(networks)}};
}

}  // namespace sixguard
