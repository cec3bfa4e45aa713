#pragma once

// The generation session of the decoder-only architectures (GPT-2, Llama,
// Qwen2) with its key-value cache, and the prefill / decode steps they
// share. An architecture derives from DecoderOnly<Itself, B> and provides
//   embed(be, ids, session, activations, len, start): the input embeddings of
//       `len` new positions per sequence starting at `start` into a.x;
//   run_layers(be, session, activations, len, start): its layers over a.x,
//       the final-normed hidden states into a.h;
//   head(be, hidden, logits): the LM head;
// and a `config_` member. The cache holds `capacity` positions per sequence.
// The encoder-decoders (T5, Whisper) keep their decoder's caches in an
// EncoderDecoderCache.

#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../backend/concepts.hpp"
#include "../../core/tensor.hpp"
#include "generative_config.hpp"

namespace accelbench {

template <GenerationOps B>
struct DecoderActivations {
  typename B::Tensor x, h, q, k, v, context, ff, gate_up, last, logits;
};

/// One batch of sequences being generated: prompt, key-value cache and
/// activations. `length` is the number of positions in the cache; prefill
/// and decode keep their own activations so that a repeated generation
/// reuses every buffer.
template <GenerationOps B>
struct DecoderSession {
  int batch = 0;
  int prompt_len = 0;
  int capacity = 0;
  int length = 0;
  typename B::IndexTensor prompt_ids;
  typename B::IndexTensor last_rows;  ///< the row of each sequence's last prompt token
  typename B::IndexTensor next_ids;   ///< the token chosen for each sequence by the last step
  std::vector<typename B::Tensor> k_cache, v_cache;
  DecoderActivations<B> prefill, step;
};

/// What the decoder-only architectures' entries in GenerativeArchitectures
/// share: no encoder, and a key-value cache of kv_heads keys and values per
/// position in each layer.
struct DecoderOnlyArchitecture {
  static constexpr bool encoder_decoder = false;

  /// Bytes of the key-value cache of `batch` sequences of up to `capacity` tokens.
  [[nodiscard]] static std::uint64_t kv_cache_bytes(const GenerativeConfig& c, int batch, int capacity,
                                                    int /*encoder_len*/ = 0) noexcept {
    return detail::self_attention_cache_floats(batch, capacity, c.kv_width(), c.layers) * sizeof(float);
  }
};

/// The caches of an encoder-decoder's decoder while it generates: the
/// self-attention keys and values of each decoder layer, the cross-attention
/// keys and values of the encoder's output (computed by prefill), and each
/// sequence's decoder start token.
template <class B>
struct EncoderDecoderCache {
  std::vector<typename B::Tensor> cross_k, cross_v, self_k, self_v;
  typename B::IndexTensor start_ids;  ///< the decoder start token for each sequence

  /// Zeroed self-attention caches of `capacity` positions of `width` per
  /// sequence for `layers` layers, room for the cross keys and values, and
  /// `batch` start tokens.
  void allocate(B& be, int layers, int batch, int capacity, Eigen::Index width, int start_token) {
    const HostMatrix zeros = HostMatrix::Zero(Eigen::Index{batch} * capacity, width);
    for (int l = 0; l < layers; ++l) {
      self_k.push_back(be.upload(zeros));
      self_v.push_back(be.upload(zeros));
    }
    cross_k.resize(static_cast<std::size_t>(layers));
    cross_v.resize(static_cast<std::size_t>(layers));
    start_ids = be.upload_indices(std::vector<std::int32_t>(static_cast<std::size_t>(batch), start_token));
  }
};

template <class Derived, GenerationOps B>
class DecoderOnly {
 public:
  using Tensor = typename B::Tensor;
  using IndexTensor = typename B::IndexTensor;
  using Activations = DecoderActivations<B>;
  using Session = DecoderSession<B>;

