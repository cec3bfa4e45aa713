#pragma once

// The Cpu backend's matrix product for linear layers, y = x wᵀ + b, with x
// [m, k], w [n, k] and y [m, n] row-major: the weights are read as they were
// loaded, never packed. Each output is a dot product of two k-contiguous rows
// (a row of x and a row of w), so a tile of `rows` rows of x by four rows of w
// keeps rows x 4 vector accumulators in registers, each summing a lane-wide
// slice of k; at the end four accumulators reduce into four adjacent outputs
// at once and the bias is added as they are stored (no pass of its own).
// Tiles walk the outputs a block of weight rows at a time, so that block
// (block_rows x k floats) stays in the L2 cache while every row of x passes.
//
// A single row of x (a decode step) meets one weight row at a time where x
// fits the L1 cache (gemv_row), streaming the weights as fast as one core
// reads memory.
//
// Weights stored as bf16 or fp16 (Precision) are widened to float as they
// are read: in the tile itself for a few rows of x (a decode step, bound by
// the bytes of weights it reads, which are halved), and for more rows a
// block of weight rows at a time into a float copy that every row tile then
// reads (the conversion is paid once per block, not once per row tile).
// Products and sums are fp32 either way.
//
// Compiled for AVX-512 (16 lanes, 6 x 4 tiles) or AVX2 with FMA (8 lanes,
// 3 x 4 tiles); without either, ACCELBENCH_CPU_GEMM is 0 and Cpu::linear
// keeps Eigen's product (the portable reference).

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define ACCELBENCH_CPU_GEMM 1
#include <immintrin.h>
#else
#define ACCELBENCH_CPU_GEMM 0
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../../core/precision.hpp"
#include "../../detail/half.hpp"

namespace accelbench::detail {

/// How a weight of precision P is stored: a float, or the 16 bits of a bf16
/// or fp16 value.
template <Precision P>
using weight_element_t = std::conditional_t<P == Precision::fp32, float, std::uint16_t>;

/// A stored weight as a float (exact: every bf16 and fp16 value is a float).
template <Precision P>
[[nodiscard]] constexpr float weight_to_float(weight_element_t<P> v) noexcept {
  if constexpr (P == Precision::bf16) {
    return bf16_bits_to_float(v);
  } else if constexpr (P == Precision::fp16) {
    return f16_bits_to_float(v);
  } else {
    return v;
  }
}

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
  static constexpr int width = 16;
  static constexpr int rows = 6;  // 24 accumulators, 6 rows of x and a row of w: 31 of 32 registers
  using I = __m512i;
  static V zero() { return _mm512_setzero_ps(); }
  /// 2 x width bf16 values at p, as they are.
  static I load_pairs(const std::uint16_t* p) { return _mm512_loadu_si512(p); }
  /// The floats of the even-numbered and of the odd-numbered bf16 values of
  /// a pair load (each 32-bit lane holds one of each): in-lane shifts and
  /// masks, cheaper than widening the values in order.
  static V even_bf16(I v) { return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)); }
  static V odd_bf16(I v) { return _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(-65536))); }
  /// The floats of the first and of the second width fp16 values of a pair load.
  static V low_fp16(I v) { return _mm512_cvtph_ps(_mm512_castsi512_si256(v)); }
  static V high_fp16(I v) { return _mm512_cvtph_ps(_mm512_extracti64x4_epi64(v, 1)); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  /// The first `count` (< width) floats at p, zeros after; nothing past them is read.
  static V load_first(const float* p, int count) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1u), p);
  }
  /// `width` weights of precision P at p, as floats.
  template <Precision P>
  static V load_weights(const weight_element_t<P>* p) {
    if constexpr (P == Precision::bf16) {
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    } else if constexpr (P == Precision::fp16) {
      return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    } else {
      return load(p);
    }
  }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  /// The sums of a, b, c and d's lanes, in that order.
  static __m128 sum4(V a, V b, V c, V d) {
    const V ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    const V cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    const V v = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, 0x44), _mm512_shuffle_ps(ab, cd, 0xEE));
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                                   _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  }
};
#else
struct GemmSimd {
  using V = __m256;
  static constexpr int width = 8;
  static constexpr int rows = 3;  // 12 accumulators, 3 rows of x and a row of w: all 16 registers
  using I = __m256i;
  static V zero() { return _mm256_setzero_ps(); }
  static I load_pairs(const std::uint16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static V even_bf16(I v) { return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)); }
  static V odd_bf16(I v) { return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(-65536))); }
  static V low_fp16(I v) { return fp16_half(v, 0); }
  static V high_fp16(I v) { return fp16_half(v, width); }
  static V fp16_half(I v, int first) {
    alignas(32) std::uint16_t h[2 * width];
    _mm256_store_si256(reinterpret_cast<__m256i*>(h), v);
    return load_weights<Precision::fp16>(h + first);
  }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V load_first(const float* p, int count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lanes));
  }
  template <Precision P>
  static V load_weights(const weight_element_t<P>* p) {
    if constexpr (P == Precision::bf16) {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    } else if constexpr (P == Precision::fp16) {
#if defined(__F16C__)
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#else
      alignas(32) float f[width];
      for (int i = 0; i < width; ++i) f[i] = f16_bits_to_float(p[i]);
      return _mm256_load_ps(f);
#endif
    } else {
      return load(p);
    }
  }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static __m128 sum4(V a, V b, V c, V d) {
    const V v = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  }
};
#endif

