#pragma once

// The Cpu backend's GenerationOps: the further ops of text generation, with Eigen
// (see backend/concepts.hpp for what each op computes).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.hpp"
#include "decode_attention.hpp"

namespace accelbench {

inline void Cpu::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
               const Tensor& position_bias, const AttentionDims& d, Tensor& out) {
  check_attention(q, k, v, key_mask, position_bias, d);
  // Eigen's thread count is global: its products below use this backend's
  // (on one thread, not one per core behind the caller's back).
  set_gemm_threads();
  out.resize(q.rows(), q.cols());
  // Additive mask as in transformers: 0 where attended, the lowest float
  // where padded, so a fully padded row still gives a uniform softmax.
  const bool masked = key_mask.size() != 0;
  if (masked) {
    mask_bias_ = (1.0f - key_mask.array()) * std::numeric_limits<float>::lowest();
  }
  const bool biased = position_bias.size() != 0;
  const float scale = d.scale != 0.0f ? d.scale : 1.0f / std::sqrt(static_cast<float>(d.head_dim));
  const Index group = d.heads / d.effective_kv_heads();
  const Index stride = d.effective_key_stride();
  if (d.query_len == 1 && !biased) {
    // A decode step, one query per sequence (decode_attention.hpp): each
    // task takes a block of key-value heads of one sequence and reads the
    // cached keys and values one position at a time, the block's columns of
    // each row side by side (a whole row with one task per sequence), where
    // one head at a time would read its own columns of every row, a row's
    // width apart.
    // A short cache (GPT-2's 129 positions: 0.8 MiB a layer) is read on
    // one thread, where waking a second costs more than it saves.
    const Index kv_heads = d.effective_kv_heads();
    const double keys = double(d.batch) * double(d.end_key(0) - d.first_key(0));
    const int threads = detail::worth_threads(threads_, keys * double(k.cols() + v.cols()) * sizeof(float),
                                              keys * double(d.heads) * double(d.head_dim) * 4.0)
                            ? threads_
                            : 1;
    const Index blocks = std::min(kv_heads, std::max<Index>(1, (threads + d.batch - 1) / d.batch));
    parallel_tasks(static_cast<Index>(d.batch) * blocks, [&](Index task, int thread) {
      const Index b = task / blocks, block = task % blocks;
      detail::DecodeTask t{.q = q.row(b).data(), .k = k.data() + b * stride * k.cols(),
                           .v = v.data() + b * stride * v.cols(), .out = out.row(b).data(),
                           .mask = masked ? mask_bias_.row(b).data() : nullptr, .width = k.cols(),
                           .first = d.first_key(0), .end = d.end_key(0),
                           .h0 = kv_heads * block / blocks * group, .h1 = kv_heads * (block + 1) / blocks * group,
                           .group = group, .head_dim = d.head_dim, .scale = scale};
      detail::decode_attention(t, scratch_[static_cast<std::size_t>(thread)], [](auto&& row) { softmax_row(row); });
    }, threads);
    return;
  }
  const Index tasks = static_cast<Index>(d.batch) * d.heads;
  parallel_tasks(tasks, [&](Index t, int thread) {
    const Index b = t / d.heads;
    const Index h = t % d.heads;
    const Index kv = h / group;
    Tensor& s = scratch_[static_cast<std::size_t>(thread)];
    s.resize(d.query_len, d.key_len);
    const auto qb = q.block(b * d.query_len, h * d.head_dim, d.query_len, d.head_dim);
    const auto kb = k.block(b * stride, kv * d.head_dim, d.key_len, d.head_dim);
    const auto vb = v.block(b * stride, kv * d.head_dim, d.key_len, d.head_dim);
    s.noalias() = (scale * qb) * kb.transpose();
    if (biased) {  // block b % bias_blocks (one block per window position)
      s += position_bias.block(((b % d.bias_blocks) * d.heads + h) * d.query_len, 0, d.query_len, d.key_len);
    }
    if (masked) s.rowwise() += mask_bias_.row(b);
    for (Index r = 0; r < s.rows(); ++r) {
      // Causal: keys up to the query's position; a window drops the older ones.
      const Index first = d.first_key(static_cast<int>(r));
      const Index end = d.end_key(static_cast<int>(r));
      softmax_row(s.row(r).segment(first, end - first));
      s.row(r).head(first).setZero();
      s.row(r).tail(s.cols() - end).setZero();
    }
    out.block(b * d.query_len, h * d.head_dim, d.query_len, d.head_dim).noalias() = s * vb;
  });
}

inline void Cpu::rms_norm(const Tensor& x, const Tensor& gamma, float eps, Tensor& y) {
  if (gamma.size() != x.cols()) {
    throw std::invalid_argument("rms_norm: gamma must have " + std::to_string(x.cols()) + " elements");
  }
  if (&x != &y) y.resize(x.rows(), x.cols());
  const float inv_n = 1.0f / static_cast<float>(x.cols());
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const float inv_rms = 1.0f / std::sqrt(x.row(r).squaredNorm() * inv_n + eps);
      y.row(r).array() = x.row(r).array() * inv_rms * gamma.row(0).array();
    }
  });
}

inline void Cpu::gelu_tanh(Tensor& x) {
  constexpr float sqrt_2_over_pi = 0.79788456080286535588f;
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = 0.5f * a * (1.0f + (sqrt_2_over_pi * (a + 0.044715f * a.cube())).tanh());
  });
}

inline void Cpu::relu(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = a.max(0.0f);
  });
}

inline void Cpu::silu(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = a / (1.0f + (-a).exp());
  });
}

