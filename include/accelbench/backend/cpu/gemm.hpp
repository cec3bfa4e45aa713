#pragma once

// The Cpu backend's matrix product for linear layers, y = x wᵀ + b, with x
// [m, k] and y [m, n] row-major and the weight w [n, k] packed once, when it
// is loaded, into panels (pack_panels): panel j holds weight rows [j x
// panel_width, (j + 1) x panel_width) as k rows of panel_width values, the
// values of one input position side by side. A tile of R rows of x by one
// panel then keeps R x 2 vector accumulators in registers: each step reads
// one row of the panel (two vectors of outputs) and broadcasts R values of x
// against it, so no sum is ever reduced across lanes and the bias is the
// accumulators' starting value.
//
// For more than one row, x is copied a block at a time (gemm_block_rows rows
// by gemm_depth values of k) into the order the tile reads it, R values per
// step side by side; one panel's gemm_depth rows (32 KiB at fp32 with
// AVX-512) then stay in the L1 cache while every tile of the block passes.
// A single row of x (a decode step) is read as it is, and each panel is
// streamed once from memory, contiguous: at the speed one core reads.
//
// Weights stored as bf16 or fp16 (Precision) are packed in panels of their
// 16 bits and widened to float in the tile as they are read, so a decode
// step reads half the bytes; a bf16 panel row interleaves its two halves
// (even positions the first panel_width / 2 outputs, odd the rest), so that
// a shift and a mask widen a whole cache line. Products and sums are fp32.
//
// Compiled for AVX-512 (16 lanes: panels of 32 outputs, 12 x 2 tiles) or
// AVX2 with FMA (8 lanes: panels of 16, 6 x 2 tiles); without either,
// ACCELBENCH_CPU_GEMM is 0, weights stay row-major and Cpu::linear keeps
// Eigen's product (the portable reference).

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define ACCELBENCH_CPU_GEMM 1
#include <immintrin.h>
#else
#define ACCELBENCH_CPU_GEMM 0
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../../core/precision.hpp"
#include "../../detail/half.hpp"

namespace accelbench::detail {

/// How a weight of precision P is stored: a float, or the 16 bits of a bf16
/// or fp16 value.
template <Precision P>
using weight_element_t = std::conditional_t<P == Precision::fp32, float, std::uint16_t>;

#if ACCELBENCH_CPU_GEMM

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
// GCC 12's AVX-512 intrinsics start some results from a self-initialised
// "undefined" vector, which -Wuninitialized reports once they are inlined
// here (GCC bug 105593, fixed in GCC 13); the values are never read.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define ACCELBENCH_GEMM_DIAGNOSTICS_PUSHED 1
#endif

#if defined(__AVX512F__)
struct GemmSimd {
  using V = __m512;
  using I = __m512i;
  static constexpr int width = 16;
  static constexpr int rows = 12;  // 24 accumulators, a panel row's 2 vectors and a broadcast: 27 of 32 registers
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  /// The first `count` (< width) floats at p, zeros after; nothing past them is read.
  static V load_first(const float* p, int count) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1u), p);
  }
  /// The first `count` (<= width) lanes of v to p; nothing past them is written.
  static void store_first(float* p, V v, int count) {
    if (count == width) return _mm512_storeu_ps(p, v);
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << count) - 1u), v);
  }
  static V broadcast(float v) { return _mm512_set1_ps(v); }
  /// 2 x width 16-bit values at p, as they are.
  static I load_pairs(const std::uint16_t* p) { return _mm512_loadu_si512(p); }
  /// The floats of the even-numbered and of the odd-numbered bf16 values of
  /// a pair load (each 32-bit lane holds one of each): in-lane shifts and
  /// masks, cheaper than widening the values in order.
  static V even_bf16(I v) { return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)); }
  static V odd_bf16(I v) { return _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(-65536))); }
  /// `width` fp16 values at p, as floats.
  static V load_fp16(const std::uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
};
#else
struct GemmSimd {
  using V = __m256;
  using I = __m256i;
  static constexpr int width = 8;
  static constexpr int rows = 6;  // 12 accumulators, a panel row's 2 vectors and a broadcast: 15 of 16 registers
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static __m256i first_lanes(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V load_first(const float* p, int count) { return _mm256_maskload_ps(p, first_lanes(count)); }
  static void store_first(float* p, V v, int count) {
    if (count == width) return _mm256_storeu_ps(p, v);
    _mm256_maskstore_ps(p, first_lanes(count), v);
  }
  static V broadcast(float v) { return _mm256_set1_ps(v); }
  static I load_pairs(const std::uint16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static V even_bf16(I v) { return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)); }
  static V odd_bf16(I v) { return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(-65536))); }
  static V load_fp16(const std::uint16_t* p) {
#if defined(__F16C__)
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#else
    alignas(32) float f[width];
    for (int i = 0; i < width; ++i) f[i] = f16_bits_to_float(p[i]);
    return _mm256_load_ps(f);
#endif
  }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
};
#endif

