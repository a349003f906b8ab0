// A minimal Ethernet + IPv6 + UDP frame for explain tests in this directory (the project's
// packet builder, agent/core/packet_builder.h, is the general tool; this keeps the datapath
// tests independent of it).
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace sixguard::test {

inline std::vector<uint8_t> ipv6_udp_frame(const std::string &src, const std::string &dst) {
  std::vector<uint8_t> frame(14 + 40 + 8, 0);
  frame[12] = 0x86;  // EtherType IPv6
  frame[13] = 0xdd;
  uint8_t *ip = frame.data() + 14;
  ip[0] = 0x60;  // version 6
  ip[4] = 0;     // payload length 8 (UDP header only)
  ip[5] = 8;
  ip[6] = 17;  // next header UDP
  ip[7] = 64;  // hop limit
  inet_pton(AF_INET6, src.c_str(), ip + 8);
  inet_pton(AF_INET6, dst.c_str(), ip + 24);
  uint8_t *udp = ip + 40;
  udp[0] = 0x30;  // source port 12345
  udp[1] = 0x39;
  udp[2] = 0x00;  // destination port 53
  udp[3] = 53;
  udp[5] = 8;  // length
  return frame;
}

}  // namespace sixguard::test
