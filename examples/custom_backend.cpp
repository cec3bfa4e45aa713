// A backend of one's own, benchmarked through the same Benchmark template as
// Cpu: the plain-loop backend of plain_backend.hpp runs an encoder (bert-tiny),
// greedy generation (llama-tiny) and a vision transformer (vit-tiny), each
// cell verified against Cpu while it is timed, then the same cells on Cpu
// (one thread, as the plain loops use) for the speed ratio.
// docs/writing-a-backend.md explains each part.

#include <accelbench/accelbench.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "plain_backend.hpp"

using namespace accelbench;

namespace {

struct Row {
  CellResult plain;  // the cell on the plain backend, with its verification against Cpu
  CellResult cpu;    // the same cell on Cpu
};

// Small cells and a short stopping rule: plain loops are slow.
Config quick(Config c) {
  c.warmup_iterations = 1;
  c.min_iterations = 5;
  c.min_time_s = 0.3;
  c.max_time_s = 2.0;
  return c;
}

// [snippet op-check]
// One op checked against Cpu's on random inputs of awkward sizes (no
// multiple of a vector width or a tile), as tests/unit/test_cpu_ops.cpp does
// for every op: a wrong index shows here, before any model runs.
float linear_error() {
  const HostMatrix x = HostMatrix::Random(37, 53);
  const HostMatrix w = HostMatrix::Random(29, 53);
  const HostMatrix b = HostMatrix::Random(1, 29);
  Cpu cpu;
  HostMatrix expected;
  cpu.linear(x, w, b, expected);
  plain::PlainBackend backend;
  plain::PlainTensor y;
  backend.linear(backend.upload(x), backend.upload(w), backend.upload(b), y);
  return (backend.download(y) - expected).cwiseAbs().maxCoeff();
}
// [end snippet]

// [snippet compare]
// One family's sweep on the plain backend, then on Cpu. Benchmark<B, F>
// compiles only where RunsOn<F, B> holds: the backend has the op set the
// family's models use. For a backend other than Cpu, each cell's outputs are
// compared with Cpu's for the same inputs and seed, and the result is in the
// cell's `verification` (status "ok" or "mismatch", max_abs_error, ...).
template <class F>
void compare_with_cpu(const Config& config, std::vector<Row>& rows) {
  static_assert(RunsOn<F, plain::PlainBackend>);
  const RunResult on_plain = Benchmark<plain::PlainBackend, F>{config}.run();
  const RunResult on_cpu = Benchmark<Cpu, F>{config, Cpu{Cpu::Options{.threads = 1}}}.run();
  for (std::size_t i = 0; i < on_plain.cells.size(); ++i) rows.push_back({on_plain.cells[i], on_cpu.cells[i]});
}
// [end snippet]

std::string shape_of(const CellResult& cell) {
  std::string s;
  for (const Axis& a : cell.shape) s += (s.empty() ? "" : " ") + a.name + "=" + std::to_string(a.value);
  return s;
}

double median_ms(const CellResult& cell) { return cell.latency.median.value_or(0) * 1e3; }

}  // namespace

int main() {
  const float op_error = linear_error();
  fmt::print("linear [37 x 53] by [29 x 53]: max abs difference from cpu {:.2e}\n", op_error);
  if (!(op_error < 1e-4f)) return 1;

  std::vector<Row> rows;
  // [snippet cells]
  compare_with_cpu<Embedding>(quick({.model = "bert-tiny", .sweep = {{"sequence_lengths", {16}}}}), rows);
  compare_with_cpu<TextGeneration>(
      quick({.model = "llama-tiny", .sweep = {{"prompt_lengths", {8}}, {"new_tokens", {4}}}}), rows);
  compare_with_cpu<Vision>(quick({.model = "vit-tiny", .sweep = {{"image_sizes", {32, 64}}}}), rows);
  // [end snippet]

  fmt::print("plain: {}, 1 thread; cpu: 1 thread; verification tolerance {:g} (Config::verify_tolerance)\n\n",
             plain::PlainBackend{}.describe().name, Config{}.verify_tolerance);
  std::size_t width = 4;
  for (const Row& r : rows) width = std::max(width, shape_of(r.plain).size());
  fmt::print("{:<15}  {:<10}  {:<{}}  {:<6}  {:<8}  {:>13}  {:>15}  {:>13}  {:>11}\n", "family", "model", "cell", width,
             "status", "verified", "max abs error", "plain median ms", "cpu median ms", "plain / cpu");
  for (const Row& r : rows) {
    const double ratio = median_ms(r.cpu) > 0 ? median_ms(r.plain) / median_ms(r.cpu) : 0.0;
    fmt::print("{:<15}  {:<10}  {:<{}}  {:<6}  {:<8}  {:>13.2e}  {:>15.3f}  {:>13.3f}  {:>11.1f}\n", r.plain.family,
               r.plain.model, shape_of(r.plain), width, to_string(r.plain.status), r.plain.verification.status,
               r.plain.verification.max_abs_error, median_ms(r.plain), median_ms(r.cpu), ratio);
  }
  for (const Row& r : rows) {
    if (r.plain.status != CellStatus::ok) {
      fmt::print("{} on plain: {}\n", r.plain.model, r.plain.message);
      return 1;
    }
  }
}
