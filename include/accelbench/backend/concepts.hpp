#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "hooks.hpp"
#include "op_dims.hpp"

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
///   attention(q, k, v, m, d, y)   scaled dot-product attention per batch and head (see
///                                 AttentionDims for layout, causal masks, grouped-query
///                                 attention and key-value caches); m is [batch, key_len]
///                                 with 1 = attend, 0 = padding, or empty
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

/// The further ops of text generation: decoder-only transformers (GPT-2,
/// Llama, Qwen2) and encoder-decoders (T5), with a key-value cache.
///
///   attention(q, k, v, m, p, d, y)  as above with a position bias p added to the scores:
///                                   p is [bias_blocks * heads * query_len, key_len] (T5:
///                                   one block), or empty; sequence b, head h, query i adds
///                                   row ((b % bias_blocks) * heads + h) * query_len + i
///                                   (see AttentionDims::bias_blocks).
///                                   Cross-attention is this op with queries from the
///                                   decoder and keys and values from the encoder.
///   rms_norm(x, g, eps, y)          y = x / sqrt(mean(x²) + eps) * g per row (Llama's
///                                   RMSNorm, T5's layer norm); y may be x
///   gelu_tanh(x)                    in place, GPT-2's tanh approximation
///   relu(x), silu(x)                in place
///   swiglu(x, y)                    x is [n, 2i]: y = silu(x[:, :i]) * x[:, i:], [n, i]
///   geglu_tanh(x, y)                x is [n, 2i]: y = gelu_tanh(x[:, :i]) * x[:, i:], [n, i]
///                                   (T5 v1.1's gated-gelu feed-forward)
///   scale(x, s)                     in place, x *= s
///   rotary(x, r)                    in place, rotary position embedding in transformers'
///                                   rotate_half layout (see RotaryDims)
///   add_positions(t, start, batch, len, y)
///                                   y[b * len + i] += t[start + i] (GPT-2's learned positions)
///   cache_write(x, c, cache)        copies new keys or values into a cache (see CacheDims)
///   relative_position_bias(t, r, p) T5's bias from its [buckets, heads] table t, p as above
///   argmax_rows(x, ids)             ids[r] = index of the largest value of row r (first on ties)
///   download_indices(ids)           the ids in host memory
template <class B>
concept GenerationOps =
    EncoderOps<B> &&
    requires(B& b, const typename B::Tensor& x, typename B::Tensor& y, typename B::IndexTensor& ids,
             const AttentionDims& dims, const RotaryDims& rotary, const CacheDims& cache,
             const RelativeBiasDims& relative, float eps, int n) {
      b.attention(x, x, x, x, x, dims, y);
      b.rms_norm(x, x, eps, y);
      b.gelu_tanh(y);
      b.relu(y);
      b.silu(y);
      b.swiglu(x, y);
      b.geglu_tanh(x, y);
      b.scale(y, eps);
      b.rotary(y, rotary);
      b.add_positions(x, n, n, n, y);
      b.cache_write(x, cache, y);
      b.relative_position_bias(x, relative, y);
      b.argmax_rows(x, ids);
      { b.download_indices(ids) } -> std::same_as<std::vector<std::int32_t>>;
    };

/// The further ops of the vision, audio and multimodal architectures (ViT,
/// Whisper, wav2vec2, CLIP).
///
///   conv2d(x, w, b, d, y)              2-D convolution, patch embedding (see Conv2dDims); b [1, out] or empty
///   conv1d(x, w, b, d, y)              1-D convolution with stride, padding and groups (see Conv1dDims)
///   group_norm(x, g, b, d, eps, y)     group normalisation over time (see GroupNormDims); g, b [1, channels]
///   quick_gelu(x)                      in place, x * sigmoid(1.702 x) (CLIP)
///   prepend_row(x, r, batch, y)        y is x with row r ([1, width]) before each of the batch's
///                                      sequences: [batch * (n + 1), width] (ViT's class token)
///   normalize_rows(x)                  in place, each row divided by its Euclidean norm
template <class B>
concept PerceptionOps =
    EncoderOps<B> && requires(B& b, const typename B::Tensor& x, typename B::Tensor& y, const Conv2dDims& c2,
                              const Conv1dDims& c1, const GroupNormDims& gn, float eps, int n) {
      b.conv2d(x, x, x, c2, y);
      b.conv1d(x, x, x, c1, y);
      b.group_norm(x, x, x, gn, eps, y);
      b.quick_gelu(y);
      b.prepend_row(x, x, n, y);
      b.normalize_rows(y);
    };

/// The further ops of convolutional backbones (DETR's ResNet), over images
/// laid out as rows: [batch * height * width, channels], one row per pixel in
/// row-major (y, x) order (the layout conv2d's output has).
///
///   conv2d_rows(x, w, b, d, y)   2-D convolution of row-laid-out images (see Conv2dDims):
///                                x [batch * height * width, channels]; w [out, kernel * kernel *
///                                channels] ordered (ky, kx, c) (PyTorch's [out, in, kh, kw]
///                                permuted to [out, kh, kw, in]); b [1, out] or empty;
///                                y [batch * out_height * out_width, out]
///   max_pool2d(x, d, y)          the largest value of each kernel x kernel window (see
///                                Pool2dDims; padding never wins), same layout as conv2d_rows
///   relu(x)                      in place (also a GenerationOps op)
///   sigmoid(x)                   in place, 1 / (1 + exp(-x))
template <class B>
concept DetectionOps =
    PerceptionOps<B> && requires(B& b, const typename B::Tensor& x, typename B::Tensor& y, const Conv2dDims& c2,
                                 const Pool2dDims& pool) {
      b.conv2d_rows(x, x, x, c2, y);
      b.max_pool2d(x, pool, y);
      b.relu(y);
      b.sigmoid(y);
    };

/// The further ops of windowed vision transformers (CLAP's HTSAT audio encoder, a Swin
/// transformer): attention with a bias per window (AttentionDims::bias_blocks, an
/// argument of GenerationOps' attention) and
///
///   reshape(x, rows, cols, y)   y = x's values in row-major order as [rows, cols]; rows *
///                               cols must be x's element count; y must not be x
///   mul(x, y)                   y *= x element by element (shapes equal)
template <class B>
concept WindowOps = DetectionOps<B> && GenerationOps<B> &&
                    requires(B& b, const typename B::Tensor& x, typename B::Tensor& y, int n) {
                      b.reshape(x, n, n, y);
                      b.mul(x, y);
                    };

}  // namespace accelbench
