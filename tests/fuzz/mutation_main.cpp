// A plain seeded mutation loop over the API fuzz target, for builds without libFuzzer (g++):
// every seed of the corpus, then N inputs made by mutating them (bit flips, byte changes,
// insertions of JSON and HTTP tokens, deletions, duplications, splices). Deterministic for a
// given --seed. The libFuzzer build (scripts/lib/fuzz_api.sh) is the thorough one; this one
// keeps the target in the regular ctest run.
//   fuzz_api_mutate CORPUS_DIR [--inputs N] [--seed S]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

const std::vector<std::string> kTokens = {"[",
                                          "]",
                                          "{",
                                          "}",
                                          "\"",
                                          ",",
                                          ":",
                                          "\\u0000",
                                          "\\u001f",
                                          "\\ud800",
                                          "\xc3\x28",
                                          "\xff",
                                          "null",
                                          "true",
                                          "-1",
                                          "1e999",
                                          "4294967296",
                                          "\"type\":",
                                          "\"app.destroyed\"",
                                          "\"machine.started\"",
                                          "\"address\":\"fdaa:2:45b::1\"",
                                          "\"interface\":\"lo\"",
                                          "\r\n",
                                          "\n\n",
                                          "Content-Length: 99999999999\n",
                                          "Transfer-Encoding: chunked\n",
                                          "Expect: 100-continue\n",
                                          "0\r\n\r\n",
                                          "ffffffffffffffff\r\n"};

std::string mutate(std::string input, std::mt19937_64 &random,
                   const std::vector<std::string> &seeds) {
  const int count = 1 + static_cast<int>(random() % 4);
  for (int i = 0; i < count; ++i) {
    const std::size_t at = input.empty() ? 0 : random() % (input.size() + 1);
    switch (random() % 8) {
      case 0:
        if (!input.empty()) input[at % input.size()] ^= static_cast<char>(1u << (random() % 8));
        break;
      case 1:
        if (!input.empty()) input[at % input.size()] = static_cast<char>(random());
        break;
      case 2:
        input.insert(at, kTokens[random() % kTokens.size()]);
        break;
      case 3:
        if (!input.empty()) input.erase(at % input.size(), 1 + random() % 16);
        break;
      case 4: {  // duplicate a range: deep nesting, long names, repeated keys
        if (input.empty()) break;
        const std::size_t from = random() % input.size();
        const std::string range = input.substr(from, 1 + random() % 32);
        const int times = 1 + static_cast<int>(random() % 64);
        for (int t = 0; t < times && input.size() < 65536; ++t) input.insert(at, range);
        break;
      }
      case 5: {  // splice with another seed
        const std::string &other = seeds[random() % seeds.size()];
        if (!other.empty()) input = input.substr(0, at) + other.substr(random() % other.size());
        break;
      }
      case 6:  // another framing (byte 0) or write pattern (byte 1)
        if (input.size() >= 2) input[random() % 2] = static_cast<char>(random());
        break;
      case 7: {  // deep nesting, up to 65,536 levels: a recursive parser's stack
        const std::size_t depth = std::size_t{1} << (random() % 17);
        // Half the time where the body starts (after the two control bytes), where nesting is
        // read as such rather than inside a string.
        const std::size_t where = random() % 2 ? std::min<std::size_t>(2, input.size()) : at;
        if (random() % 2) {
          input.insert(where, std::string(depth, '['));
        } else {
          std::string objects;
          for (std::size_t d = 0; d < depth && objects.size() < 262144; ++d) objects += "{\"a\":";
          input.insert(where, objects);
        }
        break;
      }
    }
  }
  return input;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [--inputs N] [--seed S]\n", argv[0]);
    return 2;
  }
  long inputs = 2000;
  uint64_t seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--inputs") inputs = std::atol(argv[i + 1]);
    if (std::string(argv[i]) == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  std::vector<std::string> seeds;
  for (const auto &entry : std::filesystem::directory_iterator(argv[1])) {
    std::ifstream file(entry.path(), std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no seeds in %s\n", argv[1]);
    return 2;
  }
  std::mt19937_64 random(seed);
  long ran = 0;
  for (const auto &input : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()), input.size());
    ++ran;
  }
  for (; ran < inputs; ++ran) {
    const std::string input = mutate(seeds[random() % seeds.size()], random, seeds);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()), input.size());
  }
  std::printf("fuzz_api_mutate: %ld inputs, every answer 200/400/409/413/422 (404 for explain)\n",
              ran);
  return 0;
}
