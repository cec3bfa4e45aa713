#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>

#include "../result.hpp"
#include "../tensor.hpp"

namespace accelbench {

/// A device that accelbench can run on: it says whether it is available and
/// what it is, moves data between host and device, and can wait for queued
/// work. Ops come in separate op-set concepts (EncoderOps, ...), so a backend
/// supports the architectures whose ops it provides. See docs/concepts.md.
template <class B>
concept Backend = requires(B& b, const B& cb, const HostMatrix& host, std::span<const std::int32_t> ids,
                           const typename B::Tensor& tensor) {
  typename B::Tensor;       // device tensor of float, 2-D
  typename B::IndexTensor;  // device array of int32 (token ids, positions)
  { B::name } -> std::convertible_to<std::string_view>;
  { B::available() } -> std::same_as<Availability>;
  { cb.describe() } -> std::same_as<DeviceInfo>;
  { b.synchronize() };
  { b.upload(host) } -> std::same_as<typename B::Tensor>;
  { b.upload_indices(ids) } -> std::same_as<typename B::IndexTensor>;
  { b.download(tensor) } -> std::same_as<HostMatrix>;
} && std::movable<typename B::Tensor> && std::default_initializable<typename B::Tensor>;

/// The ops of a transformer encoder (BERT). All tensors are 2-D row-major;
/// an op resizes its output argument, which may be reused between calls.
///
///   linear(x, w, b, y)            y = x wᵀ + b; w is [out, in] as in PyTorch; b is [1, out] or empty
///   add(x, y)                     y += x (residual)
///   layer_norm(x, g, b, eps, y)   y = (x - mean) / sqrt(var + eps) * g + b per row; y may be x
///   gelu(x)                       in place, erf form: x/2 (1 + erf(x / sqrt 2))
///   softmax(x)                    in place, per row
///   attention(q, k, v, m, d, y)   scaled dot-product attention per batch and head;
///                                 m is [batch, key_len] with 1 = attend, 0 = padding, or empty
///   embedding_lookup(t, ids, y)   y[i] = t[ids[i]]
///   masked_mean_pool(x, m, y)     y[b] = mean of the rows of sequence b where m[b] is 1
template <class B>
concept EncoderOps = Backend<B> && requires(B& b, const typename B::Tensor& x, typename B::Tensor& y,
                                            const typename B::IndexTensor& ids, const AttentionDims& dims,
                                            float eps) {
  b.linear(x, x, x, y);
  b.add(x, y);
  b.layer_norm(x, x, x, eps, y);
  b.gelu(y);
  b.softmax(y);
  b.attention(x, x, x, x, dims, y);
  b.embedding_lookup(x, ids, y);
  b.masked_mean_pool(x, x, y);
};

}  // namespace accelbench
