// A Timer that can start but not stop: Benchmark must reject it, naming Timer.
#include <accelbench/accelbench.hpp>

#include <string_view>

struct StartOnly {
  static constexpr std::string_view name = "start-only";
  void start() {}
};

int main() {
  accelbench::Benchmark<accelbench::Cpu, accelbench::Embedding, accelbench::PercentileStats, StartOnly> bench{
      accelbench::Config{}};
  (void)bench;
}
