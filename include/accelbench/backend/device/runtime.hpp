#pragma once

// The device tier: the second way to write a backend. A backend that can
// allocate device memory, copy to and from it, and launch the kernels of
// gpu_kernels.hpp gets every op of the four op sets from GpuOps
// (gpu_ops.hpp), with the argument checks and output shapes of the other
// backends. The OpenCL and Cuda backends are written this way;
// docs/writing-a-backend.md describes it.
//
// A device runtime D with its buffer type Buffer provides (DeviceRuntime):
//
//   static name                                        the backend's name
//   Buffer allocate(std::size_t bytes)                 device memory (never 0 bytes)
//   void write(Buffer&, const void*, std::size_t)      host to device, blocking
//   void read(const Buffer&, void*, std::size_t)       device to host, waits for queued work
//   handle(const Buffer&)                              a float buffer as a kernel argument
//   index_handle(const Buffer&)                        an int32 buffer as a kernel argument
//   half_handle(const Buffer&)                         a buffer of 16-bit values as a kernel argument
//                                                      (optional: without it, weights stay fp32)
//   template <GpuKernel K, class... A> void launch(const GpuRange&, A... args)
//                                                      runs kernel K of gpu_kernels.hpp
//   void gemm_nt(const GemmArgs<Buffer>&)              y = x wᵀ on strided views
//
// Kernel arguments are passed with the exact types of the kernels'
// parameters: int, std::int64_t for `long`, float, buffer handles. A Buffer
// is movable, default-constructible (empty) and tests true when it holds
// memory.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "../../core/precision.hpp"

namespace accelbench {

/// The kernels of gpu_kernels.hpp and gpu_detection_kernels.hpp, in the
/// order of gpu_kernel_names.
enum class GpuKernel : int {
  matmul_nt,
  matmul_nt_few,
  add_bias,
  add,
  activation,
  gated,
  row_norm,
  row_scale,
  argmax_rows,
  attention,
  embedding_lookup,
  masked_mean_pool,
  rotary,
  add_positions,
  cache_write,
  relative_bias,
  im2col_2d,
  im2col_1d,
  group_norm,
  prepend_row,
  im2col_rows,  // gpu_detection_kernels.hpp
  max_pool2d,
  mul,
};

inline constexpr const char* gpu_kernel_names[] = {
    "ab_matmul_nt",     "ab_matmul_nt_few",    "ab_add_bias",         "ab_add",       "ab_activation",    "ab_gated",
    "ab_row_norm",      "ab_row_scale",        "ab_argmax_rows", "ab_attention",   "ab_embedding_lookup",
    "ab_masked_mean_pool", "ab_rotary",        "ab_add_positions", "ab_cache_write", "ab_relative_bias",
    "ab_im2col_2d",     "ab_im2col_1d",        "ab_group_norm", "ab_prepend_row", "ab_im2col_rows",
    "ab_max_pool2d",    "ab_mul"};
inline constexpr int gpu_kernel_count = static_cast<int>(sizeof(gpu_kernel_names) / sizeof(gpu_kernel_names[0]));

/// Work-group size of the row kernels (ABK_WG) and tile of the matrix
/// product (ABK_TS).
inline constexpr int gpu_row_group = 128;
inline constexpr int gpu_tile = 16;

/// A launch: global sizes (already multiples of the local sizes) and local sizes.
struct GpuRange {
  std::size_t global0 = 1, global1 = 1;
  std::size_t local0 = 1, local1 = 1;

  /// One work-item per element, in groups of 256.
  static GpuRange elements(std::int64_t count) {
    constexpr std::size_t group = 256;
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(count, 1));
    return {(n + group - 1) / group * group, 1, group, 1};
  }
  /// The matrix product's tiles for y [n, m]: groups of gpu_tile x gpu_tile
  /// work-items, each computing 4 gpu_tile x 4 gpu_tile outputs.
  static GpuRange matmul_tiles(std::int64_t n, std::int64_t m) {
    constexpr std::size_t ts = gpu_tile;
    constexpr std::size_t tile = 4 * ts;
    return {(static_cast<std::size_t>(m) + tile - 1) / tile * ts, (static_cast<std::size_t>(n) + tile - 1) / tile * ts,
            ts, ts};
  }
  /// One group of gpu_row_group work-items per row.
  static GpuRange rows(std::int64_t rows) {
    return {static_cast<std::size_t>(rows) * gpu_row_group, 1, gpu_row_group, 1};
  }
};

