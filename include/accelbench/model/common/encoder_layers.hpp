#pragma once

// Transformer layers written over backend ops that several architectures
// share: the pre-norm encoder layer of ViT and CLIP (both towers), learned
// position embeddings, and the id arrays they take.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../backend/concepts.hpp"
#include "../../backend/hooks.hpp"
#include "../../core/tensor.hpp"
#include "activation.hpp"
#include "weights.hpp"

namespace accelbench {

namespace detail {

/// Names of a pre-norm encoder layer's tensors under its prefix (each with
/// ".weight" and ".bias").
struct PreNormLayerNames {
  const char* norm1;
  const char* query;
  const char* key;
  const char* value;
  const char* out;
  const char* norm2;
  const char* fc1;
  const char* fc2;
};

/// `qkv_bias` false: the query, key and value projections have no bias (ViT's qkv_bias).
inline void add_pre_norm_layer_shapes(TensorShapes& s, const std::string& p, const PreNormLayerNames& n,
                                      Eigen::Index h, Eigen::Index i, bool qkv_bias = true) {
  const auto both = [&](const char* name, Eigen::Index out, Eigen::Index in, bool bias = true) {
    s.push_back({p + name + ".weight", {out, in}});
    if (bias) s.push_back({p + name + ".bias", {1, out}});
  };
  s.push_back({p + n.norm1 + ".weight", {1, h}});
  s.push_back({p + n.norm1 + ".bias", {1, h}});
  both(n.query, h, h, qkv_bias);
  both(n.key, h, h, qkv_bias);
  both(n.value, h, h, qkv_bias);
  both(n.out, h, h);
  s.push_back({p + n.norm2 + ".weight", {1, h}});
  s.push_back({p + n.norm2 + ".bias", {1, h}});
  both(n.fc1, i, h);
  both(n.fc2, h, i);
}

/// A pre-norm transformer encoder layer's weights on the backend, the
/// linear layers' as its Weight (packed once, on Cpu); q_b, k_b and v_b are
/// empty where the projections have no bias.
template <class B>
struct PreNormLayer {
  weight_t<B> q_w, k_w, v_w, o_w, fc1_w, fc2_w;
  typename B::Tensor norm1_g, norm1_b, q_b, k_b, v_b, o_b, norm2_g, norm2_b, fc1_b, fc2_b;
};

/// Takes a layer's tensors through a WeightUploader (`take(name, rows,
/// cols)`, `take.weight(...)` for the linear layers); no query, key and
/// value biases unless `qkv_bias`.
template <class B, class Take>
PreNormLayer<B> take_pre_norm_layer(Take&& take, const std::string& p, const PreNormLayerNames& n, Eigen::Index h,
                                    Eigen::Index i, bool qkv_bias = true) {
  const auto w = [&](const char* name) { return p + name + ".weight"; };
  const auto b = [&](const char* name) { return p + name + ".bias"; };
  PreNormLayer<B> L;
  L.norm1_g = take(w(n.norm1), 1, h);
  L.norm1_b = take(b(n.norm1), 1, h);
  L.q_w = take.weight(w(n.query), h, h);
  L.k_w = take.weight(w(n.key), h, h);
  L.v_w = take.weight(w(n.value), h, h);
  if (qkv_bias) {
    L.q_b = take(b(n.query), 1, h);
    L.k_b = take(b(n.key), 1, h);
    L.v_b = take(b(n.value), 1, h);
  }
  L.o_w = take.weight(w(n.out), h, h);
  L.o_b = take(b(n.out), 1, h);
  L.norm2_g = take(w(n.norm2), 1, h);
  L.norm2_b = take(b(n.norm2), 1, h);
  L.fc1_w = take.weight(w(n.fc1), i, h);
  L.fc1_b = take(b(n.fc1), 1, i);
  L.fc2_w = take.weight(w(n.fc2), h, i);
  L.fc2_b = take(b(n.fc2), 1, h);
  return L;
}

/// Activations of an encoder layer, kept between forward passes.
template <class B>
struct EncoderScratch {
  typename B::Tensor normed, q, k, v, context, attn, inter, tmp;
};

/// hidden += attention(norm1(hidden)); hidden += mlp(norm2(hidden)): the
/// pre-norm layer of ViT (ViTLayer) and CLIP (CLIPEncoderLayer).
template <PerceptionOps B>
void pre_norm_layer(B& be, const PreNormLayer<B>& L, float eps, Activation act, const typename B::Tensor& mask,
                    const AttentionDims& dims, typename B::Tensor& hidden, EncoderScratch<B>& s) {
  be.layer_norm(hidden, L.norm1_g, L.norm1_b, eps, s.normed);
  be.linear(s.normed, L.q_w, L.q_b, s.q);
  be.linear(s.normed, L.k_w, L.k_b, s.k);
  be.linear(s.normed, L.v_w, L.v_b, s.v);
  be.attention(s.q, s.k, s.v, mask, dims, s.context);
  be.linear(s.context, L.o_w, L.o_b, s.attn);
  be.add(s.attn, hidden);
  be.layer_norm(hidden, L.norm2_g, L.norm2_b, eps, s.normed);
  be.linear(s.normed, L.fc1_w, L.fc1_b, s.inter);
  activate(be, act, s.inter);
  be.linear(s.inter, L.fc2_w, L.fc2_b, s.tmp);
  be.add(s.tmp, hidden);
}

/// y[b * len + i] += table[i]: learned positions. With the backend's
/// add_positions where it has one (GenerationOps), else a lookup of
/// `position_ids` (0..len-1 per sequence) into `tmp` and an add; both add
/// the same values.
template <PerceptionOps B>
void add_learned_positions(B& be, const typename B::Tensor& table, const typename B::IndexTensor& position_ids,
                           int batch, int len, typename B::Tensor& y, typename B::Tensor& tmp) {
  if constexpr (requires { be.add_positions(table, 0, batch, len, y); }) {
    (void)position_ids;
    (void)tmp;
    be.add_positions(table, 0, batch, len, y);
  } else {
    be.embedding_lookup(table, position_ids, tmp);
    be.add(tmp, y);
  }
}

/// 0..len-1 for each of `batch` sequences.
inline std::vector<std::int32_t> position_ids(int batch, int len) {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(batch) * static_cast<std::size_t>(len));
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(i % static_cast<std::size_t>(len));
  return ids;
}

/// Row b * len + offset of every sequence b: the class token (offset 0).
inline std::vector<std::int32_t> sequence_rows(int batch, int len, int offset = 0) {
  std::vector<std::int32_t> rows(static_cast<std::size_t>(batch));
  for (int b = 0; b < batch; ++b) rows[static_cast<std::size_t>(b)] = b * len + offset;
  return rows;
}

}  // namespace detail

}  // namespace accelbench
