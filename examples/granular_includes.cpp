// One family benchmarked with only the headers it needs: the same program as
// the quickstart with a smaller edit-compile loop (docs/layout.md).

// [snippet includes]
#include <accelbench/family/embedding.hpp>      // the family and its models
#include <accelbench/report/json_reporter.hpp>  // a reporter besides the console
#include <accelbench/run/benchmark.hpp>         // Benchmark, Cpu, ConsoleReporter
#include <accelbench/run/precompiled.hpp>       // last: the precompiled benchmarks, when linked
// [end snippet]

using namespace accelbench;

int main() {
  Benchmark<Cpu, Embedding> bench{{.model = "bert-tiny", .batch_sizes = {1, 8}, .min_iterations = 5}};
  auto results = bench.run();
  ConsoleReporter{}.report(results);
  JsonReporter{"results/granular_includes.json"}.report(results);
}