/// y[0:C] = the first C of four sums (+ bias[0:C]).
template <int C>
inline void gemm_nt_store(__m128 sums, const float* bias, float* y) {
  if constexpr (C == 4) {
    if (bias != nullptr) sums = _mm_add_ps(sums, _mm_loadu_ps(bias));
    _mm_storeu_ps(y, sums);
  } else {
    alignas(16) float v[4];
    _mm_store_ps(v, sums);
    for (int j = 0; j < C; ++j) y[j] = v[j] + (bias != nullptr ? bias[j] : 0.0f);
  }
}

/// The first `count` (< width) weights of precision P at p as floats, zeros
/// after; nothing past them is read.
template <Precision P>
inline GemmSimd::V load_weights_first(const weight_element_t<P>* p, int count) {
  if constexpr (P == Precision::fp32) {
    return GemmSimd::load_first(p, count);
  } else {
    alignas(64) std::uint16_t h[GemmSimd::width] = {};  // the bits of +0 in both formats
    std::memcpy(h, p, static_cast<std::size_t>(count) * sizeof(std::uint16_t));
    return GemmSimd::load_weights<P>(h);
  }
}

/// One tile: R rows of x by C (<= 8) rows of w, over all of k.
template <int R, int C, Precision P>
inline void gemm_nt_tile(const float* x, std::ptrdiff_t ldx, const weight_element_t<P>* w, std::ptrdiff_t ldw,
                         const float* bias, float* y, std::ptrdiff_t ldy, std::ptrdiff_t k) {
  using S = GemmSimd;
  constexpr int A = C <= 4 ? 4 : 8;  // accumulators per row, reduced four at a time
  typename S::V acc[R][A];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < A; ++j) acc[i][j] = S::zero();
  }
  std::ptrdiff_t p = 0;
  if constexpr (P == Precision::bf16) {
    // x in pair order (bf16_pair_order): each pair load of w multiplies the
    // even-numbered values of x, then the odd-numbered ones.
    constexpr int W = S::width;
    for (; p < k; p += 2 * W) {
      typename S::V even[R], odd[R];
      for (int i = 0; i < R; ++i) {
        even[i] = S::load(x + i * ldx + p);
        odd[i] = S::load(x + i * ldx + p + W);
      }
      for (int j = 0; j < C; ++j) {
        typename S::I pairs;
        if (p + 2 * W <= k) {
          pairs = S::load_pairs(w + j * ldw + p);
        } else {
          alignas(64) std::uint16_t rest[2 * W] = {};
          std::memcpy(rest, w + j * ldw + p, static_cast<std::size_t>(k - p) * sizeof(std::uint16_t));
          pairs = S::load_pairs(rest);
        }
        const typename S::V e = S::even_bf16(pairs), o = S::odd_bf16(pairs);
        for (int i = 0; i < R; ++i) acc[i][j] = S::fma(odd[i], o, S::fma(even[i], e, acc[i][j]));
      }
    }
  }
  for (; p + S::width <= k; p += S::width) {
    typename S::V a[R];
    for (int i = 0; i < R; ++i) a[i] = S::load(x + i * ldx + p);
    for (int j = 0; j < C; ++j) {
      const typename S::V b = S::template load_weights<P>(w + j * ldw + p);
      for (int i = 0; i < R; ++i) acc[i][j] = S::fma(a[i], b, acc[i][j]);
    }
  }
  if (p < k) {
    const int rest = static_cast<int>(k - p);
    typename S::V a[R];
    for (int i = 0; i < R; ++i) a[i] = S::load_first(x + i * ldx + p, rest);
    for (int j = 0; j < C; ++j) {
      const typename S::V b = load_weights_first<P>(w + j * ldw + p, rest);
      for (int i = 0; i < R; ++i) acc[i][j] = S::fma(a[i], b, acc[i][j]);
    }
  }
  for (int i = 0; i < R; ++i) {
    gemm_nt_store<(C < 4 ? C : 4)>(S::sum4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]), bias, y + i * ldy);
    if constexpr (C > 4) {
      gemm_nt_store<C - 4>(S::sum4(acc[i][4], acc[i][5], acc[i][6], acc[i][7]), bias != nullptr ? bias + 4 : nullptr,
                           y + i * ldy + 4);
    }
  }
}

