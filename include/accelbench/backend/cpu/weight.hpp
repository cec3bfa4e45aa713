#pragma once

// A linear layer's weight on the Cpu backend, stored at a Precision: fp32 as
// floats, bf16 or fp16 as their 16 bits. Where Cpu has its own product
// (ACCELBENCH_CPU_GEMM, cpu/gemm.hpp) the values are packed once, here, into
// the panels that product reads (detail::pack_panels), and every product
// reads them as they are; otherwise they stay row-major [out, in], as in
// PyTorch, for Eigen's product. Cpu::linear widens 16-bit values to float as
// it reads them, so a product reads half the bytes. The values live on
// transparent huge pages where the kernel grants them
// (detail/huge_pages.hpp): a decode step streams every weight once, faster
// on 2 MiB pages.

#include <algorithm>
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
#include "gemm.hpp"

namespace accelbench {

class CpuWeight {
 public:
  using Index = Eigen::Index;
  using Floats = std::vector<float, detail::HugePageAllocator<float>>;
  using Bits = std::vector<std::uint16_t, detail::HugePageAllocator<std::uint16_t>>;

  /// Whether the values are packed in panels (Cpu's own product) rather
  /// than row-major (Eigen's).
  static constexpr bool packed = ACCELBENCH_CPU_GEMM != 0;

  CpuWeight() = default;

  /// An fp32 weight, its values as they are.
  explicit CpuWeight(const HostMatrix& m) : CpuWeight(m, Precision::fp32) {}

  /// `m` stored at `precision`: as it is for fp32, each value rounded to
  /// nearest (ties to even) for bf16 and fp16.
  CpuWeight(const HostMatrix& m, Precision precision) : precision_(precision), rows_(m.rows()), cols_(m.cols()) {
    if (precision == Precision::fp32) {
      store<Precision::fp32>(m.data(), fp32_);
      return;
    }
    std::vector<std::uint16_t> bits(static_cast<std::size_t>(m.size()));
    detail::floats_to_half_bits(precision == Precision::bf16, m.data(), bits.data(), bits.size());
    store_bits(bits.data());
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
    w.store_bits(bits.data());
    return w;
  }

  [[nodiscard]] Precision precision() const noexcept { return precision_; }
  [[nodiscard]] Index rows() const noexcept { return rows_; }
  [[nodiscard]] Index cols() const noexcept { return cols_; }
  [[nodiscard]] Index size() const noexcept { return rows_ * cols_; }

  /// Bytes of the weight's values (the panels' padding not counted).
  [[nodiscard]] std::uint64_t bytes() const noexcept {
    return static_cast<std::uint64_t>(size()) * static_cast<std::uint64_t>(precision_bytes(precision_));
  }

  /// The stored fp32 values (in panels where `packed`, else row-major); only
  /// for an fp32 weight.
  [[nodiscard]] const float* fp32_data() const {
    if (precision_ != Precision::fp32) {
      throw std::logic_error("CpuWeight::fp32_data: the weight is stored as " + std::string(precision_name(precision_)));
    }
    return fp32_.data();
  }

  /// The stored 16-bit values (in panels where `packed`, else row-major);
  /// only for a bf16 or fp16 weight.
  [[nodiscard]] const std::uint16_t* bits_data() const {
    if (precision_ == Precision::fp32) throw std::logic_error("CpuWeight::bits_data: the weight is stored as fp32");
    return bits_.data();
  }

  /// The stored values as floats, [rows, cols] row-major (exactly: every
  /// bf16 and fp16 value is a float).
  [[nodiscard]] HostMatrix to_float() const {
    HostMatrix m(rows_, cols_);
    if (precision_ == Precision::fp32) {
      unstore<Precision::fp32>(fp32_.data(), m.data());
      return m;
    }
    const HalfBitsMatrix bits = to_bits();
    detail::half_bits_to_floats(precision_ == Precision::bf16, bits.data(), m.data(), static_cast<std::size_t>(m.size()));
    return m;
  }

  /// The stored 16-bit values, [rows, cols] row-major; only for a bf16 or
  /// fp16 weight.
  [[nodiscard]] HalfBitsMatrix to_bits() const {
    HalfBitsMatrix m(rows_, cols_);
    if (precision_ == Precision::bf16) {
      unstore<Precision::bf16>(bits_data(), m.data());
    } else {
      unstore<Precision::fp16>(bits_data(), m.data());
    }
    return m;
  }

 private:
  template <Precision P, class Values>
  void store(const detail::weight_element_t<P>* row_major, Values& out) {
#if ACCELBENCH_CPU_GEMM
    out.resize(static_cast<std::size_t>(detail::packed_size(rows_, cols_)));
    detail::pack_panels<P>(row_major, rows_, cols_, out.data());
#else
    out.assign(row_major, row_major + size());
#endif
  }

  template <Precision P>
  void unstore(const detail::weight_element_t<P>* stored, detail::weight_element_t<P>* row_major) const {
#if ACCELBENCH_CPU_GEMM
    detail::unpack_panels<P>(stored, rows_, cols_, row_major);
#else
    std::copy(stored, stored + size(), row_major);
#endif
  }

  void store_bits(const std::uint16_t* row_major) {
    if (precision_ == Precision::bf16) {
      store<Precision::bf16>(row_major, bits_);
    } else {
      store<Precision::fp16>(row_major, bits_);
    }
  }

  Precision precision_ = Precision::fp32;
  Index rows_ = 0;
  Index cols_ = 0;
  Floats fp32_;
  Bits bits_;
};

}  // namespace accelbench
