#pragma once

// The Cpu backend's PerceptionOps: the further ops of the vision, audio and multimodal architectures, with Eigen
// (see backend/concepts.hpp for what each op computes).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.hpp"

namespace accelbench {

inline void Cpu::conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dDims& d, Tensor& y) {
  check_conv2d(x, w, b, d);
  check_distinct("conv2d", x, w, b, y);
  const Index out_h = d.out_height();
  const Index out_w = d.out_width();
  const Index k = d.kernel;
  const Index height = d.height;
  const Index width = d.width;
  const Index plane = height * width;
  const Index depth = Index{d.channels} * k * k;
  const Index rows = Index{d.batch} * out_h * out_w;
  conv_cols_.resize(rows, depth);
  parallel_rows(rows, depth, [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const Index image = r / (out_h * out_w);
      const Index oy = r % (out_h * out_w) / out_w;
      const Index ox = r % out_w;
      const Index x0 = ox * d.stride - d.padding;
      const bool inside = x0 >= 0 && x0 + k <= width;
      const float* src = x.data() + image * x.cols();
      float* dst = conv_cols_.data() + r * depth;
      for (Index c = 0; c < d.channels; ++c) {
        for (Index ky = 0; ky < k; ++ky, dst += k) {
          const Index iy = oy * d.stride - d.padding + ky;
          if (iy < 0 || iy >= height) {
            std::fill_n(dst, k, 0.0f);
            continue;
          }
          const float* line = src + c * plane + iy * width;
          if (inside) {
            std::copy_n(line + x0, k, dst);
          } else {
            for (Index kx = 0; kx < k; ++kx) {
              const Index ix = x0 + kx;
              dst[kx] = ix >= 0 && ix < width ? line[ix] : 0.0f;
            }
          }
        }
      }
    }
  });
  linear(conv_cols_, w, b, y);
}

inline void Cpu::conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dDims& d, Tensor& y) {
  check_conv1d(x, w, b, d);
  check_distinct("conv1d", x, w, b, y);
  const Index length = d.length;
  const Index groups = d.groups;
  const Index group_in = Index{d.in_channels} / groups;
  const Index group_out = Index{d.out_channels} / groups;
  const Index k = d.kernel;
  const Index depth = group_in * k;
  const Index out_len = d.out_length();
  // PyTorch's weight is (channel, tap) within a group; the windows are (tap, channel).
  const bool reorder = group_in > 1 && k > 1;
  if (reorder) {
    conv_weight_.resize(w.rows(), w.cols());
    parallel_rows(w.rows(), w.cols(), [&](Index r0, Index r1) {
      for (Index o = r0; o < r1; ++o)
        for (Index c = 0; c < group_in; ++c)
          for (Index t = 0; t < k; ++t) conv_weight_(o, t * group_in + c) = w(o, c * k + t);
    });
  }
  const Tensor& weight = reorder ? conv_weight_ : w;
  const bool direct = groups == 1 && d.padding == 0;
  y.resize(Index{d.batch} * out_len, d.out_channels);
  const auto task = [&](Index t, int thread) {
    const Index seq = t / groups;
    const Index g = t % groups;
    const float* base = x.data() + seq * length * x.cols();
    Index pitch = x.cols();
    if (!direct) {
      Tensor& padded = conv_scratch_[static_cast<std::size_t>(thread)];
      padded.resize(length + 2 * Index{d.padding}, group_in);
      padded.topRows(d.padding).setZero();
      padded.bottomRows(d.padding).setZero();
      padded.middleRows(d.padding, length) = x.block(seq * length, g * group_in, length, group_in);
      base = padded.data();
      pitch = group_in;
    }
    using Windows = Eigen::Map<const Tensor, Eigen::Unaligned, Eigen::OuterStride<>>;
    const Windows cols(base, out_len, depth, Eigen::OuterStride<>(d.stride * pitch));
    auto out = y.block(seq * out_len, g * group_out, out_len, group_out);
    out.noalias() = cols * weight.middleRows(g * group_out, group_out).transpose();
    if (b.size() != 0) out.rowwise() += b.row(0).segment(g * group_out, group_out);
  };
  const Index tasks = Index{d.batch} * groups;
  if (threads_ > 1 && tasks >= threads_) {
    parallel_tasks(tasks, task);  // one single-threaded GEMM per task
  } else {
    set_gemm_threads();
    for (Index t = 0; t < tasks; ++t) task(t, 0);
  }
}

