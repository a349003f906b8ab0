// Sequence-numbered UDP for tests that count what got through (tests/integration/takeover.sh).
//
//   udp_seq send DST PORT COUNT RATE     sends COUNT datagrams, RATE per second, each carrying
//                                        its sequence number, or fewer when SIGTERM/SIGINT
//                                        stops it first; prints "sent N" (how many it sent)
//   udp_seq recv PORT OUT                counts the distinct sequence numbers received and
//                                        rewrites OUT ("distinct N max M dup D") every 100 ms
//                                        while it receives, when idle, and at SIGTERM/SIGINT
//
// Both run in the namespace they are started in (ip netns exec).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

int send_main(const char *dst, int port, uint64_t count, uint64_t rate) {
  int sock = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (sock < 0) return perror("socket"), 1;
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET6, dst, &to.sin6_addr) != 1) return fprintf(stderr, "bad address\n"), 2;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  const uint64_t start = now_ns();
  const uint64_t interval = 1000000000ull / (rate == 0 ? 1 : rate);
  uint64_t seq = 0;
  for (; seq < count && !g_stop; ++seq) {
    while (now_ns() < start + seq * interval && !g_stop) {
      timespec pause{0, 100000};
      nanosleep(&pause, nullptr);
    }
    uint8_t payload[64] = {};
    std::memcpy(payload, &seq, sizeof(seq));
    // A refused send (ENOBUFS, a route flapping) is a packet lost: counted by the receiver.
    (void)::sendto(sock, payload, sizeof(payload), 0, reinterpret_cast<sockaddr *>(&to),
                   sizeof(to));
  }
  printf("sent %llu\n", static_cast<unsigned long long>(seq));
  return 0;
}

void write_result(const char *out, uint64_t distinct, uint64_t max_seq, uint64_t dup) {
  std::string tmp = std::string(out) + ".tmp";
  FILE *file = fopen(tmp.c_str(), "w");
  if (file == nullptr) return;
  fprintf(file, "distinct %llu max %llu dup %llu\n", static_cast<unsigned long long>(distinct),
          static_cast<unsigned long long>(max_seq), static_cast<unsigned long long>(dup));
  fclose(file);
  rename(tmp.c_str(), out);
}

int recv_main(int port, const char *out) {
  int sock = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (sock < 0) return perror("socket"), 1;
  int buffer = 8 << 20;
  setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer));
  sockaddr_in6 local{};
  local.sin6_family = AF_INET6;
  local.sin6_port = htons(static_cast<uint16_t>(port));
  local.sin6_addr = in6addr_any;
  if (::bind(sock, reinterpret_cast<sockaddr *>(&local), sizeof(local)) != 0) {
    return perror("bind"), 1;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  std::vector<bool> seen;
  uint64_t distinct = 0, max_seq = 0, dup = 0;
  bool dirty = true;
  uint64_t last_write = 0;
  while (!g_stop) {
    pollfd pfd{sock, POLLIN, 0};
    int ready = ::poll(&pfd, 1, 50);
    // Rewritten when idle and at least every 100 ms under a steady stream, so a test can
    // watch arrivals as they happen.
    if (dirty && (ready <= 0 || now_ns() - last_write > 100000000ull)) {
      write_result(out, distinct, max_seq, dup);
      last_write = now_ns();
      dirty = false;
    }
    if (ready <= 0) continue;
    uint8_t payload[256];
    ssize_t got = ::recv(sock, payload, sizeof(payload), MSG_DONTWAIT);
    if (got < static_cast<ssize_t>(sizeof(uint64_t))) continue;
    uint64_t seq = 0;
    std::memcpy(&seq, payload, sizeof(seq));
    if (seq > (1u << 26)) continue;  // not ours
    if (seq >= seen.size()) seen.resize(seq + 1);
    if (seen[seq]) {
      ++dup;
    } else {
      seen[seq] = true;
      ++distinct;
    }
    if (seq > max_seq) max_seq = seq;
    dirty = true;
  }
  write_result(out, distinct, max_seq, dup);
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc == 6 && std::string(argv[1]) == "send") {
    return send_main(argv[2], atoi(argv[3]), strtoull(argv[4], nullptr, 10),
                     strtoull(argv[5], nullptr, 10));
  }
  if (argc == 4 && std::string(argv[1]) == "recv") return recv_main(atoi(argv[2]), argv[3]);
  fprintf(stderr, "usage: udp_seq send DST PORT COUNT RATE | udp_seq recv PORT OUT\n");
  return 2;
}
