#pragma once

// The Cpu backend's EncoderOps: the ops of a transformer encoder, with Eigen
// (see backend/concepts.hpp for what each op computes).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "../hooks.hpp"
#include "backend.hpp"
#include "gemm.hpp"

namespace accelbench {

namespace detail {

inline void check_linear(const HostMatrix& x, Eigen::Index w_rows, Eigen::Index w_cols, const HostMatrix& b) {
  if (x.cols() != w_cols) {
    throw std::invalid_argument("linear: input has " + std::to_string(x.cols()) + " columns, weight expects " +
                                std::to_string(w_cols));
  }
  if (b.size() != 0 && (b.rows() != 1 || b.cols() != w_rows)) {
    throw std::invalid_argument("linear: bias must be [1, " + std::to_string(w_rows) + "]");
  }
}

/// The threads a product of m rows by an [n, k] weight (`element_bytes` a
/// value) runs on: all of them where each gets enough of the weights to
/// read or of the arithmetic (detail::worth_threads), else one. A decode
/// step's products of GPT-2's 768 x 768 weights (2.25 MiB) stay on one
/// thread, its 3072 x 768 ones are split.
[[nodiscard]] inline int linear_threads(int threads, Eigen::Index m, Eigen::Index n, Eigen::Index k,
                                        int element_bytes) {
  return worth_threads(threads, double(n) * double(k) * double(element_bytes), 2.0 * double(m) * double(n) * double(k))
             ? threads
             : 1;
}

#if ACCELBENCH_CPU_GEMM
/// Cpu::linear's product through gemm_nt on `threads` threads, on weights
/// of precision P packed in panels at w ([n, k]), the bias the tiles'
/// starting value. The threads split the outputs (whole panels, so each
/// reads only its share of the weights) or, with fewer panels than to go
/// round, the rows of x.
template <Precision P>
inline void linear_gemm_nt(int threads, const HostMatrix& x, const weight_element_t<P>* w, Eigen::Index n,
                           const HostMatrix& b, HostMatrix& y) {
  using Index = Eigen::Index;
  const Index m = x.rows(), k = x.cols();
  const float* bias = b.size() != 0 ? b.data() : nullptr;
  const auto part = [&](Index m0, Index m1, Index n0, Index n1) {
    gemm_nt<P>(x.data(), k, w, bias, y.data(), n, m0, m1, n0, n1, k);
  };
#if defined(_OPENMP)
  if (threads > 1) {
    const Index panels = panel_count(n);
    const bool split_outputs = panels >= Index{threads} * 4 || m < Index{threads} * GemmSimd::rows;
    const Index parts = threads;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (Index p = 0; p < parts; ++p) {
      if (split_outputs) {
        part(0, m, panels * p / parts * panel_width, std::min(n, panels * (p + 1) / parts * panel_width));
      } else {
        part(m * p / parts, m * (p + 1) / parts, 0, n);
      }
    }
    return;
  }
#else
  (void)threads;
#endif
  part(0, m, 0, n);
}

/// A weight held as a Tensor ([n, k] row-major) from this many rows of x
/// on is packed for the call (this thread's copy) and goes through gemm_nt,
/// where the packing (n x k copies) is small beside the product; fewer rows
/// take Eigen's product. A model's layers hold Cpu::Weight, packed once.
inline constexpr Eigen::Index pack_per_call_rows = 64;
#endif

}  // namespace detail

inline void Cpu::linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  detail::check_linear(x, w.rows(), w.cols(), b);
  y.resize(x.rows(), w.rows());
  set_gemm_threads();
#if ACCELBENCH_CPU_GEMM
  if (x.rows() >= detail::pack_per_call_rows) {
    const Index n = w.rows();
    thread_local std::vector<float> packed;
    packed.resize(static_cast<std::size_t>(detail::packed_size(n, w.cols())));
    detail::pack_panels<Precision::fp32>(w.data(), n, w.cols(), packed.data());
    detail::linear_gemm_nt<Precision::fp32>(detail::linear_threads(threads_, x.rows(), n, w.cols(), 4), x,
                                            packed.data(), n, b, y);
    if (packed.size() > (std::size_t{4} << 20)) std::vector<float>().swap(packed);  // over 16 MiB: not kept
    return;
  }
#endif
  linear_eigen(x, w, b, y);
}

template <class W>
void Cpu::linear_eigen(const Tensor& x, const W& w, const Tensor& b, Tensor& y) {
  // Eigen's product: the bias is its starting value (y += x wᵀ), so it costs
  // no pass of its own over y.
  const Index m = x.rows(), n = w.rows();
  const bool biased = b.size() != 0;
  if (biased) {
    parallel_rows(y.rows(), y.cols(), [&](Index r0, Index r1) { y.middleRows(r0, r1 - r0).rowwise() = b.row(0); });
  }
  const auto product = [&](auto&& out, const auto& weights) {
    if (biased) {
      out.noalias() += x * weights.transpose();
    } else {
      out.noalias() = x * weights.transpose();
    }
  };
#if defined(_OPENMP)
  // A few rows (a decode step) make a matrix-vector product, which Eigen
  // runs on one thread: split the outputs across the threads instead.
  if (m < few_rows && n >= 4 * threads_ && detail::linear_threads(threads_, m, n, w.cols(), 4) > 1) {
    const Index parts = threads_;
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (Index p = 0; p < parts; ++p) {
      const Index o0 = n * p / parts;
      const Index o1 = n * (p + 1) / parts;
      product(y.middleCols(o0, o1 - o0), w.middleRows(o0, o1 - o0));
    }
    return;
  }
#else
  (void)m;
  (void)n;
#endif
  product(y, w);
}