inline void Cpu::swiglu(const Tensor& x, Tensor& y) {
  if (x.cols() % 2 != 0) {
    throw std::invalid_argument("swiglu: input has " + std::to_string(x.cols()) + " columns, not an even number");
  }
  const Index half = x.cols() / 2;
  y.resize(x.rows(), half);
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    const auto gate = x.block(r0, 0, r1 - r0, half).array();
    const auto up = x.block(r0, half, r1 - r0, half).array();
    y.middleRows(r0, r1 - r0).array() = gate / (1.0f + (-gate).exp()) * up;
  });
}

inline void Cpu::geglu_tanh(const Tensor& x, Tensor& y) {
  if (x.cols() % 2 != 0) {
    throw std::invalid_argument("geglu_tanh: input has " + std::to_string(x.cols()) + " columns, not an even number");
  }
  constexpr float sqrt_2_over_pi = 0.79788456080286535588f;
  const Index half = x.cols() / 2;
  y.resize(x.rows(), half);
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    const auto gate = x.block(r0, 0, r1 - r0, half).array();
    const auto up = x.block(r0, half, r1 - r0, half).array();
    y.middleRows(r0, r1 - r0).array() =
        0.5f * gate * (1.0f + (sqrt_2_over_pi * (gate + 0.044715f * gate.cube())).tanh()) * up;
  });
}

inline void Cpu::scale(Tensor& x, float s) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) { x.middleRows(r0, r1 - r0) *= s; });
}

inline void Cpu::rotary(Tensor& x, const RotaryDims& r) {
  if (r.head_dim <= 0 || r.head_dim % 2 != 0 || r.heads <= 0 || r.batch <= 0 || r.len <= 0 || r.start < 0) {
    throw std::invalid_argument("rotary: head_dim must be even and every dimension positive");
  }
  if (x.rows() != Index{r.batch} * r.len || x.cols() != Index{r.heads} * r.head_dim) {
    throw std::invalid_argument("rotary: input must be [batch * len, heads * head_dim]");
  }
  const RotaryTable& table = rotary_table(r, r.start + r.len);
  const Index half = r.head_dim / 2;
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index row = r0; row < r1; ++row) {
      const Index pos = r.start + row % r.len;
      const auto cos = table.cos.row(pos).array();
      const auto sin = table.sin.row(pos).array();
      for (Index h = 0; h < r.heads; ++h) {
        auto x1 = x.row(row).segment(h * r.head_dim, half).array();
        auto x2 = x.row(row).segment(h * r.head_dim + half, half).array();
        for (Index j = 0; j < half; ++j) {
          const float a = x1(j);
          const float b = x2(j);
          x1(j) = a * cos(j) - b * sin(j);
          x2(j) = b * cos(j) + a * sin(j);
        }
      }
    }
  });
}

inline void Cpu::add_positions(const Tensor& table, int start, int batch, int len, Tensor& y) {
  if (start < 0 || start + len > table.rows()) {
    throw std::out_of_range("add_positions: positions " + std::to_string(start) + ".." +
                            std::to_string(start + len - 1) + " are outside the table's " +
                            std::to_string(table.rows()) + " rows");
  }
  if (y.rows() != Index{batch} * len || y.cols() != table.cols()) {
    throw std::invalid_argument("add_positions: output must be [batch * len, " + std::to_string(table.cols()) + "]");
  }
  for (Index b = 0; b < batch; ++b) y.middleRows(b * len, len) += table.middleRows(start, len);
}

inline void Cpu::cache_write(const Tensor& x, const CacheDims& c, Tensor& cache) {
  if (x.rows() != Index{c.batch} * c.len || cache.rows() != Index{c.batch} * c.capacity || x.cols() != cache.cols()) {
    throw std::invalid_argument("cache_write: new rows must be [batch * len, width] and the cache [batch * capacity, width]");
  }
  if (c.start < 0 || c.start + c.len > c.capacity) {
    throw std::out_of_range("cache_write: rows " + std::to_string(c.start) + ".." + std::to_string(c.start + c.len - 1) +
                            " exceed the cache's capacity of " + std::to_string(c.capacity));
  }
  for (Index b = 0; b < c.batch; ++b) {
    cache.middleRows(b * c.capacity + c.start, c.len) = x.middleRows(b * c.len, c.len);
  }
}

inline void Cpu::relative_position_bias(const Tensor& table, const RelativeBiasDims& r, Tensor& out) {
  if (table.rows() != r.num_buckets) {
    throw std::invalid_argument("relative_position_bias: the table has " + std::to_string(table.rows()) +
                                " rows, not num_buckets = " + std::to_string(r.num_buckets));
  }
  const Index heads = table.cols();
  out.resize(heads * r.query_len, r.key_len);
  for (Index i = 0; i < r.query_len; ++i) {
    for (Index j = 0; j < r.key_len; ++j) {
      const int bucket = t5_relative_bucket(static_cast<int>(j - (r.query_start + i)), r.bidirectional,
                                            r.num_buckets, r.max_distance);
      for (Index h = 0; h < heads; ++h) out(h * r.query_len + i, j) = table(bucket, h);
    }
  }
}

inline void Cpu::argmax_rows(const Tensor& x, IndexTensor& ids) {
  ids.resize(static_cast<std::size_t>(x.rows()));
  for (Index r = 0; r < x.rows(); ++r) {
    Index best = 0;
    x.row(r).maxCoeff(&best);
    ids[static_cast<std::size_t>(r)] = static_cast<std::int32_t>(best);
  }
}

}  // namespace accelbench