/// One row of x against one row of weights, for a single row of x whose k
/// values sit in the L1 cache (gemm_nt_row_tiles): one weight row streamed
/// at a time reads memory faster than eight side by side, and four
/// independent accumulators keep the FMA chains short. x in pair order for
/// bf16.
template <Precision P>
inline float gemv_row(const float* x, const weight_element_t<P>* w, std::ptrdiff_t k) {
  using S = GemmSimd;
  constexpr int W = S::width;
  constexpr int U = 4;
  // fp16 with AVX-512 as bf16: 2 x width weights per load (a cache line).
  constexpr bool wide_fp16 = P == Precision::fp16 && W == 16;
  constexpr std::ptrdiff_t step = P == Precision::bf16 || wide_fp16 ? 2 * W : W;  // weights per accumulator and load
  typename S::V acc[U];
  for (auto& a : acc) a = S::zero();
  const auto add = [&](typename S::V& a, const weight_element_t<P>* wp, const float* xp) {
    if constexpr (P == Precision::bf16) {
      const typename S::I pairs = S::load_pairs(wp);
      a = S::fma(S::load(xp + W), S::odd_bf16(pairs), S::fma(S::load(xp), S::even_bf16(pairs), a));
    } else if constexpr (wide_fp16) {
      const typename S::I pairs = S::load_pairs(wp);
      a = S::fma(S::load(xp + W), S::high_fp16(pairs), S::fma(S::load(xp), S::low_fp16(pairs), a));
    } else {
      a = S::fma(S::load(xp), S::template load_weights<P>(wp), a);
    }
  };
  std::ptrdiff_t p = 0;
  for (; p + U * step <= k; p += U * step) {
    for (int u = 0; u < U; ++u) add(acc[u], w + p + u * step, x + p + u * step);
  }
  for (; p + step <= k; p += step) add(acc[0], w + p, x + p);
  if constexpr (wide_fp16) {
    for (; p + W <= k; p += W) acc[2] = S::fma(S::load(x + p), S::template load_weights<P>(w + p), acc[2]);
  }
  if (p < k) {
    if constexpr (P == Precision::bf16) {
      alignas(64) std::uint16_t rest[2 * W] = {};  // +0 past k: nothing beyond the row is read
      std::memcpy(rest, w + p, static_cast<std::size_t>(k - p) * sizeof(std::uint16_t));
      add(acc[1], rest, x + p);
    } else {
      const int count = static_cast<int>(k - p);
      acc[1] = S::fma(S::load_first(x + p, count), load_weights_first<P>(w + p, count), acc[1]);
    }
  }
  alignas(16) float v[4];
  _mm_store_ps(v, S::sum4(acc[0], acc[1], acc[2], acc[3]));
  return (v[0] + v[1]) + (v[2] + v[3]);
}

/// A single row of x with k up to this many values goes one weight row at
/// a time (gemv_row): x (k floats) stays in a 32 KiB L1 cache beside the
/// stream. Past it, eight weight rows share each load of x.
inline constexpr std::ptrdiff_t gemv_max_k = 4096;

