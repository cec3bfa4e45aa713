#pragma once

// GpuOps' linear, on fp32 weights and on weights at a precision
// (HasWeightPrecision, HasHalfWeights): fp32 weights as tensors, bf16 and
// fp16 ones as their 16 bits, which the matrix-product kernels of
// gpu_kernels.hpp widen as they read them. Part of gpu_ops.hpp, which
// includes this header after the class: include that one.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../core/precision.hpp"
#include "../../core/tensor.hpp"
#include "../../detail/half.hpp"
#include "runtime.hpp"

namespace accelbench {

template <class Derived, class Buffer>
void GpuOps<Derived, Buffer>::check_linear(const Tensor& x, long w_rows, long w_cols, const Tensor& b) {
  if (x.cols() != w_cols) {
    fail("linear", "input has " + std::to_string(x.cols()) + " columns, weight expects " + std::to_string(w_cols));
  }
  if (!b.empty() && (b.rows() != 1 || b.cols() != w_rows)) {
    fail("linear", "bias must be [1, " + std::to_string(w_rows) + "]");
  }
}

/// y = x wᵀ + b: one GEMM (the runtime's gemm_nt), then the bias.
template <class Derived, class Buffer>
void GpuOps<Derived, Buffer>::linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  check_linear(x, w.rows(), w.cols(), b);
  with_output(y, &x == &y, [&](Tensor& out) {
    ensure(out, x.rows(), w.rows());
    gemm(x, w, 0, static_cast<int>(w.rows()), out, 0, static_cast<int>(x.rows()), static_cast<int>(x.cols()));
    if (!b.empty()) add_bias(out, 0, b, static_cast<int>(x.rows()), static_cast<int>(w.rows()));
  });
}

/// `m` stored at `precision`: as it is for fp32, rounded to nearest (ties to
/// even) for bf16 and fp16.
template <class Derived, class Buffer>
auto GpuOps<Derived, Buffer>::upload_weight(const HostMatrix& m, Precision precision) -> Weight
  requires HasHalfHandle<Derived, Buffer>
{
  if (precision == Precision::fp32) {
    Weight w;
    w.fp32 = upload(m);
    w.rows_ = static_cast<long>(m.rows());
    w.cols_ = static_cast<long>(m.cols());
    return w;
  }
  HalfBitsMatrix bits(m.rows(), m.cols());
  detail::floats_to_half_bits(precision == Precision::bf16, m.data(), bits.data(), static_cast<std::size_t>(m.size()));
  return upload_weight_bits(precision, bits);
}

/// 16-bit values (bf16 or fp16 by `precision`) stored as they are.
template <class Derived, class Buffer>
auto GpuOps<Derived, Buffer>::upload_weight_bits(Precision precision, const HalfBitsMatrix& bits) -> Weight
  requires HasHalfHandle<Derived, Buffer>
{
  if (precision == Precision::fp32) fail("upload_weight_bits", "precision = fp32: 16-bit values are bf16 or fp16");
  Weight w;
  w.precision = precision;
  w.rows_ = static_cast<long>(bits.rows());
  w.cols_ = static_cast<long>(bits.cols());
  const std::size_t n = static_cast<std::size_t>(bits.size());
  w.bits = d().allocate(std::max<std::size_t>(n, 1) * sizeof(std::uint16_t));
  if (n > 0) d().write(w.bits, bits.data(), n * sizeof(std::uint16_t));
  return w;
}

/// y = x wᵀ + b with w at its precision: 16-bit weights are widened to float
/// as the product (ab_matmul_nt, ab_matmul_nt_few) reads them; products and
/// sums in fp32.
template <class Derived, class Buffer>
void GpuOps<Derived, Buffer>::linear(const Tensor& x, const Weight& w, const Tensor& b, Tensor& y)
  requires HasHalfHandle<Derived, Buffer>
{
  if (w.precision == Precision::fp32) {
    linear(x, w.fp32, b, y);
    return;
  }
  check_linear(x, w.rows(), w.cols(), b);
  with_output(y, &x == &y, [&](Tensor& out) {
    ensure(out, x.rows(), w.rows());
    const int n = static_cast<int>(x.rows());
    const int m = static_cast<int>(w.rows());
    const int k = static_cast<int>(x.cols());
    const int wkind = w.precision == Precision::bf16 ? 1 : 2;
    const Buffer no_floats{};  // the kernels read the 16 bits only
    const auto floats = d().handle(no_floats);
    const auto bits = Derived::half_handle(w.bits);
    if (n > 0 && m > 0 && n <= gpu_few_rows) {
      d().template launch<GpuKernel::matmul_nt_few>(GpuRange::elements(m), h(x), i64(0), k, floats, i64(0), k, bits,
                                                    wkind, h(out), i64(0), m, n, m, k);
    } else if (n > 0 && m > 0) {
      d().template launch<GpuKernel::matmul_nt>(GpuRange::matmul_tiles(n, m), h(x), i64(0), k, floats, i64(0), k,
                                                bits, wkind, h(out), i64(0), m, n, m, k);
    }
    if (!b.empty()) add_bias(out, 0, b, n, m);
  });
}

}  // namespace accelbench