/// Outputs (weight rows) per panel: two vectors.
inline constexpr std::ptrdiff_t panel_width = 2 * GemmSimd::width;

/// Panels holding n outputs.
[[nodiscard]] constexpr std::ptrdiff_t panel_count(std::ptrdiff_t n) noexcept {
  return (n + panel_width - 1) / panel_width;
}

/// Values a packed [n, k] weight holds (the last panel padded with zeros).
[[nodiscard]] constexpr std::ptrdiff_t packed_size(std::ptrdiff_t n, std::ptrdiff_t k) noexcept {
  return panel_count(n) * k * panel_width;
}

/// Where output c (0 <= c < panel_width) of a panel row sits: in order, or
/// for bf16 the first half at even positions and the second at odd ones.
template <Precision P>
[[nodiscard]] constexpr std::ptrdiff_t panel_lane(std::ptrdiff_t c) noexcept {
  if constexpr (P == Precision::bf16) {
    constexpr std::ptrdiff_t half = GemmSimd::width;
    return c < half ? 2 * c : 2 * (c - half) + 1;
  } else {
    return c;
  }
}

/// w ([n, k] row-major) packed into panels at `out` (packed_size(n, k) values).
template <Precision P>
inline void pack_panels(const weight_element_t<P>* w, std::ptrdiff_t n, std::ptrdiff_t k, weight_element_t<P>* out) {
  std::fill(out, out + packed_size(n, k), weight_element_t<P>{});  // +0 in every format
  for (std::ptrdiff_t j = 0; j < n; ++j) {
    weight_element_t<P>* panel = out + (j / panel_width) * k * panel_width + panel_lane<P>(j % panel_width);
    const weight_element_t<P>* row = w + j * k;
    for (std::ptrdiff_t p = 0; p < k; ++p) panel[p * panel_width] = row[p];
  }
}

/// The row-major [n, k] values of panels packed by pack_panels.
template <Precision P>
inline void unpack_panels(const weight_element_t<P>* packed, std::ptrdiff_t n, std::ptrdiff_t k,
                          weight_element_t<P>* out) {
  for (std::ptrdiff_t j = 0; j < n; ++j) {
    const weight_element_t<P>* panel = packed + (j / panel_width) * k * panel_width + panel_lane<P>(j % panel_width);
    for (std::ptrdiff_t p = 0; p < k; ++p) out[j * k + p] = panel[p * panel_width];
  }
}

/// A panel row (panel_width values of precision P) as floats: outputs
/// [0, width) in lo and [width, 2 width) in hi.
template <Precision P>
inline void load_panel_row(const weight_element_t<P>* p, GemmSimd::V& lo, GemmSimd::V& hi) {
  using S = GemmSimd;
  if constexpr (P == Precision::bf16) {
    const S::I pairs = S::load_pairs(p);
    lo = S::even_bf16(pairs);
    hi = S::odd_bf16(pairs);
  } else if constexpr (P == Precision::fp16) {
    lo = S::load_fp16(p);
    hi = S::load_fp16(p + S::width);
  } else {
    lo = S::load(p);
    hi = S::load(p + S::width);
  }
}

/// How a tile's accumulators start: from y (a later block of k), or from
/// the bias (zeros without one).
enum class TileStart { accumulate, bias };

