// Fidelity to Hugging Face transformers: tiny random-weight checkpoints and
// their reference outputs, written by tools/golden/generate.py, are read
// through the library's checkpoint loader and run on the Cpu backend.
// Hidden states and logits must agree within 1e-4 absolute and greedy
// tokens exactly.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/family/embedding.hpp>
#include <accelbench/family/text_generation.hpp>
#include <accelbench/model/common/checkpoint.hpp>
#include <accelbench/model/common/safetensors.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "golden.hpp"

using namespace accelbench;
using namespace accelbench::test;

namespace {

using Io = GoldenIo;

/// BERT's inputs as the generator stored them: ids, token types and mask.
BertInput bert_input(const Io& io) {
  BertInput in;
  in.batch = static_cast<int>(io.dim("input_ids", 0));
  in.seq = static_cast<int>(io.dim("input_ids", 1));
  in.input_ids = io.ids("input_ids");
  in.token_type_ids = io.ids("token_type_ids");
  for (int b = 0; b < in.batch; ++b) {
    for (int s = 0; s < in.seq; ++s) in.position_ids.push_back(s);
  }
  const auto mask = io.ids("attention_mask");
  in.attention_mask = HostMatrix(in.batch, in.seq);
  for (int i = 0; i < in.batch * in.seq; ++i) {
    in.attention_mask.data()[i] = static_cast<float>(mask[static_cast<std::size_t>(i)]);
  }
  return in;
}

/// A decoder-only checkpoint: hidden states and logits of the prompt, then
/// greedy generation with the key-value cache.
template <class Lm>
void check_causal_lm(const std::string& arch) {
  const auto dir = golden_dir(arch);
  const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
  CHECK(config.architecture == arch);
  Cpu cpu = one_thread();
  const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
  const auto& lm = std::get<Lm>(model.impl());

  const Io io(arch);
  const int batch = static_cast<int>(io.dim("input_ids", 0));
  const int prompt = static_cast<int>(io.dim("input_ids", 1));
  const int new_tokens = static_cast<int>(io.dim("generated_ids", 1));
  auto session = lm.start(cpu, io.ids("input_ids"), batch, prompt, new_tokens);
  lm.prefill(cpu, session);
  check_close(arch + " last_hidden_state", session.prefill.h, io.floats("last_hidden_state"));
  HostMatrix logits;
  lm.prompt_logits(cpu, session, logits);
  check_close(arch + " logits", logits, io.floats("logits"));

  std::vector<std::int32_t> generated(static_cast<std::size_t>(batch * new_tokens));
  for (int t = 0; t < new_tokens; ++t) {
    if (t > 0) lm.decode(cpu, session);
    const auto ids = cpu.download_indices(session.next_ids);
    for (int b = 0; b < batch; ++b) generated[static_cast<std::size_t>(b * new_tokens + t)] = ids[static_cast<std::size_t>(b)];
  }
  CHECK(generated == io.ids("generated_ids"));
}

}  // namespace

TEST_CASE("golden: BERT matches transformers' BertModel, padding included") {
  const auto dir = golden_dir("bert");
  const BertConfig config = Embedding::checkpoint_preset(dir);
  CHECK(config.name == "bert");
  Cpu cpu = one_thread();
  const auto model = Embedding::load_weights(cpu, config, Embedding::checkpoint_weights(dir, config));

  const Io io("bert");
  const BertInput in = bert_input(io);
  REQUIRE(in.attention_mask.sum() < in.batch * in.seq);  // the second sequence is padded

  auto ws = model.prepare(cpu, in);
  model.forward(cpu, ws);
  check_close("bert last_hidden_state", ws.hidden, io.floats("last_hidden_state"));
  check_close("bert pooled_embedding", ws.pooled, io.floats("pooled_embedding"));
}

TEST_CASE("golden: GPT-2 matches transformers' GPT2LMHeadModel") { check_causal_lm<Gpt2<Cpu>>("gpt2"); }

TEST_CASE("golden: Llama with grouped-query attention matches transformers' LlamaForCausalLM") {
  const GenerativeConfig config = TextGeneration::checkpoint_preset(golden_dir("llama"));
  CHECK(config.effective_kv_heads() < config.heads);
  CHECK_FALSE(config.tied_embeddings);
  check_causal_lm<Llama<Cpu>>("llama");
}

TEST_CASE("golden: Qwen2 (q/k/v biases, tied head) matches transformers' Qwen2ForCausalLM") {
  const GenerativeConfig config = TextGeneration::checkpoint_preset(golden_dir("qwen2"));
  CHECK(config.qkv_bias);
  CHECK(config.tied_embeddings);
  CHECK(config.rope_theta == doctest::Approx(1e6));
  check_causal_lm<Llama<Cpu>>("qwen2");
}

