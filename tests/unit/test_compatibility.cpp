// The compatibility matrix: statuses decided at compile time (unsupported)
// and at run time (unavailable, ok, mismatch), the figures of each row, the
// JSON and Markdown files, and the token agreement of compare_outputs.

#include <doctest/doctest.h>

#include <accelbench/suite/compatibility.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "naive_backend.hpp"

using namespace accelbench;
using accelbench::test::NaiveBackend;

namespace {

/// The plain backend without GenerationOps (its silu is taken away): it runs
/// Embedding, not TextGeneration.
struct EncoderOnlyBackend : NaiveBackend {
  static constexpr std::string_view name = "encoder-only";
  void silu(Tensor&) = delete;
};

/// An encoder-only backend whose device is missing.
struct AbsentBackend : EncoderOnlyBackend {
  static constexpr std::string_view name = "absent";
  static Availability available() { return Availability::no("no absent device in this test"); }
};

/// An encoder-only backend with a visibly wrong GELU.
struct WrongGeluBackend : EncoderOnlyBackend {
  static constexpr std::string_view name = "wrong-gelu";
  void gelu(Tensor& x) {
    NaiveBackend::gelu(x);
    for (auto& v : x.data) v += 0.05f;
  }
};

static_assert(EncoderOps<EncoderOnlyBackend> && !GenerationOps<EncoderOnlyBackend>);
static_assert(RunsOn<Embedding, WrongGeluBackend> && !RunsOn<TextGeneration, WrongGeluBackend>);

using TestBackends = TypeList<Cpu, NaiveBackend, EncoderOnlyBackend, AbsentBackend, WrongGeluBackend>;
using TestFamilies = TypeList<Embedding, TextGeneration>;

CompatibilityMatrix run_test_matrix(const CompatibilityOptions& options) {
  return compatibility_matrix<TestBackends, TestFamilies>(options);
}

CompatibilityOptions test_options() {
  return CompatibilityOptions{.models = {"bert-tiny", "llama-tiny"}, .max_time_s = 0.2, .threads = 1};
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const CompatibilityRow& row_of(const CompatibilityMatrix& m, std::string_view model, std::string_view backend) {
  for (const auto& r : m.rows) {
    if (r.model == model && r.backend == backend) return r;
  }
  FAIL("no row for " << model << " on " << backend);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("compare_outputs: the fraction of equal greedy tokens") {
  HostMatrix got(2, 2), reference(2, 2), logits(1, 3);
  got << 1, 2, 3, 4;
  reference << 1, 2, 3, 9;
  logits << 0.5f, 0.25f, -1.0f;
  const Verification v = compare_outputs({{"generated_tokens", got}, {"last_logits", logits}},
                                         {{"generated_tokens", reference}, {"last_logits", logits}}, 1e-3, "cpu");
  REQUIRE(v.token_agreement.has_value());
  CHECK(*v.token_agreement == doctest::Approx(0.75));
  CHECK(v.status == "mismatch");  // the tokens stay in the error figures too
  CHECK(v.max_abs_error == doctest::Approx(5.0));

  const Verification same = compare_outputs({{"tokens", got}}, {{"tokens", got}}, 1e-3, "cpu");
  REQUIRE(same.token_agreement.has_value());
  CHECK(*same.token_agreement == 1.0);
  CHECK(same.status == "ok");

  const Verification none = compare_outputs({{"last_hidden_state", logits}}, {{"last_hidden_state", logits}}, 1e-3, "cpu");
  CHECK_FALSE(none.token_agreement.has_value());
}

TEST_CASE("compatibility matrix: the default models are each architecture's smallest preset") {
  CHECK(detail::default_matrix_models<Embedding>(200'000'000) == std::vector<std::string>{"bert-tiny"});
  CHECK(detail::default_matrix_models<TextGeneration>(200'000'000) ==
        std::vector<std::string>{"gpt2", "llama-tiny", "qwen2-tiny", "mistral-tiny", "t5-small"});
  CHECK(detail::default_matrix_models<TextGeneration>(10'000'000) == std::vector<std::string>{});
}

TEST_CASE("compatibility matrix: unknown names are rejected before anything runs") {
  CompatibilityOptions o = test_options();
  o.backends = {"plain", "nope"};
  CHECK_THROWS_WITH_AS((void)run_test_matrix(o),
                       doctest::Contains("backends[1] = \"nope\": unknown backend; known: cpu, plain"), ConfigError);
  o = test_options();
  o.models = {"vit-tiny"};  // a preset, but of a family not in the list
  CHECK_THROWS_AS((void)run_test_matrix(o), ConfigError);
  o = test_options();
  o.tolerance = -1;
  CHECK_THROWS_AS((void)run_test_matrix(o), ConfigError);
}

TEST_CASE("compatibility matrix: every status, its figures and its files") {
  CompatibilityOptions options = test_options();
  std::size_t reported = 0;
  options.on_row = [&](const CompatibilityRow&) { ++reported; };
  const CompatibilityMatrix m = run_test_matrix(options);
  const double tolerance = options.tolerance;

  REQUIRE(m.rows.size() == 10);  // 2 models x (cpu + 4 backends)
  CHECK(reported == 10);
  CHECK(m.backends == std::vector<std::string>{"cpu", "plain", "encoder-only", "absent", "wrong-gelu"});
  CHECK(m.rows.front().backend == "cpu");

  for (const auto& r : m.rows) {
    CAPTURE(r.model);
    CAPTURE(r.backend);
    CAPTURE(r.reason);
    if (r.status == CompatibilityStatus::ok) {
      REQUIRE(r.max_abs_error.has_value());
      CHECK(std::isfinite(*r.max_abs_error));
      CHECK(*r.max_abs_error <= tolerance);
      REQUIRE(r.max_rel_error.has_value());
      CHECK(std::isfinite(*r.max_rel_error));
      REQUIRE(r.cosine_similarity.has_value());
      CHECK(*r.cosine_similarity > 0.999);
      REQUIRE(r.median_s.has_value());
      CHECK(*r.median_s > 0);
      REQUIRE(r.speedup.has_value());
      CHECK(*r.speedup > 0);
      CHECK(r.device == "plain loops");
    }
  }

  const auto& cpu_bert = row_of(m, "bert-tiny", "cpu");
  CHECK(cpu_bert.status == CompatibilityStatus::reference);
  CHECK(cpu_bert.family == "embedding");
  CHECK(cpu_bert.architecture == "bert");
  REQUIRE(cpu_bert.speedup.has_value());
  CHECK(*cpu_bert.speedup == 1.0);
  CHECK_FALSE(cpu_bert.max_abs_error.has_value());

  CHECK(row_of(m, "bert-tiny", "plain").status == CompatibilityStatus::ok);
  CHECK_FALSE(row_of(m, "bert-tiny", "plain").token_agreement.has_value());
  CHECK(row_of(m, "bert-tiny", "encoder-only").status == CompatibilityStatus::ok);

  const auto& absent = row_of(m, "bert-tiny", "absent");
  CHECK(absent.status == CompatibilityStatus::unavailable);
  CHECK(absent.reason == "no absent device in this test");
  CHECK_FALSE(absent.median_s.has_value());

  const auto& wrong = row_of(m, "bert-tiny", "wrong-gelu");
  CHECK(wrong.status == CompatibilityStatus::mismatch);
  REQUIRE(wrong.max_abs_error.has_value());
  CHECK(*wrong.max_abs_error > tolerance);
  CHECK(wrong.reason.find("output differs from the cpu reference") != std::string::npos);

  const auto& llama = row_of(m, "llama-tiny", "plain");
  CHECK(llama.family == "text-generation");
  CHECK(llama.architecture == "llama");
  CHECK(llama.status == CompatibilityStatus::ok);
  REQUIRE(llama.token_agreement.has_value());
  CHECK(*llama.token_agreement == 1.0);
  CHECK(row_of(m, "llama-tiny", "cpu").status == CompatibilityStatus::reference);

  const auto& no_generation = row_of(m, "llama-tiny", "encoder-only");
  CHECK(no_generation.status == CompatibilityStatus::unsupported);
  CHECK(no_generation.reason == "encoder-only lacks GenerationOps, which text-generation needs");
  CHECK(row_of(m, "llama-tiny", "absent").status == CompatibilityStatus::unsupported);  // compile time first
  CHECK(row_of(m, "llama-tiny", "wrong-gelu").status == CompatibilityStatus::unsupported);

  // The files: written whole, with every row.
  const auto dir = std::filesystem::temp_directory_path() / "accelbench-test-compatibility";
  std::filesystem::remove_all(dir);
  write_compatibility_json(m, dir / "compatibility.json");
  write_compatibility_markdown(m, dir / "compatibility.md");
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 2);  // no temporary file left behind

  const Json j = Json::parse(read_text(dir / "compatibility.json"));
  CHECK(j["schema"] == "accelbench.compatibility");
  REQUIRE(j["rows"].size() == 10);
  CHECK(j["backends"].size() == 5);
  CHECK(j["settings"]["tolerance"] == tolerance);
  bool saw_mismatch = false, saw_tokens = false;
  for (const auto& r : j["rows"]) {
    CHECK(r.contains("max_abs_error"));
    CHECK(r.contains("speedup_vs_cpu"));
    saw_mismatch = saw_mismatch || (r["backend"] == "wrong-gelu" && r["status"] == "mismatch");
    saw_tokens = saw_tokens || (r["model"] == "llama-tiny" && r["backend"] == "plain" && r["token_agreement"] == 1.0);
  }
  CHECK(saw_mismatch);
  CHECK(saw_tokens);
  CHECK(j["rows"][0]["shape"]["sequence_length"] == 16);

  const std::string md = read_text(dir / "compatibility.md");
  CHECK(md == format_compatibility_markdown(m));
  CHECK(md.find("| embedding | bert | bert-tiny | cpu | reference |") != std::string::npos);
  CHECK(md.find("| embedding | bert | bert-tiny | plain | ok |") != std::string::npos);
  CHECK(md.find("| embedding | bert | bert-tiny | absent | unavailable |") != std::string::npos);
  CHECK(md.find("| embedding | bert | bert-tiny | wrong-gelu | mismatch |") != std::string::npos);
  CHECK(md.find("| text-generation | llama | llama-tiny | encoder-only | unsupported |") != std::string::npos);
  CHECK(md.find("| 1.00x |") != std::string::npos);
  CHECK(md.find("no absent device in this test") != std::string::npos);
  std::size_t table_rows = 0;
  std::istringstream lines(md);
  std::string line;
  while (std::getline(lines, line)) table_rows += line.rfind("| embedding |", 0) == 0 || line.rfind("| text-generation |", 0) == 0;
  CHECK(table_rows == 10);
  std::filesystem::remove_all(dir);
}