/// Outputs [0, n) of R rows of x, four at a time, and the rest in one tile;
/// a single row (a matrix-vector product, bound by reading w) one weight row
/// at a time up to gemv_max_k deep, eight side by side past it; w, bias and
/// y start at the first of the n outputs.
template <int R, Precision P>
inline void gemm_nt_row_tiles(const float* x, std::ptrdiff_t ldx, const weight_element_t<P>* w, std::ptrdiff_t ldw,
                              const float* bias, float* y, std::ptrdiff_t ldy, std::ptrdiff_t n, std::ptrdiff_t k) {
  std::ptrdiff_t j = 0;
  const auto b = [&](std::ptrdiff_t at) { return bias != nullptr ? bias + at : nullptr; };
  if constexpr (R == 1) {
    if (k <= gemv_max_k) {
      for (; j < n; ++j) y[j] = gemv_row<P>(x, w + j * ldw, k) + (bias != nullptr ? bias[j] : 0.0f);
      return;
    }
    for (; j + 8 <= n; j += 8) gemm_nt_tile<1, 8, P>(x, ldx, w + j * ldw, ldw, b(j), y + j, ldy, k);
  }
  for (; j + 4 <= n; j += 4) gemm_nt_tile<R, 4, P>(x, ldx, w + j * ldw, ldw, b(j), y + j, ldy, k);
  switch (n - j) {
    case 1: gemm_nt_tile<R, 1, P>(x, ldx, w + j * ldw, ldw, b(j), y + j, ldy, k); break;
    case 2: gemm_nt_tile<R, 2, P>(x, ldx, w + j * ldw, ldw, b(j), y + j, ldy, k); break;
    case 3: gemm_nt_tile<R, 3, P>(x, ldx, w + j * ldw, ldw, b(j), y + j, ldy, k); break;
    default: break;
  }
}

template <int R, Precision P>
inline void gemm_nt_rest(int rest, const float* x, std::ptrdiff_t ldx, const weight_element_t<P>* w,
                         std::ptrdiff_t ldw, const float* bias, float* y, std::ptrdiff_t ldy, std::ptrdiff_t n,
                         std::ptrdiff_t k) {
  if constexpr (R > 0) {
    if (rest == R) return gemm_nt_row_tiles<R, P>(x, ldx, w, ldw, bias, y, ldy, n, k);
    gemm_nt_rest<R - 1, P>(rest, x, ldx, w, ldw, bias, y, ldy, n, k);
  }
}

/// Weight rows per block: 64 rows of k floats stay in a 256 KiB-or-larger L2
/// up to k = 1024 and are re-read from L3 beyond, at most once per tile row.
inline constexpr std::ptrdiff_t gemm_block_rows = 64;

/// Cpu::linear's products of up to this many rows go through gemm_nt. At
/// BERT-base's shapes on one AVX2 core gemm_nt is 5-15% faster than Eigen's
/// GEMM from 2 to 512 rows and 2-5% slower at 1024 (8 x 128 tokens), where
/// Eigen's packing of both operands is spread over enough rows. (Weights at
/// half precision go through gemm_nt at every size.)
inline constexpr std::ptrdiff_t gemm_nt_max_rows = 512;

/// Rows [m0, m1) of x in the order a bf16 tile reads them: for each 2 x
/// width values, the even-numbered ones then the odd-numbered ones, zeros
/// after k up to a multiple of 2 x width (the row length of `out`).
inline std::ptrdiff_t bf16_pair_order(const float* x, std::ptrdiff_t ldx, std::ptrdiff_t m0, std::ptrdiff_t m1,
                                      std::ptrdiff_t k, std::vector<float>& out) {
  constexpr std::ptrdiff_t W = GemmSimd::width;
  const std::ptrdiff_t padded = (k + 2 * W - 1) / (2 * W) * (2 * W);
  out.assign(static_cast<std::size_t>((m1 - m0) * padded), 0.0f);
  for (std::ptrdiff_t r = m0; r < m1; ++r) {
    float* dst = out.data() + (r - m0) * padded;
    for (std::ptrdiff_t p = 0; p < k; ++p) {
      const std::ptrdiff_t group = p / (2 * W), at = p % (2 * W);
      dst[group * 2 * W + (at % 2) * W + at / 2] = x[r * ldx + p];
    }
  }
  return padded;
}

