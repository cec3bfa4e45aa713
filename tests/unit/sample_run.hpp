#pragma once

// A made-up run for the report tests: three families on two backends with
// several batch sizes and sequence lengths, phases, a failed cell, a busy
// cell, warnings, a paired comparison, a loading result, and a model name
// with markup and bytes that are not UTF-8. Deterministic.

#include <accelbench/core/result.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace sample {

/// The model whose name must come out escaped.
inline const std::string hostile_model = "<script>alert(\"x\")</script>mini\xff\xfe-lm";

inline accelbench::CellResult make_cell(const std::string& family, const std::string& model,
                                        const std::string& backend, std::vector<accelbench::Axis> shape,
                                        double median_s, const std::string& unit, double items) {
  using namespace accelbench;
  CellResult c;
  c.family = family;
  c.model = model;
  c.backend = backend;
  c.shape = std::move(shape);
  c.stats = "percentile";
  c.timer = "steady_clock";
  c.iterations = 40;
  c.stop_reason = "min_iterations and min_time_s";
  c.first_run_s = median_s * 1.8;
  c.load_time_s = 0.05;
  // Samples spread around the median, some slow ones on the right.
  for (int i = 0; i < 40; ++i) {
    const double wobble = 1.0 + 0.04 * std::sin(i * 1.7) + (i % 13 == 0 ? 0.3 : 0.0);
    c.samples_s.push_back(median_s * wobble);
  }
  auto& l = c.latency;
  l.count = c.samples_s.size();
  l.min = median_s * 0.96;
  l.max = median_s * 1.34;
  l.mean = median_s * 1.03;
  l.median = median_s;
  l.p90 = median_s * 1.05;
  l.p99 = median_s * 1.3;
  l.cv = 0.08;
  l.confidence = 0.95;
  l.median_ci = Interval{median_s * 0.97, median_s * 1.04};
  c.throughput.item_unit = unit;
  c.throughput.items_per_second = items / median_s;
  c.memory.rss_before_bytes = 100u << 20;
  // Made up so that no two models share a line.
  const double weights_mib = static_cast<double>(model.size() * 6 + static_cast<unsigned char>(model[0]) % 7 * 5);
  c.memory.peak_rss_bytes = static_cast<std::uint64_t>((100 + weights_mib + items * 3) * 1024 * 1024);
  if (backend == "opencl") {
    c.memory.device_peak_bytes = static_cast<std::uint64_t>((10 + weights_mib + items) * 1024 * 1024);
  }
  c.verification.status = backend == "cpu" ? "reference" : "ok";
  c.verification.reference = "cpu";
  c.verification.max_abs_error = backend == "cpu" ? 0 : 1.2e-6;
  return c;
}

