// Deterministic replay driver for fuzz targets, run by ctest on every build (GCC has no
// libFuzzer). It feeds the target: empty input, every seed, every prefix of every seed
// (truncation), and then --iterations inputs that are random bytes or seeds with random
// mutations (bit flips, byte overwrites, inserted and deleted runs, splices, big length
// fields). Any crash, sanitizer report or hang fails the test; the seed makes failures
// reproducible: `fuzz_X_replay --iterations N --seed S`. Files given as arguments are
// replayed first (a crash reproducer from a libFuzzer run).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_seeds.h"

namespace lifeline::fuzz {
__attribute__((weak)) std::vector<std::vector<uint8_t>> Seeds() {
  return {};
}
}  // namespace lifeline::fuzz

namespace {

using Bytes = std::vector<uint8_t>;

void Run(const Bytes& input) {
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

Bytes Mutate(const Bytes& seed, std::mt19937_64& rng) {
  Bytes out = seed;
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng() % 7) {
      case 0:  // Flip a bit.
        if (!out.empty())
          out[rng() % out.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:  // Overwrite a byte.
        if (!out.empty())
          out[rng() % out.size()] = static_cast<uint8_t>(rng());
        break;
      case 2: {  // Insert random bytes.
        size_t pos = out.empty() ? 0 : rng() % (out.size() + 1);
        size_t n = 1 + rng() % 16;
        Bytes ins(n);
        for (auto& b : ins)
          b = static_cast<uint8_t>(rng());
        out.insert(out.begin() + static_cast<long>(pos), ins.begin(), ins.end());
        break;
      }
      case 3: {  // Delete a run.
        if (out.empty())
          break;
        size_t pos = rng() % out.size();
        size_t n = std::min<size_t>(1 + rng() % 16, out.size() - pos);
        out.erase(out.begin() + static_cast<long>(pos), out.begin() + static_cast<long>(pos + n));
        break;
      }
      case 4:  // Truncate.
        if (!out.empty())
          out.resize(rng() % out.size());
        break;
      case 5: {  // Write an extreme 32-bit value (length fields).
        if (out.size() < 4)
          break;
        static const uint32_t kValues[] = {0, 1, 0x7fffffff, 0xffffffff, 0x10000, 0x4001};
        uint32_t v = kValues[rng() % std::size(kValues)];
        size_t pos = rng() % (out.size() - 3);
        std::memcpy(out.data() + pos, &v, 4);
        break;
      }
      case 6: {  // Duplicate the input (two messages back to back, or garbage after one).
        if (out.size() < 4096)
          out.insert(out.end(), seed.begin(), seed.end());
        break;
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 10000;
  unsigned long long seed = 1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--iterations" && i + 1 < argc) {
      iterations = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      files.push_back(arg);
    }
  }
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Run(data);
  }
  const std::vector<Bytes> seeds = lifeline::fuzz::Seeds();
  Run({});
  for (const Bytes& s : seeds) {
    Run(s);
    for (size_t len = 0; len < s.size(); len += 1 + s.size() / 64)
      Run(Bytes(s.begin(), s.begin() + static_cast<long>(len)));
  }
  std::mt19937_64 rng(seed);
  for (long i = 0; i < iterations; ++i) {
    if (seeds.empty() || rng() % 5 == 0) {
      Bytes random(rng() % 512);
      for (auto& b : random)
        b = static_cast<uint8_t>(rng());
      Run(random);
    } else {
      Run(Mutate(seeds[rng() % seeds.size()], rng));
    }
  }
  std::printf("fuzz replay: %zu seeds, %ld random inputs, seed %llu: no crash\n", seeds.size(),
              iterations, seed);
  return 0;
}
