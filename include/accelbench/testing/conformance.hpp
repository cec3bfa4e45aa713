#pragma once

// Conformance of a backend to the Cpu reference, for a backend's own test
// suite: every op of the op sets the backend has, on random inputs, against
// the same op on Cpu; and an architecture end to end, through
// Benchmark<B, F> with its verification against Cpu. Framework-neutral:
// each check reports a CheckResult (its name, whether it passed, the error
// figures) to a callback, or the results are collected in a list.
//
//   accelbench::OpenCL backend;
//   for (const auto& r : accelbench::testing::check_ops(backend)) {
//     if (!r.passed) std::cerr << r.name << ": " << r.detail << '\n';
//   }
//
// docs/writing-a-backend.md describes the checks and their tolerances.

#include <array>
#include <cstdint>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../backend/concepts.hpp"
#include "../backend/cpu.hpp"
#include "../core/config.hpp"
#include "../core/result.hpp"
#include "../run/benchmark.hpp"
#include "checker.hpp"
#include "conformance_detection.hpp"

namespace accelbench::testing {

/// linear on weights stored in bf16 and fp16 (HasWeightPrecision): against
/// Cpu's on the same rounded weights, fp16 subnormals included; with
/// HasHalfWeights, weights given as their 16 bits too.
template <class B>
void check_linear_at_precisions(B& b, Cpu& cpu, Checker& chk) {
  using T = typename B::Tensor;
  for (const Precision p : {Precision::bf16, Precision::fp16}) {
    const std::string name = "linear on " + std::string(precision_name(p)) + " weights";
    for (const auto& [n, k, m] : std::vector<std::array<long, 3>>{{1, 7, 5}, {8, 70, 45}, {37, 70, 45}, {64, 128, 96}}) {
      const HostMatrix x = random_matrix(n, k, 11), bias = random_matrix(1, m, 13);
      HostMatrix w = random_matrix(m, k, 12);
      w.row(0) *= 1e-6f;  // below fp16's smallest normal, 2^-14
      const CpuWeight rounded = Cpu::upload_weight(w, p);
      HostMatrix ref;
      cpu.linear(x, rounded, bias, ref);
      T y;
      b.linear(b.upload(x), b.upload_weight(w, p), b.upload(bias), y);
      chk.matches(name, b.download(y), ref);
      if constexpr (HasHalfWeights<B>) {
        const HalfBitsMatrix bits = rounded.to_bits();
        cpu.linear(x, rounded, HostMatrix{}, ref);
        b.linear(b.upload(x), b.upload_weight_bits(p, bits), T{}, y);
        chk.matches(name + " given as bits, without bias", b.download(y), ref);
      }
    }
  }
}

/// linear with and without bias, at odd sizes (EncoderOps); at bf16 and
/// fp16 where B stores weights at a precision.
template <class B>
void check_linear(B& b, Checker& chk) {
  if constexpr (EncoderOps<B>) {
    Cpu cpu{Cpu::Options{.threads = 1}};
    using T = typename B::Tensor;
    [[maybe_unused]] auto up = [&](const HostMatrix& m) { return b.upload(m); };
    [[maybe_unused]] auto down = [&](const T& t) { return b.download(t); };
    for (const auto& [n, k, m] : std::vector<std::array<long, 3>>{{1, 7, 5}, {37, 70, 45}, {64, 128, 96}, {3, 300, 17}}) {
      const HostMatrix x = random_matrix(n, k, 1), w = random_matrix(m, k, 2), bias = random_matrix(1, m, 3);
      HostMatrix ref;
      cpu.linear(x, w, bias, ref);
      T y;
      b.linear(up(x), up(w), up(bias), y);
      chk.matches("linear", down(y), ref);
      cpu.linear(x, w, HostMatrix{}, ref);
      b.linear(up(x), up(w), T{}, y);
      chk.matches("linear without bias", down(y), ref);
    }
    if constexpr (HasWeightPrecision<B>) check_linear_at_precisions(b, cpu, chk);
  }
}

/// add, layer_norm (also in place), softmax; rms_norm where B has GenerationOps, normalize_rows
/// where it has PerceptionOps.
template <class B>
void check_norms(B& b, Checker& chk) {
  if constexpr (EncoderOps<B>) {
    Cpu cpu{Cpu::Options{.threads = 1}};
    using T = typename B::Tensor;
    [[maybe_unused]] auto up = [&](const HostMatrix& m) { return b.upload(m); };
    [[maybe_unused]] auto down = [&](const T& t) { return b.download(t); };
    const HostMatrix x = random_matrix(9, 300, 4, 3.0f), r = random_matrix(9, 300, 5);
    const HostMatrix g = random_matrix(1, 300, 6), be = random_matrix(1, 300, 7);
    HostMatrix ref = x;
    cpu.add(r, ref);
    T y = up(x);
    b.add(up(r), y);
    chk.matches("add", down(y), ref);
    cpu.layer_norm(x, g, be, 1e-5f, ref);
    T xt = up(x), out;
    b.layer_norm(xt, up(g), up(be), 1e-5f, out);
    chk.matches("layer_norm", down(out), ref);
    b.layer_norm(xt, up(g), up(be), 1e-5f, xt);
    chk.matches("layer_norm in place", down(xt), ref);
    if constexpr (GenerationOps<B>) {
      cpu.rms_norm(x, g, 1e-6f, ref);
      b.rms_norm(up(x), up(g), 1e-6f, out);
      chk.matches("rms_norm", down(out), ref);
    }
    ref = x;
    cpu.softmax(ref);
    xt = up(x);
    b.softmax(xt);
    chk.matches("softmax", down(xt), ref);
    if constexpr (PerceptionOps<B>) {
      ref = x;
      ref.row(2).setZero();
      T zt = up(ref);
      cpu.normalize_rows(ref);
      b.normalize_rows(zt);
      chk.matches("normalize_rows (a row of zeros included)", down(zt), ref);
    }
  }
}

/// gelu; gelu_tanh, relu, silu, scale, swiglu, geglu_tanh where B has GenerationOps; quick_gelu where it
/// has PerceptionOps.
template <class B>
void check_activations(B& b, Checker& chk) {
  if constexpr (EncoderOps<B>) {
    Cpu cpu{Cpu::Options{.threads = 1}};
    using T = typename B::Tensor;
    [[maybe_unused]] auto up = [&](const HostMatrix& m) { return b.upload(m); };
    [[maybe_unused]] auto down = [&](const T& t) { return b.download(t); };
    const HostMatrix x = random_matrix(13, 77, 8, 4.0f);
    auto check = [&](const char* what, auto cpu_op, auto b_op) {
      HostMatrix ref = x;
      cpu_op(ref);
      T t = up(x);
      b_op(t);
      chk.matches(what, down(t), ref);
    };
    check("gelu", [&](HostMatrix& m) { cpu.gelu(m); }, [&](T& t) { b.gelu(t); });
    if constexpr (GenerationOps<B>) {
      check("gelu_tanh", [&](HostMatrix& m) { cpu.gelu_tanh(m); }, [&](T& t) { b.gelu_tanh(t); });
      check("relu", [&](HostMatrix& m) { cpu.relu(m); }, [&](T& t) { b.relu(t); });
      check("silu", [&](HostMatrix& m) { cpu.silu(m); }, [&](T& t) { b.silu(t); });
    }
    if constexpr (PerceptionOps<B>) {
      check("quick_gelu", [&](HostMatrix& m) { cpu.quick_gelu(m); }, [&](T& t) { b.quick_gelu(t); });
    }
    if constexpr (GenerationOps<B>) {
      check("scale", [&](HostMatrix& m) { cpu.scale(m, 0.125f); }, [&](T& t) { b.scale(t, 0.125f); });
      HostMatrix ref;
      cpu.swiglu(x.leftCols(76), ref);
      T y;
      b.swiglu(up(HostMatrix(x.leftCols(76))), y);
      chk.matches("swiglu", down(y), ref);
      cpu.geglu_tanh(x.leftCols(76), ref);
      b.geglu_tanh(up(HostMatrix(x.leftCols(76))), y);
      chk.matches("geglu_tanh", down(y), ref);
    }
  }
}

/// attention with a padding mask and over 300 keys; causal grouped-query attention on a
/// cache with a position bias, and sliding windows (short, and over 300 keys), where B
/// has GenerationOps; a bias per window (AttentionDims::bias_blocks) where it has WindowOps.
template <class B>
void check_attention(B& b, Checker& chk) {
  if constexpr (EncoderOps<B>) {
    Cpu cpu{Cpu::Options{.threads = 1}};
    using T = typename B::Tensor;
    [[maybe_unused]] auto up = [&](const HostMatrix& m) { return b.upload(m); };
    [[maybe_unused]] auto down = [&](const T& t) { return b.download(t); };
    // Encoder: batch 2, 5 queries and keys, 2 heads of 8, padding in sequence 1.
    AttentionDims d{.batch = 2, .query_len = 5, .key_len = 5, .heads = 2, .head_dim = 8};
    const HostMatrix q = random_matrix(10, 16, 9), k = random_matrix(10, 16, 10), v = random_matrix(10, 16, 11);
    HostMatrix mask = HostMatrix::Ones(2, 5);
    mask(1, 3) = mask(1, 4) = 0;
    HostMatrix ref;
    cpu.attention(q, k, v, mask, d, ref);
    T y;
    b.attention(up(q), up(k), up(v), up(mask), d, y);
    chk.matches("attention with a padding mask", down(y), ref);
    // Decoder step: 2 new queries against 7 of a cache of 12, 4 query heads on 2 kv heads, causal, biased.
    if constexpr (GenerationOps<B>) {
      AttentionDims c{.batch = 2, .query_len = 2, .key_len = 7, .heads = 4, .head_dim = 8, .kv_heads = 2,
                      .key_stride = 12, .causal = true, .scale = 1.0f};
      const HostMatrix qc = random_matrix(4, 32, 12), kc = random_matrix(24, 16, 13), vc = random_matrix(24, 16, 14);
      const HostMatrix bias = random_matrix(8, 7, 15);
      cpu.attention(qc, kc, vc, HostMatrix{}, bias, c, ref);
      b.attention(up(qc), up(kc), up(vc), T{}, up(bias), c, y);
      chk.matches("causal grouped-query attention on a cache with a bias", down(y), ref);
      // Sliding windows: a prefill of 9 seeing the last 3 positions, and 4
      // queries (heads of 64) against 300 of a cache of 310 seeing the last 257.
      AttentionDims w{.batch = 2, .query_len = 9, .key_len = 9, .heads = 4, .head_dim = 8, .kv_heads = 2,
                      .key_stride = 12, .causal = true, .window = 3};
      const HostMatrix qw = random_matrix(18, 32, 19);
      cpu.attention(qw, kc, vc, HostMatrix{}, HostMatrix{}, w, ref);
      b.attention(up(qw), up(kc), up(vc), T{}, T{}, w, y);
      chk.matches("causal attention with a sliding window of 3", down(y), ref);
      AttentionDims wl{.batch = 1, .query_len = 4, .key_len = 300, .heads = 4, .head_dim = 64, .kv_heads = 2,
                       .key_stride = 310, .causal = true, .window = 257};
      const HostMatrix qwl = random_matrix(4, 256, 20), kwl = random_matrix(310, 128, 21),
                       vwl = random_matrix(310, 128, 22);
      cpu.attention(qwl, kwl, vwl, HostMatrix{}, HostMatrix{}, wl, ref);
      b.attention(up(qwl), up(kwl), up(vwl), T{}, T{}, wl, y);
      chk.matches("causal attention with a sliding window of 257 over 300 keys", down(y), ref);
    }
    // Windows (Swin): 6 windows of 4 tokens, 2 heads, a bias block per window position, 3 positions.
    if constexpr (WindowOps<B>) {
      AttentionDims s{.batch = 6, .query_len = 4, .key_len = 4, .heads = 2, .head_dim = 8, .bias_blocks = 3};
      const HostMatrix qs = random_matrix(24, 16, 23), ks = random_matrix(24, 16, 24), vs = random_matrix(24, 16, 25);
      const HostMatrix bias = random_matrix(3 * 2 * 4, 4, 26, 2.0f);
      cpu.attention(qs, ks, vs, HostMatrix{}, bias, s, ref);
      b.attention(up(qs), up(ks), up(vs), T{}, up(bias), s, y);
      chk.matches("attention with a bias per window (bias_blocks 3)", down(y), ref);
    }
    // Long keys: more keys than a work-group has items, and (heads of 64)
    // more than a GPU kernel holds in shared memory at once.
    AttentionDims l{.batch = 1, .query_len = 3, .key_len = 300, .heads = 2, .head_dim = 64};
    const HostMatrix ql = random_matrix(3, 128, 16), kl = random_matrix(300, 128, 17), vl = random_matrix(300, 128, 18);
    cpu.attention(ql, kl, vl, HostMatrix{}, l, ref);
    b.attention(up(ql), up(kl), up(vl), T{}, l, y);
    chk.matches("attention over 300 keys", down(y), ref);
  }
}

/// embedding_lookup (and its rejection of an id past the table), masked_mean_pool;
/// add_positions and cache_write where B has GenerationOps; prepend_row where it has PerceptionOps.
template <class B>
void check_indexing(B& b, Checker& chk) {
  if constexpr (EncoderOps<B>) {
    Cpu cpu{Cpu::Options{.threads = 1}};
    using T = typename B::Tensor;
    [[maybe_unused]] auto up = [&](const HostMatrix& m) { return b.upload(m); };
    [[maybe_unused]] auto down = [&](const T& t) { return b.download(t); };
    const HostMatrix table = random_matrix(50, 12, 19);
    const std::vector<std::int32_t> ids = {3, 0, 49, 7, 7, 21};
    HostMatrix ref;
    cpu.embedding_lookup(table, cpu.upload_indices(ids), ref);
    T y;
    b.embedding_lookup(up(table), b.upload_indices(ids), y);
    chk.matches("embedding_lookup", down(y), ref);
    const std::vector<std::int32_t> bad = {1, 50};
    chk.template throws<std::out_of_range>("embedding_lookup rejects an id past the table",
                                           [&] { b.embedding_lookup(up(table), b.upload_indices(bad), y); });

    HostMatrix mask = HostMatrix::Ones(2, 3);
    mask(0, 2) = 0;
    HostMatrix pooled;
    cpu.masked_mean_pool(random_matrix(6, 12, 20), mask, pooled);
    b.masked_mean_pool(up(random_matrix(6, 12, 20)), up(mask), y);
    chk.matches("masked_mean_pool", down(y), pooled);

    if constexpr (GenerationOps<B>) {
      HostMatrix pos = random_matrix(6, 12, 21);
      T pt = up(pos);
      cpu.add_positions(table, 4, 2, 3, pos);
      b.add_positions(up(table), 4, 2, 3, pt);
      chk.matches("add_positions", down(pt), pos);

      HostMatrix cache = random_matrix(2 * 8, 12, 22);
      T ct = up(cache);
      const CacheDims cd{.batch = 2, .len = 3, .capacity = 8, .start = 5};
      cpu.cache_write(random_matrix(6, 12, 23), cd, cache);
      b.cache_write(up(random_matrix(6, 12, 23)), cd, ct);
      chk.matches("cache_write", down(ct), cache);
    }

    if constexpr (PerceptionOps<B>) {
      cpu.prepend_row(random_matrix(6, 12, 24), random_matrix(1, 12, 25), 2, ref);
      b.prepend_row(up(random_matrix(6, 12, 24)), up(random_matrix(1, 12, 25)), 2, y);
      chk.matches("prepend_row", down(y), ref);
    }
  }
}

/// rotary, relative_position_bias and argmax_rows (GenerationOps).
template <class B>
void check_positions(B& b, Checker& chk) {
  if constexpr (GenerationOps<B>) {
    Cpu cpu{Cpu::Options{.threads = 1}};
    using T = typename B::Tensor;
    [[maybe_unused]] auto up = [&](const HostMatrix& m) { return b.upload(m); };
    [[maybe_unused]] auto down = [&](const T& t) { return b.download(t); };
    const RotaryDims r{.batch = 2, .len = 3, .heads = 2, .head_dim = 8, .start = 300, .theta = 10000.0f};
    HostMatrix x = random_matrix(6, 16, 26);
    T xt = up(x);
    cpu.rotary(x, r);
    b.rotary(xt, r);
    chk.matches("rotary at positions past 256", down(xt), x);
    for (const RotaryDims& scaled :
         {RotaryDims{.batch = 1, .len = 4, .heads = 2, .head_dim = 8, .start = 5, .theta = 10000.0f,
                     .scaling = RotaryScaling::linear, .factor = 3.0f},
          RotaryDims{.batch = 1, .len = 4, .heads = 2, .head_dim = 16, .start = 40, .theta = 10000.0f,
                     .scaling = RotaryScaling::llama3, .factor = 8.0f, .low_freq_factor = 1.0f,
                     .high_freq_factor = 4.0f, .original_max_positions = 64}}) {
      HostMatrix xs = random_matrix(4, 2 * scaled.head_dim, 28);
      T xst = up(xs);
      cpu.rotary(xs, scaled);
      b.rotary(xst, scaled);
      chk.matches(scaled.scaling == RotaryScaling::linear ? "rotary, linear scaling" : "rotary, llama3 scaling",
                  down(xst), xs);
    }

    const HostMatrix table = random_matrix(32, 4, 27);
    for (const auto& rd : {RelativeBiasDims{.query_len = 9, .key_len = 9}, RelativeBiasDims{.query_len = 1, .key_len = 150,
                                                                                           .query_start = 149,
                                                                                           .bidirectional = false}}) {
      HostMatrix ref;
      T y;
      cpu.relative_position_bias(table, rd, ref);
      b.relative_position_bias(up(table), rd, y);
      chk.matches("relative_position_bias", down(y), ref);
    }

    HostMatrix logits = random_matrix(5, 1000, 28);
    logits(2, 10) = logits(2, 900) = 5.0f;  // a tie: the first wins
    typename Cpu::IndexTensor cpu_ids;
    typename B::IndexTensor ids;
    cpu.argmax_rows(logits, cpu_ids);
    b.argmax_rows(up(logits), ids);
    chk.expect("argmax_rows", b.download_indices(ids) == cpu.download_indices(cpu_ids), "indices differ from Cpu's");
    chk.expect("argmax_rows takes the first of a tie", b.download_indices(ids).at(2) == 10, "row 2 did not answer 10");
  }
}

/// conv2d (patches and a padded 3x3), conv1d (strided, padded, grouped) and group_norm
/// (PerceptionOps).
template <class B>
void check_convolutions(B& b, Checker& chk) {
  if constexpr (PerceptionOps<B>) {
    Cpu cpu{Cpu::Options{.threads = 1}};
    using T = typename B::Tensor;
    [[maybe_unused]] auto up = [&](const HostMatrix& m) { return b.upload(m); };
    [[maybe_unused]] auto down = [&](const T& t) { return b.download(t); };
    const Conv2dDims p{.batch = 2, .channels = 3, .height = 32, .width = 32, .out_channels = 24, .kernel = 16, .stride = 16};
    const HostMatrix img = random_matrix(2, 3 * 32 * 32, 29), w = random_matrix(24, 3 * 16 * 16, 30, 0.1f);
    const HostMatrix bias = random_matrix(1, 24, 31);
    HostMatrix ref;
    T y;
    cpu.conv2d(img, w, bias, p, ref);
    b.conv2d(up(img), up(w), up(bias), p, y);
    chk.matches("conv2d patch embedding", down(y), ref);
    const Conv2dDims s{.batch = 1, .channels = 3, .height = 7, .width = 9, .out_channels = 5, .kernel = 3, .stride = 2,
                       .padding = 1};
    const HostMatrix img2 = random_matrix(1, 3 * 7 * 9, 32), w2 = random_matrix(5, 27, 33);
    cpu.conv2d(img2, w2, HostMatrix{}, s, ref);
    b.conv2d(up(img2), up(w2), T{}, s, y);
    chk.matches("conv2d 3x3 stride 2 padding 1", down(y), ref);

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
      chk.matches("conv1d", down(y), ref);
    }

    const GroupNormDims gn{.batch = 2, .length = 300, .groups = 3};
    const HostMatrix x = random_matrix(600, 6, 37, 5.0f), g = random_matrix(1, 6, 38), be = random_matrix(1, 6, 39);
    cpu.group_norm(x, g, be, gn, 1e-5f, ref);
    b.group_norm(up(x), up(g), up(be), gn, 1e-5f, y);
    chk.matches("group_norm", down(y), ref);
  }
}

