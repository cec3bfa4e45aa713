#pragma once

// Taking a model's weights from a WeightMap and uploading them to its
// backend, counting parameters and bytes as they go: the one way every
// architecture's constructor loads its tensors.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../backend/hooks.hpp"
#include "../../core/error.hpp"
#include "../../core/precision.hpp"
#include "../../core/tensor.hpp"
#include "weights.hpp"

namespace accelbench {

/// Parameters and bytes of the weights a model took.
struct WeightTally {
  std::int64_t parameters = 0;
  std::uint64_t bytes = 0;
};

/// Takes tensors by name from `weights` (checking each shape), counts them
/// in `tally` and uploads them to `backend`. Linear layers' weights (weight,
/// stacked_weight, transposed_weights, copy_weight) are stored at
/// `precision`, on a backend with HasWeightPrecision; on another, a precision
/// other than fp32 is refused. A checkpoint's tensor stored at the precision
/// reaches a backend with HasHalfWeights as it was stored, never widened.
template <class B>
class WeightUploader {
 public:
  using Tensor = typename B::Tensor;
  using Weight = weight_t<B>;

  WeightUploader(B& backend, WeightMap& weights, WeightTally& tally, Precision precision = Precision::fp32)
      : backend_(&backend), weights_(&weights), tally_(&tally), precision_(precision) {
    if (!HasWeightPrecision<B> && precision != Precision::fp32) {
      throw ConfigError("precision", std::string(precision_name(precision)),
                        "backend " + std::string(B::name) + " stores weights as fp32 only");
    }
  }

  /// The named tensor on the host, counted (for weights that are reshaped,
  /// split or merged before they are uploaded).
  [[nodiscard]] HostMatrix host(const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    return take_counted(name, rows, cols, sizeof(float));
  }

  /// The named tensor, counted and uploaded.
  [[nodiscard]] Tensor operator()(const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    return backend_->upload(host(name, rows, cols));
  }

  /// Uploads a matrix derived from counted tensors (not counted again).
  [[nodiscard]] Tensor upload(const HostMatrix& m) { return backend_->upload(m); }
  [[nodiscard]] Tensor upload(HostMatrix&& m) { return backend_->upload(std::move(m)); }

  /// The named tensor as a linear layer's weight: counted and stored at the
  /// precision (a checkpoint's tensor stored at it is kept as it is).
  [[nodiscard]] Weight weight(const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    if (auto bits = take_half(name, rows, cols)) return upload_weight_bits(*bits);
    return upload_weight(weight_host(name, rows, cols));
  }

  /// The named tensors, each [rows, cols], stacked by rows into one linear
  /// layer's weight at the precision (kept as stored when all are at it).
  [[nodiscard]] Weight stacked_weight(const std::vector<std::string>& names, Eigen::Index rows, Eigen::Index cols) {
    std::vector<std::optional<HalfBitsMatrix>> bits;
    for (const auto& name : names) bits.push_back(take_half(name, rows, cols));
    const auto n = static_cast<Eigen::Index>(names.size());
    if (std::ranges::all_of(bits, [](const auto& b) { return b.has_value(); })) {
      HalfBitsMatrix all(n * rows, cols);
      for (Eigen::Index i = 0; i < n; ++i) all.middleRows(i * rows, rows) = *bits[static_cast<std::size_t>(i)];
      return upload_weight_bits(all);
    }
    HostMatrix all(n * rows, cols);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto& b = bits[static_cast<std::size_t>(i)];
      all.middleRows(i * rows, rows) = b ? HalfTensor{precision_, *b}.to_float()
                                         : weight_host(names[static_cast<std::size_t>(i)], rows, cols);
    }
    return upload_weight(all);
  }

  /// The named tensor [rows, cols] stored as [in, out] (a Conv1D's weight):
  /// its columns split into `parts` equal blocks, each transposed into a
  /// linear layer's weight [cols / parts, rows] at the precision (kept as
  /// stored when it is at it).
  [[nodiscard]] std::vector<Weight> transposed_weights(const std::string& name, Eigen::Index rows, Eigen::Index cols,
                                                       Eigen::Index parts = 1) {
    const Eigen::Index width = cols / parts;
    std::vector<Weight> out;
    if (auto bits = take_half(name, rows, cols)) {
      for (Eigen::Index p = 0; p < parts; ++p) {
        out.push_back(upload_weight_bits(HalfBitsMatrix(bits->middleCols(p * width, width).transpose())));
      }
      return out;
    }
    const HostMatrix m = weight_host(name, rows, cols);
    for (Eigen::Index p = 0; p < parts; ++p) {
      out.push_back(upload_weight(HostMatrix(m.middleCols(p * width, width).transpose())));
    }
    return out;
  }

  /// A second copy of counted values as a linear layer's weight at the
  /// precision (a tied head kept apart from its embedding table): its bytes
  /// are counted, its parameters are not.
  [[nodiscard]] Weight copy_weight(const HostMatrix& m) {
    count_bytes(m, precision_bytes(precision_));
    return upload_weight(m);
  }

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
  void count_bytes(const HostMatrix& m, std::size_t bytes_per_value) {
    tally_->bytes += static_cast<std::uint64_t>(m.size()) * bytes_per_value;
  }

  /// The named tensor, its parameters counted and its bytes at bytes_per_value.
  HostMatrix take_counted(const std::string& name, Eigen::Index rows, Eigen::Index cols, std::size_t bytes_per_value) {
    HostMatrix m = weights_->take(name, rows, cols);
    count_bytes(m, bytes_per_value);
    tally_->parameters += m.size();
    return m;
  }

  /// The named tensor on the host, counted at the precision: a linear
  /// layer's weight (or a part of one) on its way to upload_weight.
  [[nodiscard]] HostMatrix weight_host(const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    return take_counted(name, rows, cols, precision_bytes(precision_));
  }

  /// Stores a linear layer's weight made from counted tensors at the
  /// precision (not counted again).
  [[nodiscard]] Weight upload_weight(const HostMatrix& m) {
    if constexpr (HasWeightPrecision<B>) {
      return backend_->upload_weight(m, precision_);
    } else {
      return backend_->upload(m);
    }
  }

  /// The named tensor's 16 bits, counted, when the backend keeps 16-bit
  /// weights as given and the checkpoint stored it at the precision.
  std::optional<HalfBitsMatrix> take_half(const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    if constexpr (HasHalfWeights<B>) {
      if (precision_ == Precision::fp32) return std::nullopt;
      auto bits = weights_->take_half(name, rows, cols, precision_);
      if (bits) {
        tally_->bytes += static_cast<std::uint64_t>(bits->size()) * sizeof(std::uint16_t);
        tally_->parameters += bits->size();
      }
      return bits;
    } else {
      (void)name, (void)rows, (void)cols;
      return std::nullopt;
    }
  }

  Weight upload_weight_bits(const HalfBitsMatrix& m) {
    if constexpr (HasHalfWeights<B>) {
      return backend_->upload_weight_bits(precision_, m);
    } else {
      throw std::logic_error("WeightUploader: backend " + std::string(B::name) + " takes no 16-bit weights");
    }
  }

  B* backend_;
  WeightMap* weights_;
  WeightTally* tally_;
  Precision precision_;
};

}  // namespace accelbench