/// The rows of x [m0, m1) against `n` weight rows starting at w.
template <Precision P>
inline void gemm_nt_rows(const float* x, std::ptrdiff_t ldx, const weight_element_t<P>* w, std::ptrdiff_t ldw,
                         const float* bias, float* y, std::ptrdiff_t ldy, std::ptrdiff_t m0, std::ptrdiff_t m1,
                         std::ptrdiff_t n, std::ptrdiff_t k) {
  constexpr int R = GemmSimd::rows;
  std::ptrdiff_t m = m0;
  for (; m + R <= m1; m += R) gemm_nt_row_tiles<R, P>(x + m * ldx, ldx, w, ldw, bias, y + m * ldy, ldy, n, k);
  if (m < m1) gemm_nt_rest<R - 1, P>(static_cast<int>(m1 - m), x + m * ldx, ldx, w, ldw, bias, y + m * ldy, ldy, n, k);
}

/// y[m0:m1, n0:n1] = x[m0:m1] w[n0:n1]ᵀ (+ bias[n0:n1] when bias is not null);
/// x, w and y row-major with leading dimensions ldx, ldw and ldy; w's
/// elements of precision P (weight_element_t).
template <Precision P = Precision::fp32>
inline void gemm_nt(const float* x, std::ptrdiff_t ldx, const weight_element_t<P>* w, std::ptrdiff_t ldw,
                    const float* bias, float* y, std::ptrdiff_t ldy, std::ptrdiff_t m0, std::ptrdiff_t m1,
                    std::ptrdiff_t n0, std::ptrdiff_t n1, std::ptrdiff_t k) {
  if constexpr (P != Precision::fp32) {
    // More rows than one tile: each block of 16-bit weights is widened once
    // into a float copy (this thread's), which every row tile then reads.
    if (m1 - m0 > GemmSimd::rows) {
      thread_local std::vector<float> widened;
      widened.resize(static_cast<std::size_t>(gemm_block_rows * k));
      for (std::ptrdiff_t b0 = n0; b0 < n1; b0 += gemm_block_rows) {
        const std::ptrdiff_t count = std::min(n1, b0 + gemm_block_rows) - b0;
        for (std::ptrdiff_t r = 0; r < count; ++r) {
          const weight_element_t<P>* src = w + (b0 + r) * ldw;
          float* dst = widened.data() + r * k;
          std::ptrdiff_t p = 0;
          for (; p + GemmSimd::width <= k; p += GemmSimd::width) {
            GemmSimd::store(dst + p, GemmSimd::load_weights<P>(src + p));
          }
          for (; p < k; ++p) dst[p] = weight_to_float<P>(src[p]);
        }
        gemm_nt_rows<Precision::fp32>(x, ldx, widened.data(), k, bias != nullptr ? bias + b0 : nullptr, y + b0, ldy,
                                      m0, m1, count, k);
      }
      return;
    }
  }
  if constexpr (P == Precision::bf16) {
    // A tile of rows or fewer: x in pair order (this thread's copy), against
    // the bf16 weights as stored.
    thread_local std::vector<float> paired;
    const std::ptrdiff_t padded = bf16_pair_order(x, ldx, m0, m1, k, paired);
    x = paired.data();
    ldx = padded;
    y += m0 * ldy;
    m1 -= m0;
    m0 = 0;
  }
  for (std::ptrdiff_t b0 = n0; b0 < n1; b0 += gemm_block_rows) {
    const std::ptrdiff_t count = std::min(n1, b0 + gemm_block_rows) - b0;
    gemm_nt_rows<P>(x, ldx, w + b0 * ldw, ldw, bias != nullptr ? bias + b0 : nullptr, y + b0, ldy, m0, m1, count, k);
  }
}

#if defined(ACCELBENCH_GEMM_DIAGNOSTICS_PUSHED)
#pragma GCC diagnostic pop
#undef ACCELBENCH_GEMM_DIAGNOSTICS_PUSHED
#endif

#endif  // ACCELBENCH_CPU_GEMM

}  // namespace accelbench::detail
