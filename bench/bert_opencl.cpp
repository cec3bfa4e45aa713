// OpenCL against Cpu on BERT: the same Benchmark workload on both, measured
// in alternation in one process (accelbench::compare), so the ratio is taken
// under the same machine conditions. On PoCL both run on the same cores: the
// ratio is the cost of the portable kernels against Eigen's. On a GPU it is
// the device's speed-up.
//
//   bench_bert_opencl [model] [batch] [sequence]   (default: bert-base-uncased 1 128)

#include <accelbench/accelbench.hpp>
#include <accelbench/backend/opencl.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string>

using namespace accelbench;

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : "bert-base-uncased";
  const int batch = argc > 2 ? std::atoi(argv[2]) : 1;
  const int sequence = argc > 3 ? std::atoi(argv[3]) : 128;
  if (const Availability a = OpenCL::available(); !a) {
    fmt::print("bench_bert_opencl: skipped, no OpenCL device: {}\n", a.reason);
    return 0;
  }
  const Config config{.model = model,
                      .batch_sizes = {batch},
                      .sweep = {{"sequence_lengths", {sequence}}},
                      .warmup_iterations = 2,
                      .min_iterations = 8,
                      .max_iterations = 1000,
                      .min_time_s = 2.0,
                      .max_time_s = 60.0};
  OpenCL device;
  const std::string device_name = device.describe().name;
  const RunResult r = compare<Embedding>(Variant<OpenCL>{"opencl", config, std::move(device)},
                                         Variant<Cpu>{"cpu", config, Cpu{}});
  const ComparisonCell& c = r.comparisons.at(0).cells.at(0);
  if (c.status != "ok") {
    fmt::print("bench_bert_opencl: {}\n", c.message);
    return 1;
  }
  const double flops = Embedding::find_preset(model).flops(batch, sequence);
  fmt::print("bert_opencl: {}, batch {}, sequence {} ({:.2f} GFLOP per pass), {} alternating pairs\n", model, batch,
             sequence, flops / 1e9, c.pairs);
  const std::string a = "opencl (" + device_name + ")";
  const std::string b = "cpu (Eigen)";
  const std::size_t width = std::max(a.size(), b.size());
  fmt::print("  {:<{}}  median {:9.2f} ms  {:7.1f} GFLOP/s\n", a, width, c.median_a_s * 1e3, flops / c.median_a_s / 1e9);
  fmt::print("  {:<{}}  median {:9.2f} ms  {:7.1f} GFLOP/s\n", b, width, c.median_b_s * 1e3, flops / c.median_b_s / 1e9);
  fmt::print("  ratio opencl / cpu time: {:.2f}", c.ratio);
  if (c.ratio_ci) fmt::print(" ({:.2f}-{:.2f})", c.ratio_ci->low, c.ratio_ci->high);
  fmt::print("\n");
  return 0;
}
