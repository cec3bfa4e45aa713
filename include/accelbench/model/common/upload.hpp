#pragma once

// Taking a model's weights from a WeightMap and uploading them to its
// backend, counting parameters and bytes as they go: the one way every
// architecture's constructor loads its tensors.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "../../core/tensor.hpp"
#include "weights.hpp"

namespace accelbench {

/// Parameters and bytes of the weights a model took.
struct WeightTally {
  std::int64_t parameters = 0;
  std::uint64_t bytes = 0;
};

/// Takes tensors by name from `weights` (checking each shape), counts them
/// in `tally` and uploads them to `backend`.
template <class B>
class WeightUploader {
 public:
  using Tensor = typename B::Tensor;

  WeightUploader(B& backend, WeightMap& weights, WeightTally& tally) noexcept
      : backend_(&backend), weights_(&weights), tally_(&tally) {}

  /// The named tensor on the host, counted (for weights that are reshaped,
  /// split or merged before they are uploaded).
  [[nodiscard]] HostMatrix host(const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    HostMatrix m = weights_->take(name, rows, cols);
    tally_->bytes += static_cast<std::uint64_t>(m.size()) * sizeof(float);
    tally_->parameters += m.size();
    return m;
  }

  /// The named tensor, counted and uploaded.
  [[nodiscard]] Tensor operator()(const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    return backend_->upload(host(name, rows, cols));
  }

  /// Uploads a matrix derived from counted tensors (not counted again).
  [[nodiscard]] Tensor upload(const HostMatrix& m) { return backend_->upload(m); }

  /// Throws unless every tensor of the WeightMap was taken: a tensor the
  /// model does not use means the checkpoint describes another model (the
  /// tensors each architecture leaves out on purpose are dropped, with
  /// their reason, where the checkpoint is read).
  void finish(std::string_view model) const {
    if (weights_->empty()) return;
    std::string names;
    for (const auto& n : weights_->names()) names += (names.empty() ? "'" : ", '") + n + "'";
    throw std::invalid_argument("weights: " + std::to_string(weights_->size()) + " tensor" +
                                (weights_->size() == 1 ? "" : "s") + " that " + std::string(model) +
                                " does not use: " + names);
  }

 private:
  B* backend_;
  WeightMap* weights_;
  WeightTally* tally_;
};

}  // namespace accelbench
