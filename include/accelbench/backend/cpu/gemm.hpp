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

namespace accelbench::detail {

#if ACCELBENCH_CPU_GEMM

#if defined(__AVX512F__)
struct GemmSimd {
  using V = __m512;
  static constexpr int width = 16;
  static constexpr int rows = 6;  // 24 accumulators, 6 rows of x and a row of w: 31 of 32 registers
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  /// The first `count` (< width) floats at p, zeros after; nothing past them is read.
  static V load_first(const float* p, int count) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1u), p);
  }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
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
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load_first(const float* p, int count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lanes));
  }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
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

/// One tile: R rows of x by C (<= 8) rows of w, over all of k.
template <int R, int C>
inline void gemm_nt_tile(const float* x, std::ptrdiff_t ldx, const float* w, std::ptrdiff_t ldw, const float* bias,
                         float* y, std::ptrdiff_t ldy, std::ptrdiff_t k) {
  using S = GemmSimd;
  constexpr int A = C <= 4 ? 4 : 8;  // accumulators per row, reduced four at a time
  typename S::V acc[R][A];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < A; ++j) acc[i][j] = S::zero();
  }
  std::ptrdiff_t p = 0;
  for (; p + S::width <= k; p += S::width) {
    typename S::V a[R];
    for (int i = 0; i < R; ++i) a[i] = S::load(x + i * ldx + p);
    for (int j = 0; j < C; ++j) {
      const typename S::V b = S::load(w + j * ldw + p);
      for (int i = 0; i < R; ++i) acc[i][j] = S::fma(a[i], b, acc[i][j]);
    }
  }
  if (p < k) {
    const int rest = static_cast<int>(k - p);
    typename S::V a[R];
    for (int i = 0; i < R; ++i) a[i] = S::load_first(x + i * ldx + p, rest);
    for (int j = 0; j < C; ++j) {
      const typename S::V b = S::load_first(w + j * ldw + p, rest);
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

/// Outputs [n0, n1) of R rows of x, four at a time (eight for a single row,
/// a matrix-vector product bound by reading w: more rows of w in flight) and
/// the rest in one tile.
template <int R>
inline void gemm_nt_row_tiles(const float* x, std::ptrdiff_t ldx, const float* w, std::ptrdiff_t ldw,
                              const float* bias, float* y, std::ptrdiff_t ldy, std::ptrdiff_t n0, std::ptrdiff_t n1,
                              std::ptrdiff_t k) {
  std::ptrdiff_t n = n0;
  const auto b = [&](std::ptrdiff_t at) { return bias != nullptr ? bias + at : nullptr; };
  if constexpr (R == 1) {
    for (; n + 8 <= n1; n += 8) gemm_nt_tile<1, 8>(x, ldx, w + n * ldw, ldw, b(n), y + n, ldy, k);
  }
  for (; n + 4 <= n1; n += 4) gemm_nt_tile<R, 4>(x, ldx, w + n * ldw, ldw, b(n), y + n, ldy, k);
  switch (n1 - n) {
    case 1: gemm_nt_tile<R, 1>(x, ldx, w + n * ldw, ldw, b(n), y + n, ldy, k); break;
    case 2: gemm_nt_tile<R, 2>(x, ldx, w + n * ldw, ldw, b(n), y + n, ldy, k); break;
    case 3: gemm_nt_tile<R, 3>(x, ldx, w + n * ldw, ldw, b(n), y + n, ldy, k); break;
    default: break;
  }
}

template <int R>
inline void gemm_nt_rest(int rest, const float* x, std::ptrdiff_t ldx, const float* w, std::ptrdiff_t ldw,
                         const float* bias, float* y, std::ptrdiff_t ldy, std::ptrdiff_t n0, std::ptrdiff_t n1,
                         std::ptrdiff_t k) {
  if constexpr (R > 0) {
    if (rest == R) return gemm_nt_row_tiles<R>(x, ldx, w, ldw, bias, y, ldy, n0, n1, k);
    gemm_nt_rest<R - 1>(rest, x, ldx, w, ldw, bias, y, ldy, n0, n1, k);
  }
}

/// Weight rows per block: 64 rows of k floats stay in a 256 KiB-or-larger L2
/// up to k = 1024 and are re-read from L3 beyond, at most once per tile row.
inline constexpr std::ptrdiff_t gemm_block_rows = 64;

/// Cpu::linear's products of up to this many rows go through gemm_nt. At
/// BERT-base's shapes on one AVX2 core gemm_nt is 5-15% faster than Eigen's
/// GEMM from 2 to 512 rows and 2-5% slower at 1024 (8 x 128 tokens), where
/// Eigen's packing of both operands is spread over enough rows.
inline constexpr std::ptrdiff_t gemm_nt_max_rows = 512;

/// y[m0:m1, n0:n1] = x[m0:m1] w[n0:n1]ᵀ (+ bias[n0:n1] when bias is not null);
/// x, w and y row-major with leading dimensions ldx, ldw and ldy.
inline void gemm_nt(const float* x, std::ptrdiff_t ldx, const float* w, std::ptrdiff_t ldw, const float* bias,
                    float* y, std::ptrdiff_t ldy, std::ptrdiff_t m0, std::ptrdiff_t m1, std::ptrdiff_t n0,
                    std::ptrdiff_t n1, std::ptrdiff_t k) {
  constexpr int R = GemmSimd::rows;
  for (std::ptrdiff_t b0 = n0; b0 < n1; b0 += gemm_block_rows) {
    const std::ptrdiff_t b1 = std::min(n1, b0 + gemm_block_rows);
    std::ptrdiff_t m = m0;
    for (; m + R <= m1; m += R) gemm_nt_row_tiles<R>(x + m * ldx, ldx, w, ldw, bias, y + m * ldy, ldy, b0, b1, k);
    if (m < m1) gemm_nt_rest<R - 1>(static_cast<int>(m1 - m), x + m * ldx, ldx, w, ldw, bias, y + m * ldy, ldy, b0, b1, k);
  }
}

#endif  // ACCELBENCH_CPU_GEMM

}  // namespace accelbench::detail
