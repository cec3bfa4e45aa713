// Writes two google/benchmark exports of fabricated runs into the folder
// given as argument: a.json, and b.json where every sample takes half the
// time. gbench_compare.py compares them with google/benchmark's compare.py.

#include <accelbench/report/gbench_reporter.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

using namespace accelbench;

namespace {

CellResult cell(std::string backend, std::int64_t batch, double median, double scale) {
  CellResult c;
  c.family = "embedding";
  c.model = "bert-tiny";
  c.backend = std::move(backend);
  c.shape = {{"batch_size", batch}, {"sequence_length", 128}};
  for (int i = 0; i < 10; ++i) c.samples_s.push_back(median * scale * (0.95 + 0.01 * i));
  c.iterations = c.samples_s.size();
  for (double s : c.samples_s) c.measured_time_s += s;
  c.latency.count = c.samples_s.size();
  c.latency.mean = c.measured_time_s / static_cast<double>(c.iterations);
  c.latency.median = median * scale;
  c.throughput.item_unit = "sequences";
  c.throughput.items_per_second = static_cast<double>(batch * c.iterations) / c.measured_time_s;
  return c;
}

RunResult run(double scale) {
  RunResult r;
  r.started_at = "2026-11-30T10:00:00Z";
  r.system.hostname = "fabricated";
  r.system.logical_cores = 4;
  r.build.optimized = true;
  r.cells = {cell("cpu", 1, 2e-3, scale), cell("cpu", 8, 8e-3, scale), cell("opencl", 1, 1e-3, scale)};
  CellResult failed = cell("opencl", 8, 1e-3, scale);
  failed.status = CellStatus::failed;
  failed.message = "not exported";
  r.cells.push_back(failed);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FOLDER\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  GoogleBenchmarkReporter{dir / "a.json"}.report(run(1.0));
  GoogleBenchmarkReporter{dir / "b.json"}.report(run(0.5));
  GoogleBenchmarkOptions single;
  single.repetitions = false;
  single.time_unit = GbenchTimeUnit::us;
  GoogleBenchmarkReporter{dir / "a-single.json", single}.report(run(1.0));
  GoogleBenchmarkReporter{dir / "b-single.json", single}.report(run(0.5));
  return 0;
}
