#pragma once

// Named host tensors, the form in which weights reach a model, whether they
// were generated or read from a checkpoint. Names follow Hugging Face.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/precision.hpp"
#include "../../core/tensor.hpp"
#include "../../detail/half.hpp"
#include "../../detail/rng.hpp"

namespace accelbench {

/// A tensor a checkpoint stored as bf16 or fp16, kept as its 16 bits.
struct HalfTensor {
  Precision precision = Precision::bf16;
  HalfBitsMatrix bits;

  /// The values as floats (exactly: every bf16 and fp16 value is a float).
  [[nodiscard]] HostMatrix to_float() const {
    HostMatrix m(bits.rows(), bits.cols());
    detail::half_bits_to_floats(precision == Precision::bf16, bits.data(), m.data(), static_cast<std::size_t>(m.size()));
    return m;
  }
};

/// Named tensors: floats, or (from a checkpoint that stores them so) bf16 or
/// fp16 values kept as stored until a model takes them, widened to float
/// then unless it takes them at their own precision (take_half).
class WeightMap {
 public:
  /// Adds a tensor; a name may be added once.
  void insert(std::string name, HostMatrix value) {
    refuse_twice(name);
    tensors_.emplace(std::move(name), std::move(value));
  }
  /// Adds a tensor kept at 16 bits; a name may be added once.
  void insert(std::string name, HalfTensor value) {
    if (value.precision == Precision::fp32) {
      throw std::invalid_argument("weights: tensor '" + name + "': 16-bit values are bf16 or fp16, not fp32");
    }
    refuse_twice(name);
    halves_.emplace(std::move(name), std::move(value));
  }

  [[nodiscard]] bool contains(std::string_view name) const {
    return tensors_.find(name) != tensors_.end() || halves_.find(name) != halves_.end();
  }

  /// The named tensor as floats: a 16-bit one is widened, and kept so (its
  /// values do not change, hence const; a WeightMap is not shared between
  /// threads).
  [[nodiscard]] const HostMatrix& at(std::string_view name) const {
    const auto it = tensors_.find(name);
    if (it != tensors_.end()) return it->second;
    const auto h = halves_.find(name);
    if (h == halves_.end()) throw std::out_of_range("weights: no tensor named '" + std::string(name) + "'");
    auto widened = tensors_.emplace(h->first, h->second.to_float()).first;
    halves_.erase(h);
    return widened->second;
  }

  /// Removes the named tensor and returns it as floats, after checking its shape.
  [[nodiscard]] HostMatrix take(std::string_view name, Eigen::Index rows, Eigen::Index cols) {
    const auto h = halves_.find(name);
    if (h != halves_.end()) {
      check_shape(name, h->second.bits.rows(), h->second.bits.cols(), rows, cols);
      HostMatrix out = h->second.to_float();
      halves_.erase(h);
      return out;
    }
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::out_of_range("weights: no tensor named '" + std::string(name) + "'");
    check_shape(name, it->second.rows(), it->second.cols(), rows, cols);
    HostMatrix out = std::move(it->second);
    tensors_.erase(it);
    return out;
  }

  /// Removes the named tensor and returns its 16 bits, after checking its
  /// shape, when it is stored at `precision`; otherwise leaves it and
  /// returns nothing (take gives it as floats).
  [[nodiscard]] std::optional<HalfBitsMatrix> take_half(std::string_view name, Eigen::Index rows, Eigen::Index cols,
                                                        Precision precision) {
    const auto h = halves_.find(name);
    if (h == halves_.end() || h->second.precision != precision) return std::nullopt;
    check_shape(name, h->second.bits.rows(), h->second.bits.cols(), rows, cols);
    HalfBitsMatrix out = std::move(h->second.bits);
    halves_.erase(h);
    return out;
  }

  /// Moves the named tensor, in the form it is kept, into `out` as `new_name`.
  void move_to(std::string_view name, WeightMap& out, std::string new_name) {
    if (const auto h = halves_.find(name); h != halves_.end()) {
      out.insert(std::move(new_name), std::move(h->second));
      halves_.erase(h);
      return;
    }
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::out_of_range("weights: no tensor named '" + std::string(name) + "'");
    out.insert(std::move(new_name), std::move(it->second));
    tensors_.erase(it);
  }

  /// Whether two tensors have the same shape and values: compared as
  /// stored when both are 16-bit at one precision, as floats otherwise.
  [[nodiscard]] bool same_values(std::string_view a, std::string_view b) {
    const auto ha = halves_.find(a);
    const auto hb = halves_.find(b);
    if (ha != halves_.end() && hb != halves_.end() && ha->second.precision == hb->second.precision) {
      const HalfBitsMatrix& x = ha->second.bits;
      const HalfBitsMatrix& y = hb->second.bits;
      return x.rows() == y.rows() && x.cols() == y.cols() && x == y;
    }
    const HostMatrix& x = at(a);
    const HostMatrix& y = at(b);
    return x.rows() == y.rows() && x.cols() == y.cols() && x == y;
  }