  /// A session for `batch` prompts of `prompt_len` tokens (row-major ids)
  /// with room for `max_new_tokens` more; the cache is allocated here.
  [[nodiscard]] Session start(B& be, std::span<const std::int32_t> prompt_ids, int batch, int prompt_len,
                              int max_new_tokens) const {
    const GenerativeConfig& c = self().config();
    detail::check_token_batch(c.name, prompt_ids.size(), batch, prompt_len);
    if (max_new_tokens < 0) throw std::invalid_argument(std::string(Derived::model_name) + ": max_new_tokens must not be negative");
    Session s;
    s.batch = batch;
    s.prompt_len = prompt_len;
    const std::int64_t capacity = std::int64_t{prompt_len} + max_new_tokens;
    const int limit = c.sequence_limit() > 0 ? c.sequence_limit() : std::numeric_limits<int>::max();
    if (capacity > limit) {
      throw std::invalid_argument(std::string(Derived::model_name) + ": prompt length " + std::to_string(prompt_len) +
                                  " + " + std::to_string(max_new_tokens) + " new tokens exceed " + c.name + "'s " +
                                  std::to_string(limit) + " positions");
    }
    s.capacity = static_cast<int>(capacity);
    s.prompt_ids = be.upload_indices(prompt_ids);
    std::vector<std::int32_t> last(static_cast<std::size_t>(batch));
    for (int b = 0; b < batch; ++b) last[static_cast<std::size_t>(b)] = (b + 1) * prompt_len - 1;
    s.last_rows = be.upload_indices(last);
    const HostMatrix zeros = HostMatrix::Zero(Eigen::Index{batch} * s.capacity, c.kv_width());
    for (int l = 0; l < c.layers; ++l) {
      s.k_cache.push_back(be.upload(zeros));
      s.v_cache.push_back(be.upload(zeros));
    }
    return s;
  }

  /// Runs the prompt through the model, filling the cache; the logits of each
  /// sequence's last position go to s.prefill.logits and its greedy choice
  /// to s.next_ids. s.prefill.h keeps the final hidden states of every position.
  void prefill(B& be, Session& s) const {
    embed_prompt(be, s);
    prefill_embedded(be, s);
  }

  /// The prompt's input embeddings into s.prefill.x, the first half of
  /// prefill(): a model that feeds the decoder other inputs as well (LLaVA's
  /// image features) writes them over some rows, then calls prefill_embedded().
  void embed_prompt(B& be, Session& s) const { self().embed(be, s.prompt_ids, s, s.prefill, s.prompt_len, 0); }

  /// The second half of prefill(): the layers over the embeddings in
  /// s.prefill.x, the head and the first greedy choice.
  void prefill_embedded(B& be, Session& s) const {
    Activations& a = s.prefill;
    self().run_layers(be, s, a, s.prompt_len, 0);
    be.embedding_lookup(a.h, s.last_rows, a.last);
    self().head(be, a.last, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length = s.prompt_len;
  }

  /// Feeds s.next_ids (one token per sequence) and chooses the next ones;
  /// logits in s.step.logits.
  void decode(B& be, Session& s) const {
    if (s.length >= s.capacity) {
      throw std::out_of_range(std::string(Derived::model_name) + ": the cache's " + std::to_string(s.capacity) +
                              " positions are full");
    }
    Activations& a = s.step;
    self().embed(be, s.next_ids, s, a, 1, s.length);
    self().run_layers(be, s, a, 1, s.length);
    self().head(be, a.h, a.logits);
    be.argmax_rows(a.logits, s.next_ids);
    s.length += 1;
  }

  /// The logits of every prompt position, after prefill (for verification).
  void prompt_logits(B& be, Session& s, Tensor& logits) const { self().head(be, s.prefill.h, logits); }

 protected:
  /// Dimensions of the attention and the cache writes of `len` new positions
  /// per sequence starting at `start`.
  [[nodiscard]] AttentionDims attention_dims(const Session& s, int len, int start) const {
    const GenerativeConfig& c = self().config();
    return AttentionDims{.batch = s.batch,
                         .query_len = len,
                         .key_len = start + len,
                         .heads = c.heads,
                         .head_dim = c.effective_head_dim(),
                         .kv_heads = c.effective_kv_heads(),
                         .key_stride = s.capacity,
                         .causal = true};
  }
  [[nodiscard]] static CacheDims cache_dims(const Session& s, int len, int start) {
    return CacheDims{.batch = s.batch, .len = len, .capacity = s.capacity, .start = start};
  }

 private:
  [[nodiscard]] const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};

}  // namespace accelbench