TEST_CASE("golden: T5 matches transformers' T5ForConditionalGeneration") {
  const auto dir = golden_dir("t5");
  const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
  REQUIRE(config.is_encoder_decoder());
  Cpu cpu = one_thread();
  const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
  const auto& t5 = std::get<T5<Cpu>>(model.impl());

  const Io io("t5");
  const int batch = static_cast<int>(io.dim("input_ids", 0));
  const int input_len = static_cast<int>(io.dim("input_ids", 1));
  const int decoder_len = static_cast<int>(io.dim("decoder_input_ids", 1));
  const int new_tokens = static_cast<int>(io.dim("generated_ids", 1));
  auto session = t5.start(cpu, io.ids("input_ids"), batch, input_len, std::max(new_tokens, decoder_len));
  t5.encode(cpu, session);
  check_close("t5 encoder_last_hidden_state", session.encoder_out, io.floats("encoder_last_hidden_state"));

  // Teacher forcing needs the cross keys and values that prefill computes.
  t5.prefill(cpu, session);
  HostMatrix hidden, logits;
  t5.decode_sequence(cpu, session, io.ids("decoder_input_ids"), decoder_len, hidden, logits);
  check_close("t5 decoder_last_hidden_state", hidden, io.floats("decoder_last_hidden_state"));
  check_close("t5 logits", logits, io.floats("logits"));

  auto gen = t5.start(cpu, io.ids("input_ids"), batch, input_len, new_tokens);
  std::vector<std::int32_t> generated(static_cast<std::size_t>(batch * new_tokens));
  for (int t = 0; t < new_tokens; ++t) {
    if (t == 0) {
      t5.prefill(cpu, gen);
    } else {
      t5.decode(cpu, gen);
    }
    const auto ids = cpu.download_indices(gen.next_ids);
    for (int b = 0; b < batch; ++b) generated[static_cast<std::size_t>(b * new_tokens + t)] = ids[static_cast<std::size_t>(b)];
  }
  CHECK(generated == io.ids("generated_ids"));
}

TEST_CASE("golden: the TextGeneration workload generates transformers' greedy tokens") {
  // The same checkpoint through the family's own path (Workload::run), with
  // the golden prompt in place of the synthetic one.
  for (const std::string arch : {"gpt2", "llama", "qwen2"}) {
    CAPTURE(arch);
    const auto dir = golden_dir(arch);
    const GenerativeConfig config = TextGeneration::checkpoint_preset(dir);
    Cpu cpu = one_thread();
    const auto model = TextGeneration::load_weights(cpu, config, TextGeneration::checkpoint_weights(dir, config));
    const Io io(arch);
    const TextGeneration::Cell cell{static_cast<int>(io.dim("input_ids", 0)), static_cast<int>(io.dim("input_ids", 1)),
                                    static_cast<int>(io.dim("generated_ids", 1))};
    TextGeneration::Workload<Cpu> work(cpu, model, cell, 42, io.ids("input_ids"));
    work.run();
    CHECK(work.tokens() == io.ids("generated_ids"));
    work.run();  // a second run reuses the session and gives the same tokens
    CHECK(work.tokens() == io.ids("generated_ids"));
  }
}

#if defined(ACCELBENCH_MINILM_DIR)
TEST_CASE("real all-MiniLM-L6-v2: our BERT reproduces sentence-transformers' embeddings") {
  const std::filesystem::path dir = ACCELBENCH_MINILM_DIR;
  const BertConfig config = Embedding::checkpoint_preset(dir);
  CHECK(config.hidden == 384);
  CHECK(config.layers == 6);
  Cpu cpu;
  const auto model = Embedding::load_weights(cpu, config, Embedding::checkpoint_weights(dir, config));
  CHECK(model.parameters() == Embedding::find_preset("all-MiniLM-L6-v2").parameter_count());

  const Io io("minilm_real");
  const BertInput in = bert_input(io);
  auto ws = model.prepare(cpu, in);
  model.forward(cpu, ws);
  check_close("all-MiniLM-L6-v2 last_hidden_state", ws.hidden, io.floats("last_hidden_state"));
  check_close("all-MiniLM-L6-v2 embedding", ws.pooled, io.floats("embedding"));
  HostMatrix normalized = ws.pooled;
  for (Eigen::Index r = 0; r < normalized.rows(); ++r) normalized.row(r).normalize();
  check_close("all-MiniLM-L6-v2 normalized embedding", normalized, io.floats("embedding_normalized"));
}
#endif