  /// Removes the named tensor.
  void erase(std::string_view name) {
    if (const auto h = halves_.find(name); h != halves_.end()) {
      halves_.erase(h);
    } else if (const auto it = tensors_.find(name); it != tensors_.end()) {
      tensors_.erase(it);
    } else {
      throw std::out_of_range("weights: no tensor named '" + std::string(name) + "'");
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return tensors_.size() + halves_.size(); }
  [[nodiscard]] bool empty() const noexcept { return tensors_.empty() && halves_.empty(); }

  /// Every name, in order.
  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(size());
    for (const auto& [name, _] : tensors_) out.push_back(name);
    for (const auto& [name, _] : halves_) out.push_back(name);
    std::ranges::sort(out);
    return out;
  }

  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    std::int64_t n = 0;
    for (const auto& [_, t] : tensors_) n += t.size();
    for (const auto& [_, t] : halves_) n += t.bits.size();
    return n;
  }

 private:
  void refuse_twice(const std::string& name) const {
    if (contains(name)) throw std::invalid_argument("weights: tensor '" + name + "' given twice");
  }

  static void check_shape(std::string_view name, Eigen::Index has_rows, Eigen::Index has_cols, Eigen::Index rows,
                          Eigen::Index cols) {
    if (has_rows != rows || has_cols != cols) {
      throw std::invalid_argument("weights: tensor '" + std::string(name) + "' is [" + std::to_string(has_rows) +
                                  ", " + std::to_string(has_cols) + "], expected [" + std::to_string(rows) + ", " +
                                  std::to_string(cols) + "]");
    }
  }

  // mutable: at() widens a 16-bit tensor in place.
  mutable std::map<std::string, HostMatrix, std::less<>> tensors_;
  mutable std::map<std::string, HalfTensor, std::less<>> halves_;
};

/// A deterministic synthetic tensor: uniform values with the given mean and
/// standard deviation, from the stream named by `name` under `seed`.
[[nodiscard]] inline HostMatrix synthetic_tensor(std::string_view name, Eigen::Index rows, Eigen::Index cols,
                                                 std::uint64_t seed, float mean, float stddev) {
  HostMatrix m(rows, cols);
  const std::uint64_t stream = detail::stream_seed(seed, name);
  const float half_width = stddev * std::sqrt(3.0f);  // uniform on [-a, a] has stddev a / sqrt(3)
  float* data = m.data();
  const auto n = static_cast<std::int64_t>(m.size());
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (n > (1 << 20))
#endif
  for (std::int64_t i = 0; i < n; ++i) {
    data[i] = mean + half_width * (2.0f * detail::random_unit(stream, static_cast<std::uint64_t>(i)) - 1.0f);
  }
  return m;
}

/// Every tensor of an architecture by its Hugging Face name, with its shape
/// as stored in checkpoints (a 1-D tensor as [1, n]).
using TensorShapes = std::vector<std::pair<std::string, std::array<Eigen::Index, 2>>>;

/// Parameters of a list of tensor shapes.
[[nodiscard]] inline std::int64_t shape_parameter_count(const TensorShapes& shapes) noexcept {
  std::int64_t n = 0;
  for (const auto& [name, shape] : shapes) n += shape[0] * shape[1];
  return n;
}

/// Deterministic synthetic weights for every tensor of `shapes`, the same
/// for every architecture: scales (the tensors for which `is_scale(name)`
/// holds, norm weights and the like) near one, biases (".bias") and scales'
/// shifts small, everything else (matrices, embeddings, class tokens) with
/// standard deviation 0.02. The same seed gives the same weights everywhere.
template <class IsScale>
[[nodiscard]] WeightMap synthetic_weights(const TensorShapes& shapes, std::uint64_t seed, IsScale&& is_scale) {
  WeightMap w;
  for (const auto& [name, shape] : shapes) {
    const std::string_view n = name;
    const bool is_bias = n.ends_with(".bias");
    const bool scale = is_scale(n);
    const float mean = scale && !is_bias ? 1.0f : 0.0f;
    const float stddev = scale || is_bias ? 0.01f : 0.02f;
    w.insert(name, synthetic_tensor(name, shape[0], shape[1], seed, mean, stddev));
  }
  return w;
}

/// True when `name` contains one of `markers` (a synthetic_weights rule).
[[nodiscard]] inline bool name_contains_any(std::string_view name, std::initializer_list<std::string_view> markers) {
  for (const auto m : markers) {
    if (name.find(m) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace accelbench
