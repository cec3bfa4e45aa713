#pragma once

// A backend written with plain loops and double accumulation, independent of
// Eigen's kernels: the naive implementation the Cpu ops are checked against,
// and a second backend for the Benchmark's verification path.

#include <accelbench/backend/concepts.hpp>
#include <accelbench/result.hpp>
#include <accelbench/tensor.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace accelbench::test {

struct NaiveTensor {
  long rows = 0;
  long cols = 0;
  std::vector<float> data;

  float& at(long r, long c) { return data[static_cast<std::size_t>(r * cols + c)]; }
  [[nodiscard]] float at(long r, long c) const { return data[static_cast<std::size_t>(r * cols + c)]; }
  [[nodiscard]] long size() const { return rows * cols; }
  void resize(long r, long c) {
    rows = r;
    cols = c;
    data.assign(static_cast<std::size_t>(r * c), 0.0f);
  }
};

class NaiveBackend {
 public:
  using Tensor = NaiveTensor;
  using IndexTensor = std::vector<std::int32_t>;
  static constexpr std::string_view name = "naive";

  static Availability available() { return Availability::yes(); }
  DeviceInfo describe() const {
    DeviceInfo d;
    d.backend = std::string(name);
    d.name = "plain loops";
    d.kind = "cpu";
    d.compute_units = 1;
    d.threads = 1;
    return d;
  }
  void synchronize() {}

  Tensor upload(const HostMatrix& m) const {
    Tensor t;
    t.resize(m.rows(), m.cols());
    for (long r = 0; r < t.rows; ++r)
      for (long c = 0; c < t.cols; ++c) t.at(r, c) = m(r, c);
    return t;
  }
  IndexTensor upload_indices(std::span<const std::int32_t> ids) const { return {ids.begin(), ids.end()}; }
  HostMatrix download(const Tensor& t) const {
    HostMatrix m(t.rows, t.cols);
    for (long r = 0; r < t.rows; ++r)
      for (long c = 0; c < t.cols; ++c) m(r, c) = t.at(r, c);
    return m;
  }

  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    if (x.cols != w.cols) throw std::invalid_argument("naive linear: shape");
    Tensor out;
    out.resize(x.rows, w.rows);
    for (long i = 0; i < x.rows; ++i) {
      for (long o = 0; o < w.rows; ++o) {
        double acc = b.size() ? b.at(0, o) : 0.0;
        for (long k = 0; k < x.cols; ++k) acc += double(x.at(i, k)) * w.at(o, k);
        out.at(i, o) = static_cast<float>(acc);
      }
    }
    y = std::move(out);
  }

  void add(const Tensor& x, Tensor& y) {
    if (x.rows != y.rows || x.cols != y.cols) throw std::invalid_argument("naive add: shape");
    for (long i = 0; i < y.size(); ++i) y.data[std::size_t(i)] += x.data[std::size_t(i)];
  }

  void layer_norm(const Tensor& x, const Tensor& g, const Tensor& b, float eps, Tensor& y) {
    Tensor out;
    out.resize(x.rows, x.cols);
    for (long r = 0; r < x.rows; ++r) {
      double mean = 0, var = 0;
      for (long c = 0; c < x.cols; ++c) mean += x.at(r, c);
      mean /= double(x.cols);
      for (long c = 0; c < x.cols; ++c) var += (x.at(r, c) - mean) * (x.at(r, c) - mean);
      var /= double(x.cols);
      for (long c = 0; c < x.cols; ++c) {
        out.at(r, c) = static_cast<float>((x.at(r, c) - mean) / std::sqrt(var + eps) * g.at(0, c) + b.at(0, c));
      }
    }
    y = std::move(out);
  }

  void gelu(Tensor& x) {
    for (auto& v : x.data) v = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
  }

  void softmax(Tensor& x) {
    for (long r = 0; r < x.rows; ++r) softmax_row(&x.data[std::size_t(r * x.cols)], x.cols);
  }

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const AttentionDims& d,
                 Tensor& out) {
    Tensor result;
    result.resize(q.rows, q.cols);
    std::vector<float> scores(static_cast<std::size_t>(d.key_len));
    const double scale = 1.0 / std::sqrt(double(d.head_dim));
    for (long b = 0; b < d.batch; ++b) {
      for (long h = 0; h < d.heads; ++h) {
        for (long i = 0; i < d.query_len; ++i) {
          for (long j = 0; j < d.key_len; ++j) {
            double dot = 0;
            for (long e = 0; e < d.head_dim; ++e) {
              dot += double(q.at(b * d.query_len + i, h * d.head_dim + e)) * k.at(b * d.key_len + j, h * d.head_dim + e);
            }
            double s = dot * scale;
            if (mask.size() && mask.at(b, j) == 0.0f) s += std::numeric_limits<float>::lowest();
            scores[std::size_t(j)] = static_cast<float>(s);
          }
          softmax_row(scores.data(), d.key_len);
          for (long e = 0; e < d.head_dim; ++e) {
            double acc = 0;
            for (long j = 0; j < d.key_len; ++j) acc += double(scores[std::size_t(j)]) * v.at(b * d.key_len + j, h * d.head_dim + e);
            result.at(b * d.query_len + i, h * d.head_dim + e) = static_cast<float>(acc);
          }
        }
      }
    }
    out = std::move(result);
  }

  void embedding_lookup(const Tensor& table, const IndexTensor& ids, Tensor& out) {
    Tensor result;
    result.resize(static_cast<long>(ids.size()), table.cols);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] >= table.rows) throw std::out_of_range("naive embedding_lookup: id");
      for (long c = 0; c < table.cols; ++c) result.at(long(i), c) = table.at(ids[i], c);
    }
    out = std::move(result);
  }

  void masked_mean_pool(const Tensor& x, const Tensor& mask, Tensor& out) {
    Tensor result;
    result.resize(mask.rows, x.cols);
    for (long b = 0; b < mask.rows; ++b) {
      double count = 0;
      for (long s = 0; s < mask.cols; ++s) count += mask.at(b, s);
      for (long c = 0; c < x.cols; ++c) {
        double acc = 0;
        for (long s = 0; s < mask.cols; ++s) acc += double(mask.at(b, s)) * x.at(b * mask.cols + s, c);
        result.at(b, c) = static_cast<float>(acc / std::max(count, 1e-9));
      }
    }
    out = std::move(result);
  }

 private:
  static void softmax_row(float* row, long n) {
    double m = row[0];
    for (long j = 1; j < n; ++j) m = std::max(m, double(row[j]));
    double sum = 0;
    for (long j = 0; j < n; ++j) sum += std::exp(double(row[j]) - m);
    for (long j = 0; j < n; ++j) row[j] = static_cast<float>(std::exp(double(row[j]) - m) / sum);
  }
};

static_assert(EncoderOps<NaiveBackend>);

}  // namespace accelbench::test
