#pragma once

// Named host tensors, the form in which weights reach a model, whether they
// were generated or read from a checkpoint. Names follow Hugging Face.

#include <cmath>
#include <cstdint>
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

}  // namespace accelbench
