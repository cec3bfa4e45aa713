#pragma once

// The Cpu backend's attention for a decode step: one query per sequence
// against every cached key and value of it (Cpu::attention, query_len 1, no
// position bias).
//
// A step reads each layer's cached keys, then its values, once, from memory
// (the weights read between two layers leave nothing of them in the caches),
// and the reading is most of its cost. The cache is a Tensor on 4 KiB
// pages, and the hardware's prefetch stops at a page's end: reading on, the
// next page waits for its address translation and then for its first lines,
// one page after the other (on a virtual machine, whose translations walk
// two tables, the same bytes on 2 MiB pages read twice as fast). So the step
// reads, once per page, one value `touch_bytes` ahead of where it is
// reading: the translation and the first lines of the pages ahead are on
// their way while this page is read. Measured on one core of a 2-core Zen 4
// virtual machine, GPT-2's cache of 129 positions, 12 layers read after 64
// MiB of other reads: 0.38 ms instead of 0.49 (on 2 MiB pages: 0.25).

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cstddef>

#include "../../core/tensor.hpp"

namespace accelbench::detail {

/// How far ahead of the row being read a decode step touches the cache.
inline constexpr std::ptrdiff_t touch_bytes = 16384;

/// The sum of one float in each 4 KiB page of [p, p + count): loads whose
/// values are used (see keep), so each page's translation and first line
/// are fetched now.
[[nodiscard]] inline float touch_pages(const float* p, std::ptrdiff_t count) noexcept {
  float sum = 0.0f;
  for (std::ptrdiff_t i = 0; i < count; i += 4096 / static_cast<std::ptrdiff_t>(sizeof(float))) sum += p[i];
  return sum;
}

/// Stores v where the compiler must assume it is read, so the loads that
/// made it are kept.
inline void keep(float v) noexcept {
  static std::atomic<float> sink{0.0f};
  sink.store(v, std::memory_order_relaxed);
}

/// Where one task of a decode step reads and writes: one sequence's cached
/// keys and values (rows [first, end) from k and v, `width` floats a row),
/// heads [h0, h1) of `group` query heads per key-value head, `head_dim`
/// values each.
struct DecodeTask {
  const float* q;      ///< the sequence's query row
  const float* k;      ///< the first cached key row of the sequence
  const float* v;      ///< the first cached value row of the sequence
  float* out;          ///< the sequence's output row
  const float* mask;   ///< the sequence's additive mask over the keys, or null
  std::ptrdiff_t width, first, end, h0, h1, group, head_dim;
  float scale;
};

/// One task of a decode step: scores (t's column of `s`, one row per head,
/// the scaled queries in the rows after them), softmax, then the weighted
/// sum of the values.
template <class Softmax>
void decode_attention(const DecodeTask& d, HostMatrix& s, Softmax&& softmax) {
  const std::ptrdiff_t n = d.h1 - d.h0, hd = d.head_dim, first = d.first, end = d.end;
  const std::ptrdiff_t c0 = d.h0 / d.group * hd, cols = n / d.group * hd;
  s.resize(2 * n, std::max<std::ptrdiff_t>(end, hd));
  for (std::ptrdiff_t h = d.h0; h < d.h1; ++h) {
    s.row(n + h - d.h0).head(hd) = d.scale * Eigen::Map<const Eigen::RowVectorXf>(d.q + h * hd, hd);
  }
  // The rows read in order are the keys' [first, end), then the values'
  // [first, end); each step touches the row `ahead` after its own.
  const std::ptrdiff_t ahead = std::max<std::ptrdiff_t>(
      1, (touch_bytes + d.width * std::ptrdiff_t{sizeof(float)} - 1) / (d.width * std::ptrdiff_t{sizeof(float)}));
  const std::ptrdiff_t rows = end - first;
  float touched = 0.0f;
  auto touch = [&](std::ptrdiff_t i) {  // the i-th row read, from the start
    if (i < rows) {
      touched += touch_pages(d.k + (first + i) * d.width + c0, cols);
    } else if (i < 2 * rows) {
      touched += touch_pages(d.v + (first + i - rows) * d.width + c0, cols);
    }
  };
  using Row = Eigen::Map<const Eigen::RowVectorXf>;
  for (std::ptrdiff_t t = first; t < end; ++t) {
    touch(t - first + ahead);
    const float* key = d.k + t * d.width;
    for (std::ptrdiff_t h = d.h0; h < d.h1; ++h) {
      s(h - d.h0, t) = s.row(n + h - d.h0).head(hd).dot(Row(key + h / d.group * hd, hd));
    }
  }
  for (std::ptrdiff_t h = d.h0; h < d.h1; ++h) {
    auto scores = s.row(h - d.h0).segment(first, rows);
    if (d.mask != nullptr) scores += Row(d.mask + first, rows);
    softmax(scores);
    Eigen::Map<Eigen::RowVectorXf>(d.out + h * hd, hd).setZero();
  }
  for (std::ptrdiff_t t = first; t < end; ++t) {
    touch(rows + t - first + ahead);
    const float* value = d.v + t * d.width;
    for (std::ptrdiff_t h = d.h0; h < d.h1; ++h) {
      Eigen::Map<Eigen::RowVectorXf>(d.out + h * hd, hd).noalias() += s(h - d.h0, t) * Row(value + h / d.group * hd, hd);
    }
  }
  keep(touched);
}

}  // namespace accelbench::detail
