// The installed conformance checks (<accelbench/testing/conformance.hpp>) as
// a vendor runs them on their own backend: the plain-loop backend conforms,
// a backend with one wrong op is caught by name, and one with fewer op sets
// is checked on the ops it has.

#include <doctest/doctest.h>

#include <accelbench/family/embedding.hpp>
#include <accelbench/testing/conformance.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "naive_backend.hpp"

using namespace accelbench;

namespace {

// The plain backend with a gelu that is off by 0.05.
struct WrongGelu : test::NaiveBackend {
  static constexpr std::string_view name = "wrong-gelu";
  void gelu(Tensor& x) {
    test::NaiveBackend::gelu(x);
    for (auto& v : x.data) v += 0.05f;
  }
};

// Only EncoderOps: the checks of the other op sets are left out.
struct EncoderOnly {
  using Tensor = test::NaiveBackend::Tensor;
  using IndexTensor = test::NaiveBackend::IndexTensor;
  static constexpr std::string_view name = "encoder-only";
  static Availability available() { return {}; }
  DeviceInfo describe() const { return {}; }
  void synchronize() {}
  Tensor upload(const HostMatrix& m) { return inner.upload(m); }
  IndexTensor upload_indices(std::span<const std::int32_t> ids) { return inner.upload_indices(ids); }
  HostMatrix download(const Tensor& t) { return inner.download(t); }
  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) { inner.linear(x, w, b, y); }
  void add(const Tensor& x, Tensor& y) { inner.add(x, y); }
  void layer_norm(const Tensor& x, const Tensor& g, const Tensor& b, float eps, Tensor& y) {
    inner.layer_norm(x, g, b, eps, y);
  }
  void gelu(Tensor& x) { inner.gelu(x); }
  void softmax(Tensor& x) { inner.softmax(x); }
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& m, const AttentionDims& d,
                 Tensor& y) {
    inner.attention(q, k, v, m, d, y);
  }
  void embedding_lookup(const Tensor& t, const IndexTensor& ids, Tensor& y) { inner.embedding_lookup(t, ids, y); }
  void masked_mean_pool(const Tensor& x, const Tensor& m, Tensor& y) { inner.masked_mean_pool(x, m, y); }
  test::NaiveBackend inner;
};
static_assert(EncoderOps<EncoderOnly> && !GenerationOps<EncoderOnly> && !PerceptionOps<EncoderOnly>);

bool has(const std::vector<testing::CheckResult>& results, const std::string& name) {
  return std::any_of(results.begin(), results.end(), [&](const auto& r) { return r.name == name; });
}

}  // namespace

TEST_CASE("conformance: the plain backend passes every op check") {
  test::NaiveBackend b;
  const auto results = testing::check_ops(b);
  CHECK(results.size() >= 40);
  for (const auto& f : testing::failures(results)) FAIL_CHECK(f.name << ": " << f.detail);
  CHECK(has(results, "gelu"));
  CHECK(has(results, "geglu_tanh"));
  CHECK(has(results, "conv1d"));
  CHECK(has(results, "embedding_lookup rejects an id past the table"));
  CHECK(has(results, "conv2d_rows 7x7 stride 2 padding 3, odd sizes"));
  CHECK(has(results, "max_pool2d 3x3 stride 2 padding 1, even sizes, negative inputs"));
  CHECK(has(results, "sigmoid"));
  CHECK(has(results, "attention with a bias per window (bias_blocks 3)"));
  CHECK(has(results, "reshape [6, 10] to [4, 15]"));
  CHECK(has(results, "reshape [6, 10] to [60, 1]"));
  CHECK(has(results, "reshape rejects [6, 10] to [4, 16]"));
}

TEST_CASE("conformance: a wrong op is named with its error") {
  WrongGelu b;
  const auto failed = testing::failures(testing::check_ops(b));
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].name == "gelu");
  CHECK(failed[0].detail.find("max abs error 0.05") == 0);
}

TEST_CASE("conformance: a backend with one op set is checked on its ops") {
  EncoderOnly b;
  const auto results = testing::check_ops(b);
  CHECK(testing::failures(results).empty());
  CHECK(has(results, "attention with a padding mask"));
  CHECK_FALSE(has(results, "rms_norm"));
  CHECK_FALSE(has(results, "conv1d"));
  CHECK_FALSE(has(results, "sigmoid"));
  CHECK_FALSE(has(results, "reshape [6, 10] to [4, 15]"));
}

TEST_CASE("conformance: an architecture end to end on the plain backend") {
  Config c;
  c.model = "bert-tiny";
  c.batch_sizes = {1};
  c.sweep = {{"sequence_lengths", {8}}};
  c.warmup_iterations = 1;
  c.min_iterations = 3;
  c.min_time_s = 0.0;
  c.max_time_s = 2.0;
  c.memory_sample_interval_s = 0;
  const auto results = testing::check_architecture<test::NaiveBackend, Embedding>(c);
  CHECK(results.size() == 5);  // the cells, then four checks of the one cell
  for (const auto& f : testing::failures(results)) FAIL_CHECK(f.name << ": " << f.detail);
}