/// Every check above, and check_detection (conformance_detection.hpp, with
/// check_windows), that B's op sets allow, each result to `sink`.
template <class B>
void check_ops(B& backend, const CheckSink& sink, double tolerance = 2e-5) {
  Checker chk(sink, tolerance);
  check_linear(backend, chk);
  check_norms(backend, chk);
  check_activations(backend, chk);
  check_attention(backend, chk);
  check_indexing(backend, chk);
  check_positions(backend, chk);
  check_convolutions(backend, chk);
  check_detection(backend, chk);
}

/// The results of check_ops, in order.
template <class B>
[[nodiscard]] std::vector<CheckResult> check_ops(B& backend, double tolerance = 2e-5) {
  std::vector<CheckResult> out;
  check_ops(backend, [&](const CheckResult& r) { out.push_back(r); }, tolerance);
  return out;
}

/// Runs family F on B through Benchmark<B, F> with `config` (a small sweep
/// over a checkpoint or synthetic weights) and checks that it has cells and
/// that each is ok, verified against Cpu with a largest error of at most
/// `max_abs_error`, with at least `min_samples` latency samples.
template <class B, class F>
void check_architecture(const Config& config, const CheckSink& sink, double max_abs_error = 1e-4,
                        std::size_t min_samples = 3) {
  Checker chk(sink);
  RunResult r;
  try {
    r = Benchmark<B, F>{config}.run();
  } catch (const std::exception& e) {
    chk.report(config.model + " on " + std::string(B::name), false, std::string("the run threw: ") + e.what());
    return;
  }
  const std::string where = (r.models.empty() ? config.model : r.models.front().name) + " on " + std::string(B::name);
  chk.expect(where + ": cells", !r.cells.empty(), "the sweep has no cell");
  for (std::size_t i = 0; i < r.cells.size(); ++i) {
    const CellResult& c = r.cells[i];
    const std::string cell = where + ": cell " + std::to_string(i);
    std::ostringstream figures;
    figures << "max abs error " << c.verification.max_abs_error << ", cosine " << c.verification.cosine_similarity;
    chk.expect(cell + " status ok", c.status == CellStatus::ok, "status is not ok: " + c.message);
    chk.expect(cell + " verified against Cpu", c.verification.status == "ok",
               "verification " + c.verification.status + ": " + figures.str());
    chk.report(cell + " error within " + std::to_string(max_abs_error), c.verification.max_abs_error <= max_abs_error,
               figures.str());
    chk.expect(cell + " sampled", c.latency.count >= min_samples,
               std::to_string(c.latency.count) + " samples, fewer than " + std::to_string(min_samples));
  }
}

/// The results of check_architecture, in order.
template <class B, class F>
[[nodiscard]] std::vector<CheckResult> check_architecture(const Config& config, double max_abs_error = 1e-4,
                                                          std::size_t min_samples = 3) {
  std::vector<CheckResult> out;
  check_architecture<B, F>(config, [&](const CheckResult& r) { out.push_back(r); }, max_abs_error, min_samples);
  return out;
}

/// The failed results of a list.
[[nodiscard]] inline std::vector<CheckResult> failures(const std::vector<CheckResult>& results) {
  std::vector<CheckResult> out;
  for (const auto& r : results) {
    if (!r.passed) out.push_back(r);
  }
  return out;
}

}  // namespace accelbench::testing
