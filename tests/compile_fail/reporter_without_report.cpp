// A Reporter without report(const RunResult&): Benchmark must reject it,
// naming Reporter.
#include <accelbench/accelbench.hpp>

struct Silent {
  void write() {}
};

int main() {
  accelbench::Benchmark<accelbench::Cpu, accelbench::Embedding, accelbench::PercentileStats, accelbench::SteadyTimer,
                        Silent>
      bench{accelbench::Config{}};
  (void)bench;
}
