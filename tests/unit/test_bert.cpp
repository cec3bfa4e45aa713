// The BERT model: presets, weights, shapes, determinism, padding, and the
// same forward pass on the plain-loop backend.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/family/embedding.hpp>
#include <accelbench/model/bert.hpp>


#include "naive_backend.hpp"

using namespace accelbench;
using accelbench::test::NaiveBackend;

namespace {

BertConfig small_config() {
  BertConfig c;
  c.name = "test-bert";
  c.layers = 2;
  c.hidden = 32;
  c.heads = 4;
  c.intermediate = 64;
  c.vocab_size = 100;
  c.max_positions = 24;
  return c;
}

template <class B>
std::pair<HostMatrix, HostMatrix> run_bert(B& backend, const Bert<B>& model, const BertInput& in) {
  auto ws = model.prepare(backend, in);
  model.forward(backend, ws);
  return {backend.download(ws.hidden), backend.download(ws.pooled)};
}

}  // namespace

TEST_CASE("presets carry the published dimensions") {
  const auto& tiny = Embedding::find_preset("bert-tiny");
  CHECK(tiny.layers == 2);
  CHECK(tiny.hidden == 128);
  CHECK(tiny.heads == 2);
  CHECK(tiny.intermediate == 512);
  CHECK(tiny.vocab_size == 30522);
  CHECK(tiny.max_positions == 512);
  const auto& mini = Embedding::find_preset("sentence-transformers/all-MiniLM-L6-v2");
  CHECK(mini.name == "all-MiniLM-L6-v2");
  CHECK(mini.layers == 6);
  CHECK(mini.hidden == 384);
  CHECK(mini.heads == 12);
  CHECK(mini.intermediate == 1536);
  const auto& base = Embedding::find_preset("bert-base-uncased");
  CHECK(base.layers == 12);
  CHECK(base.hidden == 768);
  CHECK(base.intermediate == 3072);
  // transformers' BertModel counts 109,482,240 and 22,713,216 parameters with
  // the pooler (768 * 768 + 768 and 384 * 384 + 384), which is not used here.
  CHECK(base.parameter_count() == 109482240 - (768 * 768 + 768));
  CHECK(mini.parameter_count() == 22713216 - (384 * 384 + 384));
  CHECK_THROWS_WITH_AS((void)Embedding::find_preset("bert-huge"), doctest::Contains("model = \"bert-huge\""), ConfigError);
}

TEST_CASE("FLOP count of bert-base at batch 1, sequence 128") {
  const auto& base = Embedding::find_preset("bert-base-uncased");
  // Per layer: 2 * 128 * (4 * 768^2 + 2 * 768 * 3072) + 4 * 128^2 * 768.
  const double per_layer = 2.0 * 128 * (4.0 * 768 * 768 + 2.0 * 768 * 3072) + 4.0 * 128 * 128 * 768;
  CHECK(base.flops(1, 128) == doctest::Approx(12 * per_layer));
  CHECK(base.flops(1, 128) == doctest::Approx(22.3e9).epsilon(0.01));
}

TEST_CASE("synthetic weights are deterministic, complete and named as in transformers") {
  const auto c = small_config();
  auto a = synthetic_bert_weights(c, 1);
  auto b = synthetic_bert_weights(c, 1);
  auto other = synthetic_bert_weights(c, 2);
  CHECK(a.parameter_count() == c.parameter_count());
  CHECK(a.contains("encoder.layer.1.attention.self.query.weight"));
  CHECK(a.contains("embeddings.LayerNorm.bias"));
  const auto& w = a.at("encoder.layer.0.intermediate.dense.weight");
  CHECK(w.rows() == 64);
  CHECK(w.cols() == 32);
  CHECK(w == b.at("encoder.layer.0.intermediate.dense.weight"));
  CHECK(w != other.at("encoder.layer.0.intermediate.dense.weight"));
  // Standard deviation 0.02 (uniform), LayerNorm scales around one.
  const double sd = std::sqrt((w.array() - w.mean()).square().mean());
  CHECK(sd == doctest::Approx(0.02).epsilon(0.1));
  CHECK(a.at("embeddings.LayerNorm.weight").mean() == doctest::Approx(1.0).epsilon(0.01));
}

