#include "tests/bench/control_events.h"

#include <cstdio>

namespace sixguard::bench {
namespace {

constexpr uint32_t kNetworkBase = 0x00200000;  // network ids 20:0 .. 20:63

uint32_t network_id(uint32_t k) {
  return kNetworkBase + k;
}

// fdaa:<network id>:<w3>:<w4>:<w5>:<w6>:<w7>
std::string address(uint32_t network, uint32_t w3, uint32_t w4, uint32_t w5, uint32_t w6,
                    uint32_t w7) {
  char text[64];
  std::snprintf(text, sizeof(text), "fdaa:%x:%x:%x:%x:%x:%x:%x", network >> 16, network & 0xffff,
                w3 & 0xffff, w4 & 0xffff, w5 & 0xffff, w6 & 0xffff, w7 & 0xffff);
  return text;
}

}  // namespace

std::string network_created(uint32_t k) {
  return "{\"type\":\"network.created\",\"org\":\"bench\",\"network\":\"n" + std::to_string(k) +
         "\",\"id\":" + std::to_string(network_id(k)) + "}";
}

std::string app_created(uint32_t i) {
  return "{\"type\":\"app.created\",\"org\":\"bench\",\"app\":\"a" + std::to_string(i) +
         "\",\"network\":\"n" + std::to_string(i % kBenchNetworks) + "\"}";
}

std::string machine_started(uint32_t j) {
  const uint32_t app = j % kBenchApps;
  // Host id 1, machine id j: the /112 is unique per machine.
  const std::string addr = address(network_id(app % kBenchNetworks), 0, 1, j >> 16, j, 2);
  return "{\"type\":\"machine.started\",\"app\":\"a" + std::to_string(app) + "\",\"machine\":\"m" +
         std::to_string(j) + "\",\"address\":\"" + addr + "\",\"interface\":\"h7x" +
         std::to_string(j) + "\"}";
}

std::string flycast_allocated(uint32_t k) {
  const uint32_t app = k % kBenchApps;
  const uint32_t into = (k + 1) % kBenchNetworks;
  const std::string addr = address(network_id(into), 0xf1c, 0, k >> 16, k, 1);
  return "{\"type\":\"flycast.allocated\",\"app\":\"a" + std::to_string(app) + "\",\"address\":\"" +
         addr + "\",\"network\":\"n" + std::to_string(into) + "\"}";
}

}  // namespace sixguard::bench