inline void Cpu::group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const GroupNormDims& d, float eps,
                Tensor& y) {
  check_group_norm(x, gamma, beta, d);
  if (&x != &y) y.resize(x.rows(), x.cols());
  const Index length = d.length;
  const Index groups = d.groups;
  const Index group_size = x.cols() / groups;
  const double count = static_cast<double>(length) * static_cast<double>(group_size);
  Index chunks = 1;  // column chunks of whole groups per sequence
  if (threads_ > 1 && x.size() >= parallel_threshold) {
    chunks = std::min<Index>(groups, (threads_ + d.batch - 1) / d.batch);
  }
  const auto task = [&](Index t, int thread) {
    const Index seq = t / chunks;
    const Index g0 = groups * (t % chunks) / chunks;
    const Index g1 = groups * (t % chunks + 1) / chunks;
    const Index c0 = g0 * group_size;
    const Index n = (g1 - g0) * group_size;
    const auto rows = [&](const Tensor& m) { return m.block(seq * length, c0, length, n).array(); };
    NormScratch& s = norm_scratch_[static_cast<std::size_t>(thread)];
    s.sum.setZero(n);
    for (Index r = 0; r < length; ++r) s.sum += rows(x).row(r).cast<double>();
    s.mean.resize(n);
    for (Index g = 0; g < g1 - g0; ++g) {
      s.mean.segment(g * group_size, group_size).setConstant(s.sum.segment(g * group_size, group_size).sum() / count);
    }
    s.sum.setZero();
    for (Index r = 0; r < length; ++r) s.sum += (rows(x).row(r).cast<double>() - s.mean).square();
    s.shift.resize(n);
    s.factor.resize(n);
    for (Index g = 0; g < g1 - g0; ++g) {
      const double var = s.sum.segment(g * group_size, group_size).sum() / count;
      const double inv_std = 1.0 / std::sqrt(var + static_cast<double>(eps));
      for (Index c = g * group_size; c < (g + 1) * group_size; ++c) {
        s.shift(c) = static_cast<float>(s.mean(c));
        s.factor(c) = static_cast<float>(inv_std * static_cast<double>(gamma(c0 + c)));
      }
    }
    const auto bias = beta.row(0).segment(c0, n).array();
    auto out = y.block(seq * length, c0, length, n).array();
    for (Index r = 0; r < length; ++r) {
      out.row(r) = (rows(x).row(r) - s.shift) * s.factor + bias;
    }
  };
  const Index tasks = Index{d.batch} * chunks;
  if (x.size() >= parallel_threshold) {
    parallel_tasks(tasks, task);
  } else {
    for (Index t = 0; t < tasks; ++t) task(t, 0);
  }
}

inline void Cpu::quick_gelu(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    auto a = x.middleRows(r0, r1 - r0).array();
    a = a / (1.0f + (-1.702f * a).exp());
  });
}

inline void Cpu::prepend_row(const Tensor& x, const Tensor& row, int batch, Tensor& y) {
  if (batch <= 0 || x.rows() % batch != 0) {
    throw std::invalid_argument("prepend_row: input is " + shape(x) + ", whose rows do not split into batch = " +
                                std::to_string(batch) + " sequences");
  }
  if (row.rows() != 1 || row.cols() != x.cols()) {
    throw std::invalid_argument("prepend_row: the row is " + shape(row) + ", expected [1, " +
                                std::to_string(x.cols()) + "]");
  }
  if (&y == &x || &y == &row) throw std::invalid_argument("prepend_row: the output must not be an input");
  const Index n = x.rows() / batch;
  y.resize(Index{batch} * (n + 1), x.cols());
  parallel_rows(batch, (n + 1) * x.cols(), [&](Index b0, Index b1) {
    for (Index b = b0; b < b1; ++b) {
      y.row(b * (n + 1)) = row.row(0);
      y.middleRows(b * (n + 1) + 1, n) = x.middleRows(b * n, n);
    }
  });
}

inline void Cpu::normalize_rows(Tensor& x) {
  parallel_rows(x.rows(), x.cols(), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const double squared = x.row(r).cast<double>().squaredNorm();
      if (squared > 0.0) x.row(r) = (x.row(r).cast<double>() / std::sqrt(squared)).cast<float>();
    }
  });
}

}  // namespace accelbench