TEST_CASE("forward gives the documented shapes and is deterministic") {
  Cpu cpu{Cpu::Options{.threads = 2}};
  const auto c = small_config();
  const Bert<Cpu> model(cpu, c, synthetic_bert_weights(c, 7));
  CHECK(model.parameters() == c.parameter_count());
  CHECK(model.weight_bytes() == static_cast<std::uint64_t>(c.parameter_count()) * 4);
  const auto in = make_bert_input(c, 3, 16, 5);
  const auto [hidden, pooled] = run_bert(cpu, model, in);
  CHECK(hidden.rows() == 3 * 16);
  CHECK(hidden.cols() == 32);
  CHECK(pooled.rows() == 3);
  CHECK(pooled.cols() == 32);
  CHECK(hidden.allFinite());

  const Bert<Cpu> again(cpu, c, synthetic_bert_weights(c, 7));
  const auto [hidden2, pooled2] = run_bert(cpu, again, in);
  CHECK(hidden == hidden2);
  CHECK(pooled == pooled2);

  // A workspace reused for a second pass gives the same result.
  auto ws = model.prepare(cpu, in);
  model.forward(cpu, ws);
  model.forward(cpu, ws);
  CHECK(cpu.download(ws.hidden) == hidden);

  const Bert<Cpu> reseeded(cpu, c, synthetic_bert_weights(c, 8));
  CHECK(run_bert(cpu, reseeded, in).first != hidden);
}

