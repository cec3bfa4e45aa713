#pragma once

// Named host tensors, the form in which weights reach a model, whether they
// were generated or read from a checkpoint. Names follow Hugging Face.

#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../detail/rng.hpp"
#include "../../core/tensor.hpp"

namespace accelbench {

class WeightMap {
 public:
  /// Adds a tensor; a name may be added once.
  void insert(std::string name, HostMatrix value) {
    if (tensors_.count(name) != 0) throw std::invalid_argument("weights: tensor '" + name + "' given twice");
    tensors_.emplace(std::move(name), std::move(value));
  }

  [[nodiscard]] bool contains(std::string_view name) const { return tensors_.find(name) != tensors_.end(); }

  [[nodiscard]] const HostMatrix& at(std::string_view name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::out_of_range("weights: no tensor named '" + std::string(name) + "'");
    return it->second;
  }

  /// Removes the named tensor and returns it, after checking its shape.
  [[nodiscard]] HostMatrix take(std::string_view name, Eigen::Index rows, Eigen::Index cols) {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::out_of_range("weights: no tensor named '" + std::string(name) + "'");
    if (it->second.rows() != rows || it->second.cols() != cols) {
      throw std::invalid_argument("weights: tensor '" + std::string(name) + "' is [" +
                                  std::to_string(it->second.rows()) + ", " + std::to_string(it->second.cols()) +
                                  "], expected [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
    }
    HostMatrix out = std::move(it->second);
    tensors_.erase(it);
    return out;
  }

  [[nodiscard]] std::size_t size() const noexcept { return tensors_.size(); }
  [[nodiscard]] bool empty() const noexcept { return tensors_.empty(); }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(tensors_.size());
    for (const auto& [name, _] : tensors_) out.push_back(name);
    return out;
  }

  [[nodiscard]] std::int64_t parameter_count() const noexcept {
    std::int64_t n = 0;
    for (const auto& [_, t] : tensors_) n += t.size();
    return n;
  }

 private:
  std::map<std::string, HostMatrix, std::less<>> tensors_;
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