/// Rows of x per tile copy of x (gemm_nt's outer block), and the values of k
/// per block: a panel's gemm_depth rows stay in the L1 cache while the
/// block's tiles pass, the copy of x (gemm_block_rows x gemm_depth floats)
/// in the L2 cache.
inline constexpr std::ptrdiff_t gemm_depth = 256;
inline constexpr std::ptrdiff_t gemm_block_rows = 16 * GemmSimd::rows;

/// One tile: R rows of x by one panel, over `depth` values of k. `a` holds
/// the rows' values step by step (R per step); `b` the panel's rows from
/// the block's first value of k. `cols` (<= panel_width) outputs are
/// stored to y, the rest of the panel being padding.
template <int R, Precision P>
inline void panel_tile(const float* a, const weight_element_t<P>* b, std::ptrdiff_t depth, float* y, std::ptrdiff_t ldy,
                       std::ptrdiff_t cols, TileStart start, const float* bias) {
  using S = GemmSimd;
  constexpr int W = S::width;
  const int lo_cols = static_cast<int>(std::min<std::ptrdiff_t>(cols, W));
  const int hi_cols = static_cast<int>(std::max<std::ptrdiff_t>(cols - W, 0));
  const auto load = [](const float* at, int count) { return count == W ? S::load(at) : S::load_first(at, count); };
  typename S::V lo[R], hi[R];
  if (start == TileStart::accumulate) {
    for (int i = 0; i < R; ++i) {
      lo[i] = load(y + i * ldy, lo_cols);
      hi[i] = hi_cols > 0 ? load(y + i * ldy + W, hi_cols) : S::zero();
    }
  } else {
    const typename S::V b_lo = bias != nullptr ? load(bias, lo_cols) : S::zero();
    const typename S::V b_hi = bias != nullptr && hi_cols > 0 ? load(bias + W, hi_cols) : S::zero();
    for (int i = 0; i < R; ++i) {
      lo[i] = b_lo;
      hi[i] = b_hi;
    }
  }
  std::ptrdiff_t p = 0;
  if constexpr (R == 1) {
    // A single row streams the panel: a second pair of accumulators for the
    // odd steps keeps two FMA chains per vector in flight.
    typename S::V lo2 = S::zero(), hi2 = S::zero();
    for (; p + 2 <= depth; p += 2) {
      typename S::V w_lo, w_hi, v_lo, v_hi;
      load_panel_row<P>(b + p * panel_width, w_lo, w_hi);
      load_panel_row<P>(b + (p + 1) * panel_width, v_lo, v_hi);
      const typename S::V x0 = S::broadcast(a[p]), x1 = S::broadcast(a[p + 1]);
      lo[0] = S::fma(x0, w_lo, lo[0]);
      hi[0] = S::fma(x0, w_hi, hi[0]);
      lo2 = S::fma(x1, v_lo, lo2);
      hi2 = S::fma(x1, v_hi, hi2);
    }
    lo[0] = S::add(lo[0], lo2);
    hi[0] = S::add(hi[0], hi2);
  }
  for (; p < depth; ++p) {
    typename S::V w_lo, w_hi;
    load_panel_row<P>(b + p * panel_width, w_lo, w_hi);
    for (int i = 0; i < R; ++i) {
      const typename S::V xi = S::broadcast(a[p * R + i]);
      lo[i] = S::fma(xi, w_lo, lo[i]);
      hi[i] = S::fma(xi, w_hi, hi[i]);
    }
  }
  for (int i = 0; i < R; ++i) {
    S::store_first(y + i * ldy, lo[i], lo_cols);
    if (hi_cols > 0) S::store_first(y + i * ldy + W, hi[i], hi_cols);
  }
}

/// Rows [r0, r0 + R) of x, values [p0, p0 + depth), step by step into `a`.
template <int R>
inline void copy_tile_rows(const float* x, std::ptrdiff_t ldx, std::ptrdiff_t r0, std::ptrdiff_t p0,
                           std::ptrdiff_t depth, float* a) {
  for (int i = 0; i < R; ++i) {
    const float* row = x + (r0 + i) * ldx + p0;
    for (std::ptrdiff_t p = 0; p < depth; ++p) a[p * R + i] = row[p];
  }
}

