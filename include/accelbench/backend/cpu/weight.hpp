#pragma once

// A linear layer's weight on the Cpu backend, stored at a Precision: fp32 as
// floats, bf16 or fp16 as their 16 bits, row-major [out, in] as in PyTorch.
// Cpu::linear widens the 16-bit values to float as it reads them
// (cpu/gemm.hpp), so a product reads half the bytes. The values live on
// transparent huge pages where the kernel grants them (detail/huge_pages.hpp):
// a decode step streams every weight once, faster on 2 MiB pages.

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../../core/precision.hpp"
#include "../../core/tensor.hpp"
#include "../../detail/half.hpp"
#include "../../detail/huge_pages.hpp"

namespace accelbench {

class CpuWeight {
 public:
  using Index = Eigen::Index;
  using Floats = std::vector<float, detail::HugePageAllocator<float>>;
  using Bits = std::vector<std::uint16_t, detail::HugePageAllocator<std::uint16_t>>;

  CpuWeight() = default;

  /// An fp32 weight, its values as they are.
  explicit CpuWeight(const HostMatrix& m) : CpuWeight(m, Precision::fp32) {}

  /// `m` stored at `precision`: as it is for fp32, each value rounded to
  /// nearest (ties to even) for bf16 and fp16.
  CpuWeight(const HostMatrix& m, Precision precision) : precision_(precision), rows_(m.rows()), cols_(m.cols()) {
    if (precision == Precision::fp32) {
      fp32_.assign(m.data(), m.data() + m.size());
      return;
    }
    bits_.resize(static_cast<std::size_t>(m.size()));
    detail::floats_to_half_bits(precision == Precision::bf16, m.data(), bits_.data(), bits_.size());
  }

  /// A weight already stored in a 16-bit format (a checkpoint's bf16 or fp16
  /// tensor), its values as they are: rows x cols values, row-major.
  [[nodiscard]] static CpuWeight from_bits(Precision precision, Index rows, Index cols,
                                           std::span<const std::uint16_t> bits) {
    if (precision == Precision::fp32) {
      throw std::invalid_argument("CpuWeight::from_bits: precision = fp32: 16-bit values are bf16 or fp16");
    }
    if (rows < 0 || cols < 0 || static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) != bits.size()) {
      throw std::invalid_argument("CpuWeight::from_bits: " + std::to_string(bits.size()) + " values for [" +
                                  std::to_string(rows) + ", " + std::to_string(cols) + "]");
    }
    CpuWeight w;
    w.precision_ = precision;
    w.rows_ = rows;
    w.cols_ = cols;
    w.bits_.assign(bits.begin(), bits.end());
    return w;
  }

  [[nodiscard]] Precision precision() const noexcept { return precision_; }
  [[nodiscard]] Index rows() const noexcept { return rows_; }
  [[nodiscard]] Index cols() const noexcept { return cols_; }
  [[nodiscard]] Index size() const noexcept { return rows_ * cols_; }

  /// Bytes of the stored values.
  [[nodiscard]] std::uint64_t bytes() const noexcept {
    return static_cast<std::uint64_t>(size()) * static_cast<std::uint64_t>(precision_bytes(precision_));
  }

  /// The fp32 values, [rows, cols] row-major; only for an fp32 weight.
  [[nodiscard]] Eigen::Map<const HostMatrix> fp32() const {
    if (precision_ != Precision::fp32) {
      throw std::logic_error("CpuWeight::fp32: the weight is stored as " + std::string(precision_name(precision_)));
    }
    return Eigen::Map<const HostMatrix>(fp32_.data(), rows_, cols_);
  }

  /// The 16-bit values, row-major; empty for an fp32 weight.
  [[nodiscard]] const Bits& bits() const noexcept { return bits_; }

  /// The stored values as floats (exactly: every bf16 and fp16 value is a float).
  [[nodiscard]] HostMatrix to_float() const {
    if (precision_ == Precision::fp32) return fp32();
    HostMatrix m(rows_, cols_);
    detail::half_bits_to_floats(precision_ == Precision::bf16, bits_.data(), m.data(), bits_.size());
    return m;
  }

 private:
  Precision precision_ = Precision::fp32;
  Index rows_ = 0;
  Index cols_ = 0;
  Floats fp32_;
  Bits bits_;
};

}  // namespace accelbench
