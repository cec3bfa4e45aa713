// The reports of one run: CSV for spreadsheets, JSON Lines for tools that
// stream records, a Markdown report to read and keep, and google/benchmark's
// JSON for its compare.py (docs/reports.md). Given a results file as its
// argument (`accelbench run` writes them), it reports that run instead of
// measuring one.

#include <accelbench/accelbench.hpp>

using namespace accelbench;

int main(int argc, char** argv) {
  // [snippet reports]
  const RunResult results =
      argc > 1 ? read_results_file(argv[1])
               : Benchmark<Cpu, Embedding>{{.model = "bert-tiny", .batch_sizes = {1, 8}, .min_iterations = 5}}.run();
  CsvReporter{"results/reports.csv"}.report(results);             // one row per cell
  JsonLinesReporter{"results/reports.jsonl"}.report(results);     // one JSON object per cell
  MarkdownReporter{"results/reports.md"}.report(results);         // tables by model and backend
  GoogleBenchmarkReporter{"results/reports.gbench.json"}.report(results);  // for compare.py
  // [end snippet]
}
