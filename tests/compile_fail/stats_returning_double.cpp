// A Stats policy whose summary is a bare number: Benchmark must reject it,
// naming Stats.
#include <accelbench/accelbench.hpp>

#include <span>
#include <string_view>

struct MeanOnly {
  static constexpr std::string_view name = "mean-only";
  static double summarize(std::span<const double> samples) { return samples.empty() ? 0.0 : samples[0]; }
};

int main() {
  accelbench::Benchmark<accelbench::Cpu, accelbench::Embedding, MeanOnly> bench{accelbench::Config{}};
  (void)bench;
}