/// A 2-D float tensor in device memory, row-major. Resizing keeps the
/// allocation when it is large enough.
template <class Buffer>
struct GpuTensor {
  Buffer buffer{};
  long rows_ = 0;
  long cols_ = 0;
  std::size_t capacity = 0;  ///< floats allocated

  [[nodiscard]] long rows() const noexcept { return rows_; }
  [[nodiscard]] long cols() const noexcept { return cols_; }
  [[nodiscard]] long size() const noexcept { return rows_ * cols_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
};

/// A linear layer's weight in device memory at a Precision, row-major
/// [out, in]: fp32 as a GpuTensor, bf16 or fp16 as their 16 bits, which the
/// matrix product widens to float as it reads them.
template <class Buffer>
struct GpuWeight {
  Precision precision = Precision::fp32;
  GpuTensor<Buffer> fp32;  ///< the values, for fp32
  Buffer bits{};           ///< the 16-bit values, for bf16 and fp16
  long rows_ = 0;
  long cols_ = 0;

  [[nodiscard]] long rows() const noexcept { return rows_; }
  [[nodiscard]] long cols() const noexcept { return cols_; }
  [[nodiscard]] long size() const noexcept { return rows_ * cols_; }
};

/// A runtime that passes a buffer of 16-bit values to a kernel
/// (half_handle): GpuOps then stores linear layers' weights in bf16 and fp16.
template <class D, class Buffer>
concept HasHalfHandle = requires(const Buffer& b) { D::half_handle(b); };

/// Matrix products of at most this many rows (a decode step) run one
/// work-item per output column (ab_matmul_nt_few).
inline constexpr int gpu_few_rows = 8;

/// Token ids or positions in device memory, with the host copy when they
/// came from the host (so that ids can be checked without a transfer).
template <class Buffer>
struct GpuIndices {
  Buffer buffer{};
  std::size_t count = 0;
  std::size_t capacity = 0;
  std::vector<std::int32_t> host;
  bool host_valid = false;

  [[nodiscard]] std::size_t size() const noexcept { return count; }
};

/// The arguments of GEMM y = x wᵀ on strided views: x [n, k] (row stride
/// ldx, from element xoff), w [m, k], y [n, m].
template <class Buffer>
struct GemmArgs {
  const Buffer* x = nullptr;
  std::int64_t xoff = 0;
  int ldx = 0;
  const Buffer* w = nullptr;
  std::int64_t woff = 0;
  int ldw = 0;
  Buffer* y = nullptr;
  std::int64_t yoff = 0;
  int ldy = 0;
  int n = 0, m = 0, k = 0;
};

/// The primitives of a device runtime D over buffers of type Buffer (see
/// the top of this file). GpuOps<D, Buffer> checks it, so a runtime that
/// misses one is told which; a runtime states it with
/// static_assert(accelbench::DeviceRuntime<MyRuntime, MyBuffer>).
template <class D, class Buffer>
concept DeviceRuntime =
    std::movable<Buffer> && std::default_initializable<Buffer> &&
    requires(D& d, Buffer& b, const Buffer& cb, void* out, const void* in, std::size_t bytes,
             const GemmArgs<Buffer>& gemm, const GpuRange& range) {
      { D::name } -> std::convertible_to<std::string_view>;
      { static_cast<bool>(cb) };
      { d.allocate(bytes) } -> std::same_as<Buffer>;
      d.write(b, in, bytes);
      d.read(cb, out, bytes);
      d.handle(cb);
      d.index_handle(cb);
      d.gemm_nt(gemm);
      d.template launch<GpuKernel::add>(range, d.handle(cb), d.handle(cb), std::int64_t{0});
    };

}  // namespace accelbench