inline void Cpu::linear(const Tensor& x, const Weight& w, const Tensor& b, Tensor& y) {
  detail::check_linear(x, w.rows(), w.cols(), b);
  y.resize(x.rows(), w.rows());
#if ACCELBENCH_CPU_GEMM
  // Every size through gemm_nt on the panels packed at load; 16-bit weights
  // are widened as they are read (a decode step reads half the bytes of
  // fp32's).
  const int threads = detail::linear_threads(threads_, x.rows(), w.rows(), w.cols(), precision_bytes(w.precision()));
  switch (w.precision()) {
    case Precision::fp32:
      return detail::linear_gemm_nt<Precision::fp32>(threads, x, w.fp32_data(), w.rows(), b, y);
    case Precision::bf16:
      return detail::linear_gemm_nt<Precision::bf16>(threads, x, w.bits_data(), w.rows(), b, y);
    case Precision::fp16:
      return detail::linear_gemm_nt<Precision::fp16>(threads, x, w.bits_data(), w.rows(), b, y);
  }
#else
  // The portable path: Eigen's product on the row-major values, 16-bit ones
  // a block of weight rows at a time widened to float.
  set_gemm_threads();
  if (w.precision() == Precision::fp32) {
    return linear_eigen(x, Eigen::Map<const HostMatrix>(w.fp32_data(), w.rows(), w.cols()), b, y);
  }
  constexpr Index block = 256;
  Tensor widened;
  for (Index r0 = 0; r0 < w.rows(); r0 += block) {
    const Index count = std::min(block, w.rows() - r0);
    widened.resize(count, w.cols());
    detail::half_bits_to_floats(w.precision() == Precision::bf16, w.bits_data() + r0 * w.cols(), widened.data(),
                                static_cast<std::size_t>(widened.size()));
    auto out = y.middleCols(r0, count);
    out.noalias() = x * widened.transpose();
    if (b.size() != 0) out.rowwise() += b.row(0).segment(r0, count);
  }
#endif
}

static_assert(HasWeightPrecision<Cpu>, "Cpu stores linear layers' weights at a Precision");

inline void Cpu::add(const Tensor& x, Tensor& y) {
  require_same_shape("add", x, y);
  parallel_rows(y.rows(), y.cols(), [&](Index r0, Index r1) { y.middleRows(r0, r1 - r0) += x.middleRows(r0, r1 - r0); });
}

inline void Cpu::layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y) {
  if (gamma.size() != x.cols() || beta.size() != x.cols()) {
    throw std::invalid_argument("layer_norm: gamma and beta must have " + std::to_string(x.cols()) + " elements");
  }
  if (&x != &y) y.resize(x.rows(), x.cols());
  const float inv_n = 1.0f / static_cast<float>(x.cols());
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const auto xr = x.row(r).array();
      const float mean = xr.sum() * inv_n;
      const float var = (xr - mean).square().sum() * inv_n;
      const float inv_std = 1.0f / std::sqrt(var + eps);
      y.row(r).array() = (xr - mean) * inv_std * gamma.row(0).array() + beta.row(0).array();
    }
  });
}

inline void Cpu::gelu(Tensor& x) {
  constexpr float inv_sqrt2 = 0.70710678118654752440f;
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = 0.5f * a * (1.0f + (a * inv_sqrt2).erf());
  });
}

inline void Cpu::softmax(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) softmax_row(x.row(r));
  });
}

inline void Cpu::attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, const AttentionDims& d,
               Tensor& out) {
  attention(q, k, v, key_mask, no_bias_, d, out);
}

inline void Cpu::embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& out) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= table.rows()) {
      throw std::out_of_range("embedding_lookup: id " + std::to_string(ids[i]) + " at position " +
                              std::to_string(i) + " is outside the table's " + std::to_string(table.rows()) +
                              " rows");
    }
  }
  out.resize(static_cast<Index>(ids.size()), table.cols());
  parallel_rows(out.rows(), out.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) out.row(r) = table.row(ids[static_cast<std::size_t>(r)]);
  });
}

inline void Cpu::masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& out) {
  const Index batch = mask.rows();
  const Index seq = mask.cols();
  if (batch * seq != x.rows()) {
    throw std::invalid_argument("masked_mean_pool: mask is [" + std::to_string(batch) + ", " + std::to_string(seq) +
                                "] but the input has " + std::to_string(x.rows()) + " rows");
  }
  out.resize(batch, x.cols());
  for (Index b = 0; b < batch; ++b) {
    const float count = std::max(mask.row(b).sum(), 1e-9f);
    out.row(b).noalias() = mask.row(b) * x.middleRows(b * seq, seq);
    out.row(b) /= count;
  }
}

}  // namespace accelbench