template <int R, Precision P>
inline void rest_tile(int rest, const float* a, const weight_element_t<P>* b, std::ptrdiff_t depth, float* y,
                      std::ptrdiff_t ldy, std::ptrdiff_t cols, TileStart start, const float* bias) {
  if constexpr (R > 0) {
    if (rest == R) return panel_tile<R, P>(a, b, depth, y, ldy, cols, start, bias);
    rest_tile<R - 1, P>(rest, a, b, depth, y, ldy, cols, start, bias);
  }
}

template <int R>
inline void copy_rest_rows(int rest, const float* x, std::ptrdiff_t ldx, std::ptrdiff_t r0, std::ptrdiff_t p0,
                           std::ptrdiff_t depth, float* a) {
  if constexpr (R > 0) {
    if (rest == R) return copy_tile_rows<R>(x, ldx, r0, p0, depth, a);
    copy_rest_rows<R - 1>(rest, x, ldx, r0, p0, depth, a);
  }
}

/// y[m0:m1, n0:n1] = x[m0:m1] wᵀ (+ bias[n0:n1] when bias is not null), with
/// w's n x k values of precision P packed in panels (pack_panels) and n0 a
/// multiple of panel_width; x and y row-major with leading dimensions ldx
/// and ldy.
template <Precision P = Precision::fp32>
inline void gemm_nt(const float* x, std::ptrdiff_t ldx, const weight_element_t<P>* w, const float* bias, float* y,
                    std::ptrdiff_t ldy, std::ptrdiff_t m0, std::ptrdiff_t m1, std::ptrdiff_t n0, std::ptrdiff_t n1,
                    std::ptrdiff_t k) {
  const auto panel = [&](std::ptrdiff_t j) { return w + (j / panel_width) * k * panel_width; };
  const auto bias_at = [&](std::ptrdiff_t j) { return bias != nullptr ? bias + j : nullptr; };
  if (m1 - m0 == 1) {
    // A decode step: x's row as it is (one value per step), each panel
    // streamed once over all of k.
    for (std::ptrdiff_t j = n0; j < n1; j += panel_width) {
      panel_tile<1, P>(x + m0 * ldx, panel(j), k, y + m0 * ldy + j, ldy, std::min(panel_width, n1 - j), TileStart::bias,
                       bias_at(j));
    }
    return;
  }
  constexpr int R = GemmSimd::rows;
  thread_local std::vector<float> copy;
  copy.resize(static_cast<std::size_t>(gemm_block_rows * gemm_depth));
  for (std::ptrdiff_t r0 = m0; r0 < m1; r0 += gemm_block_rows) {
    const std::ptrdiff_t rows = std::min(gemm_block_rows, m1 - r0);
    const std::ptrdiff_t full = rows / R * R;
    const int rest = static_cast<int>(rows - full);
    for (std::ptrdiff_t p0 = 0; p0 == 0 || p0 < k; p0 += gemm_depth) {  // k = 0: the bias alone
      const std::ptrdiff_t depth = std::min(gemm_depth, k - p0);
      for (std::ptrdiff_t t = 0; t < full; t += R) copy_tile_rows<R>(x, ldx, r0 + t, p0, depth, copy.data() + t * depth);
      if (rest > 0) copy_rest_rows<R - 1>(rest, x, ldx, r0 + full, p0, depth, copy.data() + full * depth);
      const TileStart start = p0 == 0 ? TileStart::bias : TileStart::accumulate;
      for (std::ptrdiff_t j = n0; j < n1; j += panel_width) {
        const weight_element_t<P>* b = panel(j) + p0 * panel_width;
        const std::ptrdiff_t cols = std::min(panel_width, n1 - j);
        float* yb = y + r0 * ldy + j;
        for (std::ptrdiff_t t = 0; t < full; t += R) {
          panel_tile<R, P>(copy.data() + t * depth, b, depth, yb + t * ldy, ldy, cols, start, bias_at(j));
        }
        if (rest > 0) {
          rest_tile<R - 1, P>(rest, copy.data() + full * depth, b, depth, yb + full * ldy, ldy, cols, start, bias_at(j));
        }
      }
    }
  }
}

#if defined(ACCELBENCH_GEMM_DIAGNOSTICS_PUSHED)
#pragma GCC diagnostic pop
#undef ACCELBENCH_GEMM_DIAGNOSTICS_PUSHED
#endif

#endif  // ACCELBENCH_CPU_GEMM

}  // namespace accelbench::detail
