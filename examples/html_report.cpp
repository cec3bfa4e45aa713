// Two BERT models on the CPU over batch sizes and sequence lengths, written
// as one self-contained HTML page (docs/html-report.md): results/bert.html
// opens in any browser, offline. A results file written before becomes a
// page the same way: HtmlReporter{...}.report(read_results_file("run.json")).

#include <accelbench/accelbench.hpp>

using namespace accelbench;

int main() {
  // [snippet html]
  RunResult results;
  for (const char* model : {"bert-tiny", "all-MiniLM-L6-v2"}) {
    Benchmark<Cpu, Embedding> bench{{.model = model,
                                     .batch_sizes = {1, 4, 16},
                                     .sweep = {{"sequence_lengths", {16, 64}}},
                                     .min_time_s = 0.2}};
    results.merge(bench.run());
  }
  HtmlReporter{"results/bert.html"}.report(results);  // or HtmlReporter{std::cout}
  // [end snippet]
}