TEST_CASE("padding changes neither the real tokens nor the pooled embedding") {
  Cpu cpu;
  const auto c = small_config();
  const Bert<Cpu> model(cpu, c, synthetic_bert_weights(c, 3));
  const auto padded = make_bert_input(c, 2, 12, 9, {5, 12});
  CHECK(padded.attention_mask.row(0).sum() == 5);
  CHECK(padded.input_ids[7] == 0);  // [PAD]

  // The first sequence alone, without padding.
  BertInput alone;
  alone.batch = 1;
  alone.seq = 5;
  alone.input_ids.assign(padded.input_ids.begin(), padded.input_ids.begin() + 5);
  alone.token_type_ids.assign(5, 0);
  alone.position_ids = {0, 1, 2, 3, 4};
  alone.attention_mask = HostMatrix::Ones(1, 5);

  const auto [hp, pp] = run_bert(cpu, model, padded);
  const auto [ha, pa] = run_bert(cpu, model, alone);
  CHECK((hp.topRows(5) - ha).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK((pp.row(0) - pa.row(0)).cwiseAbs().maxCoeff() < 1e-5f);
  // The pooled embedding is the mean of the real tokens' hidden states.
  const HostMatrix mean = hp.topRows(5).colwise().mean();
  CHECK((pp.row(0) - mean).cwiseAbs().maxCoeff() < 1e-5f);
}

TEST_CASE("the same forward pass on the plain-loop backend agrees with Cpu") {
  Cpu cpu;
  NaiveBackend naive;
  const auto c = small_config();
  const Bert<Cpu> on_cpu(cpu, c, synthetic_bert_weights(c, 11));
  const Bert<NaiveBackend> on_naive(naive, c, synthetic_bert_weights(c, 11));
  const auto in = make_bert_input(c, 2, 10, 4, {10, 6});
  const auto [hc, pc] = run_bert(cpu, on_cpu, in);
  const auto [hn, pn] = run_bert(naive, on_naive, in);
  CHECK((hc - hn).cwiseAbs().maxCoeff() < 1e-4f);
  CHECK((pc - pn).cwiseAbs().maxCoeff() < 1e-4f);
}

TEST_CASE("linear layers' weights at bf16 and fp16: exactly the model with those layers rounded") {
  Cpu cpu{Cpu::Options{.threads = 1}};
  const auto c = small_config();
  const auto in = make_bert_input(c, 2, 12, 3);
  const Bert<Cpu> full(cpu, c, synthetic_bert_weights(c, 5));
  const HostMatrix reference = run_bert(cpu, full, in).first;
  for (const Precision p : {Precision::bf16, Precision::fp16}) {
    INFO(precision_name(p));
    BertConfig at = c;
    at.weight_precision = p;
    const Bert<Cpu> model(cpu, at, synthetic_bert_weights(c, 5));
    // The six products of each layer store half the bytes; the embedding
    // tables, biases and norms stay fp32.
    const std::int64_t linear = c.layers * (4 * c.hidden * c.hidden + 2 * c.hidden * c.intermediate);
    CHECK(model.weight_bytes() == static_cast<std::uint64_t>((c.parameter_count() - linear) * 4 + linear * 2));
    const HostMatrix hidden = run_bert(cpu, model, in).first;
    // The fp32 model on weights rounded as those layers' are: the same values
    // (the products widen each weight exactly and sum in fp32 alike).
    WeightMap rounded = synthetic_bert_weights(c, 5);
    for (const std::string& name : rounded.names()) {
      const bool product = name.ends_with("query.weight") || name.ends_with("key.weight") ||
                           name.ends_with("value.weight") || name.ends_with("dense.weight");
      if (!product) continue;
      HostMatrix r = CpuWeight(rounded.at(name), p).to_float();
      rounded.erase(name);
      rounded.insert(name, std::move(r));
    }
    const Bert<Cpu> same(cpu, c, std::move(rounded));
    CHECK((hidden - run_bert(cpu, same, in).first).cwiseAbs().maxCoeff() <= 1e-6f * reference.cwiseAbs().maxCoeff());
    // Against fp32 weights: within a few units of the precision's roundoff.
    const float unit = p == Precision::bf16 ? 0x1p-8f : 0x1p-11f;
    CHECK((hidden - reference).cwiseAbs().maxCoeff() <= 8 * unit * reference.cwiseAbs().maxCoeff());
    CHECK(hidden != reference);
  }
  // A backend that stores weights as fp32 only refuses the precision by name.
  NaiveBackend naive;
  BertConfig half = c;
  half.weight_precision = Precision::bf16;
  CHECK_THROWS_WITH_AS(Bert<NaiveBackend>(naive, half, synthetic_bert_weights(c, 5)),
                       doctest::Contains("precision = bf16: backend plain stores weights as fp32 only"), ConfigError);
}

TEST_CASE("weights with a missing tensor or a wrong shape are rejected by name") {
  Cpu cpu;
  const auto c = small_config();
  auto missing = synthetic_bert_weights(c, 1);
  (void)missing.take("encoder.layer.1.output.dense.bias", 1, 32);
  CHECK_THROWS_WITH_AS(Bert<Cpu>(cpu, c, std::move(missing)),
                       doctest::Contains("no tensor named 'encoder.layer.1.output.dense.bias'"), std::out_of_range);

  auto wrong = synthetic_bert_weights(c, 1);
  (void)wrong.take("embeddings.word_embeddings.weight", 100, 32);
  wrong.insert("embeddings.word_embeddings.weight", HostMatrix::Zero(99, 32));
  CHECK_THROWS_WITH_AS(Bert<Cpu>(cpu, c, std::move(wrong)),
                       doctest::Contains("'embeddings.word_embeddings.weight' is [99, 32], expected [100, 32]"),
                       std::invalid_argument);

  auto bad = c;
  bad.heads = 5;
  CHECK_THROWS_WITH_AS(validate_bert_config(bad), doctest::Contains("test-bert.heads = 5"), ConfigError);
}

TEST_CASE("synthetic inputs: [CLS] ... [SEP], positions, and length checks") {
  const auto& tiny = Embedding::find_preset("bert-tiny");
  const auto in = make_bert_input(tiny, 2, 8, 1, {8, 4});
  CHECK(in.input_ids[0] == 101);
  CHECK(in.input_ids[7] == 102);
  CHECK(in.input_ids[8] == 101);
  CHECK(in.input_ids[11] == 102);
  CHECK(in.input_ids[12] == 0);
  CHECK(in.position_ids[9] == 1);
  for (int i = 1; i < 7; ++i) CHECK(in.input_ids[std::size_t(i)] >= 1996);
  CHECK(make_bert_input(tiny, 2, 8, 1).input_ids == make_bert_input(tiny, 2, 8, 1).input_ids);
  CHECK_THROWS_AS(make_bert_input(tiny, 1, 513, 1), std::invalid_argument);
  CHECK_THROWS_AS(make_bert_input(tiny, 0, 8, 1), std::invalid_argument);
  CHECK_THROWS_AS(make_bert_input(tiny, 1, 8, 1, {9}), std::invalid_argument);
}
