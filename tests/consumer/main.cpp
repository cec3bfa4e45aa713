#include <accelbench/accelbench.hpp>

#include <cstdio>

#include "build_level.hpp"

int main() {
  using namespace accelbench;
  Benchmark<Cpu, Embedding, PercentileStats> bench{{.model = "bert-tiny",
                                                    .batch_sizes = {1},
                                                    .sweep = {{"sequence_lengths", {8, 16}}},
                                                    .warmup_iterations = 1,
                                                    .min_iterations = 2,
                                                    .min_time_s = 0.0}};
  const RunResult results = bench.run();
  ConsoleReporter{}.report(results);
  std::size_t ok = 0;
  for (const auto& cell : results.cells) ok += cell.status == CellStatus::ok ? 1 : 0;
  std::printf("consumer: %s on %s, %zu cells ok\n", results.models.at(0).name.c_str(),
              results.devices.at(0).backend.c_str(), ok);
  print_build_level();
  return ok == results.cells.size() ? 0 : 1;
}
