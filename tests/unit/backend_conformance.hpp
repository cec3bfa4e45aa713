#pragma once

// Conformance of a device backend to the Cpu reference: every op on random
// inputs, and every architecture end to end (the golden checkpoints, run by
// Benchmark<B, F> with verification against Cpu). The OpenCL and Cuda test
// programs instantiate these for their backend.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/run/benchmark.hpp>
#include <accelbench/family/audio.hpp>
#include <accelbench/family/embedding.hpp>
#include <accelbench/family/multimodal.hpp>
#include <accelbench/family/text_generation.hpp>
#include <accelbench/family/vision.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "golden.hpp"

namespace accelbench::test {

inline HostMatrix random_matrix(long rows, long cols, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  HostMatrix m(rows, cols);
  for (long i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

/// Largest difference relative to the largest reference magnitude (or
/// absolute below 1), reported and checked against `tolerance`.
inline void check_matches(const std::string& what, const HostMatrix& got, const HostMatrix& expected,
                          double tolerance = 2e-5) {
  REQUIRE(got.rows() == expected.rows());
  REQUIRE(got.cols() == expected.cols());
  if (got.size() == 0) return;
  const double err = static_cast<double>((got - expected).cwiseAbs().maxCoeff());
  const double scale = std::max(1.0, static_cast<double>(expected.cwiseAbs().maxCoeff()));
  INFO(what << ": max abs error " << err << ", reference magnitude " << scale);
  CHECK(err / scale <= tolerance);
}

/// Every op of the three op sets on B against Cpu, on the same inputs.
template <class B>
void check_ops_against_cpu(B& b) {
  Cpu cpu{Cpu::Options{.threads = 1}};
  using T = typename B::Tensor;
  auto up = [&](const HostMatrix& m) { return b.upload(m); };
  auto down = [&](const T& t) { return b.download(t); };

  SUBCASE("linear, with and without bias, odd sizes") {
    for (const auto& [n, k, m] : std::vector<std::array<long, 3>>{{1, 7, 5}, {37, 70, 45}, {64, 128, 96}, {3, 300, 17}}) {
      const HostMatrix x = random_matrix(n, k, 1), w = random_matrix(m, k, 2), bias = random_matrix(1, m, 3);
      HostMatrix ref;
      cpu.linear(x, w, bias, ref);
      T y;
      b.linear(up(x), up(w), up(bias), y);
      check_matches("linear", down(y), ref);
      cpu.linear(x, w, HostMatrix{}, ref);
      b.linear(up(x), up(w), T{}, y);
      check_matches("linear without bias", down(y), ref);
    }
  }
  SUBCASE("add, layer_norm (also in place), rms_norm, softmax, normalize_rows") {
    const HostMatrix x = random_matrix(9, 300, 4, 3.0f), r = random_matrix(9, 300, 5);
    const HostMatrix g = random_matrix(1, 300, 6), be = random_matrix(1, 300, 7);
    HostMatrix ref = x;
    cpu.add(r, ref);
    T y = up(x);
    b.add(up(r), y);
    check_matches("add", down(y), ref);
    cpu.layer_norm(x, g, be, 1e-5f, ref);
    T xt = up(x), out;
    b.layer_norm(xt, up(g), up(be), 1e-5f, out);
    check_matches("layer_norm", down(out), ref);
    b.layer_norm(xt, up(g), up(be), 1e-5f, xt);
    check_matches("layer_norm in place", down(xt), ref);
    cpu.rms_norm(x, g, 1e-6f, ref);
    b.rms_norm(up(x), up(g), 1e-6f, out);
    check_matches("rms_norm", down(out), ref);
    ref = x;
    cpu.softmax(ref);
    xt = up(x);
    b.softmax(xt);
    check_matches("softmax", down(xt), ref);
    ref = x;
    ref.row(2).setZero();
    T zt = up(ref);
    cpu.normalize_rows(ref);
    b.normalize_rows(zt);
    check_matches("normalize_rows (a row of zeros included)", down(zt), ref);
  }
  SUBCASE("activations and scale") {
    const HostMatrix x = random_matrix(13, 77, 8, 4.0f);
    auto check = [&](const char* what, auto cpu_op, auto b_op) {
      HostMatrix ref = x;
      cpu_op(ref);
      T t = up(x);
      b_op(t);
      check_matches(what, down(t), ref);
    };
    check("gelu", [&](HostMatrix& m) { cpu.gelu(m); }, [&](T& t) { b.gelu(t); });
    check("gelu_tanh", [&](HostMatrix& m) { cpu.gelu_tanh(m); }, [&](T& t) { b.gelu_tanh(t); });
    check("relu", [&](HostMatrix& m) { cpu.relu(m); }, [&](T& t) { b.relu(t); });
    check("silu", [&](HostMatrix& m) { cpu.silu(m); }, [&](T& t) { b.silu(t); });
    check("quick_gelu", [&](HostMatrix& m) { cpu.quick_gelu(m); }, [&](T& t) { b.quick_gelu(t); });
    check("scale", [&](HostMatrix& m) { cpu.scale(m, 0.125f); }, [&](T& t) { b.scale(t, 0.125f); });
    HostMatrix ref;
    cpu.swiglu(x.leftCols(76), ref);
    T y;
    b.swiglu(up(HostMatrix(x.leftCols(76))), y);
    check_matches("swiglu", down(y), ref);
  }
  SUBCASE("attention: padding mask, causal with a cache, grouped-query, position bias") {
    // Encoder: batch 2, 5 queries and keys, 2 heads of 8, padding in sequence 1.
    AttentionDims d{.batch = 2, .query_len = 5, .key_len = 5, .heads = 2, .head_dim = 8};
    const HostMatrix q = random_matrix(10, 16, 9), k = random_matrix(10, 16, 10), v = random_matrix(10, 16, 11);
    HostMatrix mask = HostMatrix::Ones(2, 5);
    mask(1, 3) = mask(1, 4) = 0;
    HostMatrix ref;
    cpu.attention(q, k, v, mask, d, ref);
    T y;
    b.attention(up(q), up(k), up(v), up(mask), d, y);
    check_matches("attention with a padding mask", down(y), ref);
    // Decoder step: 2 new queries against 7 of a cache of 12, 4 query heads on 2 kv heads, causal, biased.
    AttentionDims c{.batch = 2, .query_len = 2, .key_len = 7, .heads = 4, .head_dim = 8, .kv_heads = 2,
                    .key_stride = 12, .causal = true, .scale = 1.0f};
    const HostMatrix qc = random_matrix(4, 32, 12), kc = random_matrix(24, 16, 13), vc = random_matrix(24, 16, 14);
    const HostMatrix bias = random_matrix(8, 7, 15);
    cpu.attention(qc, kc, vc, HostMatrix{}, bias, c, ref);
    b.attention(up(qc), up(kc), up(vc), T{}, up(bias), c, y);
    check_matches("causal grouped-query attention on a cache with a bias", down(y), ref);
    // Long keys: more keys than a work-group has items.
    AttentionDims l{.batch = 1, .query_len = 3, .key_len = 300, .heads = 2, .head_dim = 16};
    const HostMatrix ql = random_matrix(3, 32, 16), kl = random_matrix(300, 32, 17), vl = random_matrix(300, 32, 18);
    cpu.attention(ql, kl, vl, HostMatrix{}, l, ref);
    b.attention(up(ql), up(kl), up(vl), T{}, l, y);
    check_matches("attention over 300 keys", down(y), ref);
  }
  SUBCASE("embedding_lookup, masked_mean_pool, add_positions, cache_write, prepend_row") {
    const HostMatrix table = random_matrix(50, 12, 19);
    const std::vector<std::int32_t> ids = {3, 0, 49, 7, 7, 21};
    HostMatrix ref;
    cpu.embedding_lookup(table, cpu.upload_indices(ids), ref);
    T y;
    b.embedding_lookup(up(table), b.upload_indices(ids), y);
    check_matches("embedding_lookup", down(y), ref);
    const std::vector<std::int32_t> bad = {1, 50};
    CHECK_THROWS_AS(b.embedding_lookup(up(table), b.upload_indices(bad), y), std::out_of_range);

    HostMatrix mask = HostMatrix::Ones(2, 3);
    mask(0, 2) = 0;
    HostMatrix pooled;
    cpu.masked_mean_pool(random_matrix(6, 12, 20), mask, pooled);
    b.masked_mean_pool(up(random_matrix(6, 12, 20)), up(mask), y);
    check_matches("masked_mean_pool", down(y), pooled);

    HostMatrix pos = random_matrix(6, 12, 21);
    T pt = up(pos);
    cpu.add_positions(table, 4, 2, 3, pos);
    b.add_positions(up(table), 4, 2, 3, pt);
    check_matches("add_positions", down(pt), pos);

    HostMatrix cache = random_matrix(2 * 8, 12, 22);
    T ct = up(cache);
    const CacheDims cd{.batch = 2, .len = 3, .capacity = 8, .start = 5};
    cpu.cache_write(random_matrix(6, 12, 23), cd, cache);
    b.cache_write(up(random_matrix(6, 12, 23)), cd, ct);
    check_matches("cache_write", down(ct), cache);

    cpu.prepend_row(random_matrix(6, 12, 24), random_matrix(1, 12, 25), 2, ref);
    b.prepend_row(up(random_matrix(6, 12, 24)), up(random_matrix(1, 12, 25)), 2, y);
    check_matches("prepend_row", down(y), ref);
  }
  SUBCASE("rotary, relative_position_bias, argmax_rows") {
    const RotaryDims r{.batch = 2, .len = 3, .heads = 2, .head_dim = 8, .start = 300, .theta = 10000.0f};
    HostMatrix x = random_matrix(6, 16, 26);
    T xt = up(x);
    cpu.rotary(x, r);
    b.rotary(xt, r);
    check_matches("rotary at positions past 256", down(xt), x);

    const HostMatrix table = random_matrix(32, 4, 27);
    for (const auto& rd : {RelativeBiasDims{.query_len = 9, .key_len = 9}, RelativeBiasDims{.query_len = 1, .key_len = 150,
                                                                                           .query_start = 149,
                                                                                           .bidirectional = false}}) {
      HostMatrix ref;
      T y;
      cpu.relative_position_bias(table, rd, ref);
      b.relative_position_bias(up(table), rd, y);
      check_matches("relative_position_bias", down(y), ref);
    }

    HostMatrix logits = random_matrix(5, 1000, 28);
    logits(2, 10) = logits(2, 900) = 5.0f;  // a tie: the first wins
    typename Cpu::IndexTensor cpu_ids;
    typename B::IndexTensor ids;
    cpu.argmax_rows(logits, cpu_ids);
    b.argmax_rows(up(logits), ids);
    CHECK(b.download_indices(ids) == cpu.download_indices(cpu_ids));
    CHECK(b.download_indices(ids)[2] == 10);
  }
  SUBCASE("conv2d (patches and padded 3x3), conv1d (strided, padded, grouped), group_norm") {
    const Conv2dDims p{.batch = 2, .channels = 3, .height = 32, .width = 32, .out_channels = 24, .kernel = 16, .stride = 16};
    const HostMatrix img = random_matrix(2, 3 * 32 * 32, 29), w = random_matrix(24, 3 * 16 * 16, 30, 0.1f);
    const HostMatrix bias = random_matrix(1, 24, 31);
    HostMatrix ref;
    T y;
    cpu.conv2d(img, w, bias, p, ref);
    b.conv2d(up(img), up(w), up(bias), p, y);
    check_matches("conv2d patch embedding", down(y), ref);
    const Conv2dDims s{.batch = 1, .channels = 3, .height = 7, .width = 9, .out_channels = 5, .kernel = 3, .stride = 2,
                       .padding = 1};
    const HostMatrix img2 = random_matrix(1, 3 * 7 * 9, 32), w2 = random_matrix(5, 27, 33);
    cpu.conv2d(img2, w2, HostMatrix{}, s, ref);
    b.conv2d(up(img2), up(w2), T{}, s, y);
    check_matches("conv2d 3x3 stride 2 padding 1", down(y), ref);

    for (const Conv1dDims& c : {Conv1dDims{.batch = 2, .length = 40, .in_channels = 6, .out_channels = 8, .kernel = 3,
                                           .stride = 2, .padding = 1},
                                Conv1dDims{.batch = 2, .length = 33, .in_channels = 8, .out_channels = 8, .kernel = 6,
                                           .stride = 1, .padding = 3, .groups = 4},
                                Conv1dDims{.batch = 1, .length = 100, .in_channels = 1, .out_channels = 4, .kernel = 10,
                                           .stride = 5}}) {
      const HostMatrix x = random_matrix(long(c.batch) * c.length, c.in_channels, 34);
      const HostMatrix wc = random_matrix(c.out_channels, c.in_channels / c.groups * c.kernel, 35);
      const HostMatrix bc = random_matrix(1, c.out_channels, 36);
      cpu.conv1d(x, wc, bc, c, ref);
      b.conv1d(up(x), up(wc), up(bc), c, y);
      check_matches("conv1d", down(y), ref);
    }

    const GroupNormDims gn{.batch = 2, .length = 300, .groups = 3};
    const HostMatrix x = random_matrix(600, 6, 37, 5.0f), g = random_matrix(1, 6, 38), be = random_matrix(1, 6, 39);
    cpu.group_norm(x, g, be, gn, 1e-5f, ref);
    b.group_norm(up(x), up(g), up(be), gn, 1e-5f, y);
    check_matches("group_norm", down(y), ref);
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
/// and checks every cell verified against Cpu within 1e-4.
template <class B, class F>
void check_architecture(const std::string& arch) {
  const RunResult r = Benchmark<B, F>{conformance_config<F>(arch)}.run();
  REQUIRE(r.cells.size() >= 1);
  for (const auto& c : r.cells) {
    INFO(arch << ": " << c.message);
    MESSAGE(arch << " on " << B::name << ": max abs error " << c.verification.max_abs_error << ", cosine "
                 << c.verification.cosine_similarity);
    CHECK(c.status == CellStatus::ok);
    CHECK(c.verification.status == "ok");
    CHECK(c.verification.max_abs_error <= 1e-4);
    CHECK(c.latency.count >= 3);
  }
}

}  // namespace accelbench::test