inline accelbench::RunResult make_run() {
  using namespace accelbench;
  RunResult r;
  r.started_at = "2026-12-02T10:00:00Z";
  r.finished_at = "2026-12-02T10:04:10Z";
  r.system = {"bench-host", "Debian GNU/Linux 12 (bookworm)", "6.1.0", "x86_64", "AMD EPYC 9654", 2, 2,
              8ull << 30, {"avx2", "fma", "avx512f"}};
  r.build.library_version = "0.1.0";
  r.build.compiler = "gcc 12.2.0";
  r.build.build_type = "Release";
  r.build.optimized = true;
  r.build.git_commit = "0123456789ab";
  r.environment.virtualized = true;
  r.environment.hypervisor = "KVM";
  r.timers.push_back({"steady_clock", true, "", 2e-8, 5e-7, {}});
  r.devices.push_back({"cpu", "AMD EPYC 9654", "cpu", 2, 1, 8ull << 30, {"avx2"}, {}});
  r.devices.push_back({"opencl", "pthread-AMD EPYC", "cpu", 2, 0, 7ull << 30, {}, {{"driver", "3.1"}}});
  r.warnings.push_back("virtual machine (KVM): timings include interference from the host and other guests");
  r.warnings.push_back("a warning with <b>markup</b> & an ampersand");

  const std::vector<std::string> backends{"cpu", "opencl"};
  // Embedding: 2 models x 2 backends x batch 1, 4, 16 x sequence 16, 128; the
  // last one (bert-tiny, opencl, 16 x 128) failed.
  for (const auto& backend : backends) {
    for (const auto& model : {std::string("bert-tiny"), hostile_model}) {
      for (std::int64_t batch : {1, 4, 16}) {
        for (std::int64_t seq : {16, 128}) {
          const double base = (model == "bert-tiny" ? 2e-4 : 2e-3) * (backend == "cpu" ? 1.0 : 0.3);
          auto c = make_cell("embedding", model, backend, {{"batch_size", batch}, {"sequence_length", seq}},
                             base * static_cast<double>(batch) * static_cast<double>(seq) / 16.0, "sequences",
                             static_cast<double>(batch));
          if (model == "bert-tiny" && backend == "opencl" && batch == 16 && seq == 128) {
            c = CellResult{};
            c.family = "embedding";
            c.model = model;
            c.backend = backend;
            c.shape = {{"batch_size", batch}, {"sequence_length", seq}};
            c.status = CellStatus::failed;
            c.message = "clEnqueueNDRangeKernel failed: <CL_OUT_OF_RESOURCES>";
            c.throughput.item_unit = "sequences";
          }
          // Every other cell carries its histogram; the rest are binned from their samples.
          if (c.latency.count > 0 && batch != 4) {
            c.latency.histogram = Histogram{c.latency.min, (c.latency.max - c.latency.min) / 6, {3, 20, 10, 4, 0, 3}};
          }
          r.cells.push_back(std::move(c));
        }
      }
    }
  }
  // Text generation: 2 models x 2 backends x batch 1, 4 x prompt 16, 64, 8 new
  // tokens; prefill and decode phases; one busy cell.
  for (const auto& backend : backends) {
    for (const auto& model : {std::string("llama-tiny"), std::string("qwen2-tiny")}) {
      for (std::int64_t batch : {1, 4}) {
        for (std::int64_t prompt : {16, 64}) {
          const double prefill = 1e-3 * static_cast<double>(prompt) / 16 * static_cast<double>(batch);
          const double decode = 2e-3 * (model == "qwen2-tiny" ? 1.2 : 1.0) * (backend == "cpu" ? 1.0 : 0.5);
          auto c = make_cell("text-generation", model, backend,
                             {{"batch_size", batch}, {"prompt_length", prompt}, {"new_tokens", 8}},
                             prefill + 7 * decode, "sequences", static_cast<double>(batch));
          c.throughput.tokens_per_second = c.throughput.items_per_second * 8;
          c.memory.kv_cache_bytes = static_cast<std::uint64_t>(batch * (prompt + 8) * 4096);
          PhaseResult p{"prefill", "prompt tokens", static_cast<double>(prompt), 1, {}, 0};
          p.latency.count = 40;
          p.latency.median = prefill;
          p.latency.mean = prefill;
          PhaseResult d{"decode", "tokens", 1, 7, {}, 0};
          d.latency.count = 280;
          d.latency.median = decode;
          d.latency.mean = decode;
          c.phases = {p, d};
          if (backend == "cpu" && model == "qwen2-tiny" && batch == 4 && prompt == 64) {
            c.busy = true;
            c.warnings.push_back("the machine was busy while sampling: other processes used 1.3 cores");
          }
          r.cells.push_back(std::move(c));
        }
      }
    }
  }
  // Vision: one model on the cpu, one image size (no chart over it).
  for (std::int64_t batch : {1, 2}) {
    r.cells.push_back(make_cell("vision", "vit-tiny", "cpu", {{"batch_size", batch}, {"image_size", 224}},
                                0.04 * static_cast<double>(batch), "images", static_cast<double>(batch)));
  }
  for (auto& c : r.cells) c.warnings.insert(c.warnings.begin(), r.warnings.front());

  r.models.push_back({"bert-tiny", "embedding", "bert", "cpu", "synthetic (seed 42)", {}, 4400000, 17600000,
                      0.05, 0.04, 0.01, false, "ok", ""});
  ComparisonResult cmp;
  cmp.family = "embedding";
  cmp.model_a = cmp.model_b = "bert-tiny";
  cmp.backend_a = cmp.backend_b = "cpu";
  cmp.label_a = "1 thread";
  cmp.label_b = "2 threads";
  cmp.confidence = 0.95;
  for (std::int64_t batch : {1, 4}) {
    ComparisonCell cell;
    cell.shape = {{"batch_size", batch}, {"sequence_length", 16}};
    cell.pairs = 30;
    cell.median_a_s = 2e-4 * static_cast<double>(batch);
    cell.median_b_s = 1.2e-4 * static_cast<double>(batch);
    cell.ratio = cell.median_a_s / cell.median_b_s;
    cell.ratio_ci = Interval{cell.ratio * 0.95, cell.ratio * 1.05};
    cell.p_value = 1e-6;
    cell.significant = true;
    cmp.cells.push_back(cell);
  }
  r.comparisons.push_back(cmp);
  LoadingResult load;
  load.family = "embedding";
  load.backend = "cpu";
  load.models = {"bert-tiny", "all-MiniLM-L6-v2"};
  load.repetitions = 3;
  load.sequential_median_s = 0.2;
  load.concurrent_median_s = 0.12;
  load.speedup = 0.2 / 0.12;
  r.loading.push_back(load);
  return r;
}

}  // namespace sample
