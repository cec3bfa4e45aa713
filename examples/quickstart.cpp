#include <accelbench/accelbench.hpp>

using namespace accelbench;

int main() {
  Benchmark<Cpu, Embedding, PercentileStats> bench{{.model = "all-MiniLM-L6-v2",
                                                    .batch_sizes = {1, 8},
                                                    .sweep = {{"sequence_lengths", {128}}}}};
  auto results = bench.run();  // zero runtime dispatch inside
  ConsoleReporter{}.report(results);
  JsonReporter{"results/quickstart.json"}.report(results);
}
