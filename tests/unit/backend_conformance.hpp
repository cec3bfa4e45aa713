#pragma once

// The conformance checks of <accelbench/testing/conformance.hpp> as doctest
// tests: every op on random inputs against Cpu, and every architecture end
// to end (the golden checkpoints, run by Benchmark<B, F> with verification
// against Cpu). The OpenCL and Cuda test programs instantiate these for
// their backend.

#include <doctest/doctest.h>

#include <accelbench/family/audio.hpp>
#include <accelbench/family/embedding.hpp>
#include <accelbench/family/multimodal.hpp>
#include <accelbench/family/text_generation.hpp>
#include <accelbench/family/vision.hpp>
#include <accelbench/family/audio_text.hpp>
#include <accelbench/family/video_text.hpp>
#include <accelbench/family/vision_language.hpp>
#include <accelbench/testing/conformance.hpp>

#include <map>
#include <string>
#include <vector>

#include "golden.hpp"

namespace accelbench::test {

using testing::random_matrix;

/// A doctest check for each conformance result, with its figures.
inline testing::CheckSink doctest_sink() {
  return [](const testing::CheckResult& r) {
    INFO(r.name << ": " << r.detail);
    CHECK(r.passed);
  };
}

/// Every op of the four op sets on B against Cpu, on the same inputs.
template <class B>
void check_ops_against_cpu(B& b) {
  testing::Checker chk(doctest_sink());
  SUBCASE("linear, with and without bias, odd sizes, weights at bf16 and fp16") { testing::check_linear(b, chk); }
  SUBCASE("add, layer_norm (also in place), rms_norm, softmax, normalize_rows") { testing::check_norms(b, chk); }
  SUBCASE("activations and scale") { testing::check_activations(b, chk); }
  SUBCASE("attention: padding mask, causal with a cache, grouped-query, position bias, sliding windows") {
    testing::check_attention(b, chk);
  }
  SUBCASE("embedding_lookup, masked_mean_pool, add_positions, cache_write, prepend_row") {
    testing::check_indexing(b, chk);
  }
  SUBCASE("rotary, relative_position_bias, argmax_rows") { testing::check_positions(b, chk); }
  SUBCASE("conv2d (patches and padded 3x3), conv1d (strided, padded, grouped), group_norm") {
    testing::check_convolutions(b, chk);
  }
  SUBCASE("conv2d_rows (7x7 stride 2, 3x3, 1x1 with stride 1 and 2), max_pool2d (odd and even sizes), sigmoid") {
    testing::check_detection(b, chk);
  }
}

/// A checkpoint's sweep for the architecture tests of family F: small and quick.
template <class F>
Config conformance_config(const std::string& arch) {
  Config c;
  c.weights = golden_dir(arch).string();
  c.batch_sizes = {2};
  c.sweep = {{"sequence_lengths", {7}}, {"prompt_lengths", {5}}, {"new_tokens", {4}}, {"audio_seconds", {1}}};
  c.warmup_iterations = 1;
  c.min_iterations = 3;
  c.iterations_per_sample = 1;
  c.min_time_s = 0.0;
  c.max_time_s = 5.0;
  c.memory_sample_interval_s = 0;
  c.verify_tolerance = 1e-4;
  return restrict_sweep_to<F>(c);
}

/// Runs architecture `arch`'s golden checkpoint on B through Benchmark<B, F>
/// (with `sweep`'s axes set, its weights at `precision`) and checks every
/// cell verified against Cpu (at the same precision) within 1e-4.
template <class B, class F>
void check_architecture(const std::string& arch, const std::map<std::string, std::vector<int>>& sweep = {},
                        Precision precision = Precision::fp32) {
  Config config = conformance_config<F>(arch);
  for (const auto& [axis, values] : sweep) config.sweep[axis] = values;
  config.precision = precision;
  testing::check_architecture<B, F>(config, [&](const testing::CheckResult& r) {
    INFO(arch << ": " << r.name << ": " << r.detail);
    if (r.name.find("error within") != std::string::npos) MESSAGE(arch << " on " << B::name << ": " << r.detail);
    CHECK(r.passed);
  });
}

}  // namespace accelbench::test
