// Benchmark<B, F, S, T, R> end to end: the sweep, the stopping rule,
// throughput and memory, failing, unavailable and mismatching backends,
// verification, bad configurations, and the reporters.

#include <doctest/doctest.h>

#include <accelbench/accelbench.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "naive_backend.hpp"

using namespace accelbench;

namespace {

Config tiny_config() {
  return Config{.model = "bert-tiny",
                .batch_sizes = {1, 2},
                .sweep = {{"sequence_lengths", {8, 16}}},
                .warmup_iterations = 1,
                .min_iterations = 3,
                .max_iterations = 1000,
                .min_time_s = 0.0,
                .max_time_s = 5.0};
}

Cpu one_thread() { return Cpu{Cpu::Options{.threads = 1}}; }

/// A Cpu whose linear() throws on 2 x 8 = 16-row inputs: one failing cell.
struct FailingCpu : Cpu {
  static constexpr std::string_view name = "failing-cpu";
  FailingCpu() : Cpu(Options{.threads = 1}) {}
  void linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    if (x.rows() == 16) throw std::runtime_error("simulated device fault");
    Cpu::linear(x, w, b, y);
  }
};

/// A backend that cannot run here.
struct OfflineCpu : Cpu {
  static constexpr std::string_view name = "offline";
  static Availability available() { return Availability::no("no such device on this machine"); }
};

/// A backend with a wrong GELU: verification must catch it.
struct SloppyCpu : Cpu {
  static constexpr std::string_view name = "sloppy";
  void gelu(Tensor& x) {
    Cpu::gelu(x);
    x.array() += 0.05f;
  }
};

/// A backend that cannot hold the model.
struct FullCpu : Cpu {
  static constexpr std::string_view name = "full";
  Tensor upload(const HostMatrix&) const { throw std::runtime_error("out of device memory"); }
  Tensor upload(HostMatrix&&) const { throw std::runtime_error("out of device memory"); }
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Every path of a JSON document: objects by key, arrays as "[]".
void collect_paths(const Json& j, const std::string& prefix, std::map<std::string, const Json*>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      const std::string p = prefix.empty() ? k : prefix + "." + k;
      out[p] = &v;
      collect_paths(v, p, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) collect_paths(v, prefix + "[]", out);
  }
}

}  // namespace

TEST_CASE("a sweep measures every cell") {
  Benchmark<Cpu, Embedding, PercentileStats> bench{tiny_config(), one_thread()};
  int seen = 0;
  bench.on_cell([&](const CellResult&) { ++seen; });
  const RunResult r = bench.run();
  REQUIRE(r.cells.size() == 4);
  CHECK(seen == 4);
  REQUIRE(r.models.size() == 1);
  CHECK(r.models[0].name == "bert-tiny");
  CHECK(r.models[0].parameters == Embedding::find_preset("bert-tiny").parameter_count());
  CHECK(r.models[0].weight_bytes == static_cast<std::uint64_t>(r.models[0].parameters) * 4);
  CHECK(r.models[0].load_time_s > 0);
  REQUIRE(r.devices.size() == 1);
  CHECK(r.devices[0].threads == 1);
  CHECK_FALSE(r.started_at.empty());
  CHECK(r.settings.min_iterations == 3);

  const int expected[][2] = {{1, 8}, {1, 16}, {2, 8}, {2, 16}};
  for (std::size_t i = 0; i < 4; ++i) {
    const CellResult& c = r.cells[i];
    CAPTURE(i);
    CHECK(c.status == CellStatus::ok);
    CHECK(c.axis("batch_size") == expected[i][0]);
    CHECK(c.axis("sequence_length") == expected[i][1]);
    CHECK(c.iterations >= 3);
    CHECK(c.samples_s.size() * c.iterations_per_sample == c.iterations);
    CHECK(c.warmup_iterations == 1);
    CHECK(c.first_run_s > 0);
    CHECK(c.verification.status == "reference");
    CHECK(c.stats == "percentile");
    CHECK(c.timer == "steady_clock");
    const auto& l = c.latency;
    CHECK(l.count == c.iterations);
    CHECK(l.min <= *l.median);
    CHECK(*l.median <= *l.p90);
    CHECK(*l.p90 <= *l.p95);
    CHECK(*l.p95 <= *l.p99);
    CHECK(*l.p99 <= l.max);
    double sum = 0;
    for (double s : c.samples_s) sum += s;
    const double k = double(c.iterations_per_sample);
    CHECK(c.measured_time_s == doctest::Approx(sum * k));
    CHECK(c.sampling_wall_s >= c.measured_time_s);
    const double items = double(expected[i][0]) * double(c.iterations) / (sum * k);
    CHECK(c.throughput.items_per_second == doctest::Approx(items));
    CHECK(*c.throughput.tokens_per_second == doctest::Approx(items * expected[i][1]));
    CHECK(*c.throughput.gflops_per_second > 0);
    CHECK(c.throughput.item_unit == "sequences");
    CHECK(c.memory.peak_rss_bytes > 0);
    CHECK(c.memory.peak_rss_bytes >= c.memory.rss_before_bytes);
    CHECK(c.load_time_s == r.models[0].load_time_s);
  }
}

TEST_CASE("the stopping rule: iteration bounds and the time limit") {
  auto cfg = tiny_config();
  cfg.batch_sizes = {1};
  cfg.sweep["sequence_lengths"] = {8};
  cfg.min_iterations = 5;
  cfg.max_iterations = 5;
  cfg.min_time_s = 100;
  cfg.max_time_s = 200;
  auto r = Benchmark<Cpu, Embedding>{cfg, one_thread()}.run();
  CHECK(r.cells.at(0).iterations == 5);  // max_iterations wins over min_time_s
  for (const auto& w : r.cells.at(0).warnings) CHECK(w.find("too few samples") == std::string::npos);

  cfg.min_iterations = 1000000;
  cfg.max_iterations = 1000000;
  cfg.min_time_s = 0;
  cfg.max_time_s = 0.05;
  r = Benchmark<Cpu, Embedding>{cfg, one_thread()}.run();
  const auto& c = r.cells.at(0);
  CHECK(c.status == CellStatus::ok);
  CHECK(c.iterations < 1000000);
  CHECK(c.measured_time_s < 1.0);
  bool warned = false;
  for (const auto& w : c.warnings) warned = warned || w.find("too few samples") != std::string::npos;
  CHECK(warned);
}

TEST_CASE("a failing cell is recorded and the sweep goes on") {
  Benchmark<FailingCpu, Embedding> bench{tiny_config()};
  const auto r = bench.run();
  REQUIRE(r.cells.size() == 4);
  CHECK(r.cells[0].status == CellStatus::ok);
  CHECK(r.cells[1].status == CellStatus::failed);  // batch 1 x 16
  CHECK(r.cells[1].message == "simulated device fault");
  CHECK(r.cells[2].status == CellStatus::failed);  // batch 2 x 8
  CHECK(r.cells[3].status == CellStatus::ok);
  CHECK(r.cells[3].iterations >= 3);
  // A non-reference backend is verified against Cpu.
  CHECK(r.cells[0].verification.status == "ok");
  CHECK(r.cells[0].verification.max_abs_error < 1e-4);
}

TEST_CASE("an unavailable backend gives unavailable cells, not a crash") {
  const auto r = Benchmark<OfflineCpu, Embedding>{tiny_config()}.run();
  REQUIRE(r.cells.size() == 4);
  for (const auto& c : r.cells) {
    CHECK(c.status == CellStatus::unavailable);
    CHECK(c.message == "no such device on this machine");
  }
  CHECK(r.models.at(0).status == "unavailable");
}

TEST_CASE("a model that cannot be loaded fails its cells with the reason") {
  const auto r = Benchmark<FullCpu, Embedding>{tiny_config()}.run();
  REQUIRE(r.cells.size() == 4);
  for (const auto& c : r.cells) {
    CHECK(c.status == CellStatus::failed);
    CHECK(c.message == "model load failed: out of device memory");
  }
  CHECK(r.models.at(0).status == "failed");
}

TEST_CASE("verification: a plain-loop backend agrees, a wrong one is a mismatch") {
  auto cfg = tiny_config();
  cfg.batch_sizes = {2};
  cfg.sweep["sequence_lengths"] = {8};
  const auto ok = Benchmark<test::NaiveBackend, Embedding>{cfg}.run();
  const auto& v = ok.cells.at(0).verification;
  CHECK(ok.cells.at(0).status == CellStatus::ok);
  CHECK(v.status == "ok");
  CHECK(v.reference == "cpu");
  CHECK(v.max_abs_error < 1e-4);
  CHECK(v.cosine_similarity > 0.99999);

  const auto bad = Benchmark<SloppyCpu, Embedding>{cfg}.run();
  const auto& c = bad.cells.at(0);
  CHECK(c.status == CellStatus::mismatch);
  CHECK(c.verification.status == "mismatch");
  CHECK(c.verification.max_abs_error > cfg.verify_tolerance);
  CHECK(c.message.find("differs from the cpu reference") != std::string::npos);
  CHECK(c.iterations >= 3);  // still measured
}

TEST_CASE("bad configurations name the field and the value") {
  using E = Benchmark<Cpu, Embedding>;
  auto expect = [](Config cfg, const std::string& text) {
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(E(std::move(cfg), one_thread()), doctest::Contains(text.c_str()), ConfigError);
  };
  auto c = tiny_config();
  c.batch_sizes = {1, 0};
  expect(c, "batch_sizes[1] = 0: batch size must be at least 1");
  c = tiny_config();
  c.batch_sizes = {};
  expect(c, "batch_sizes = []: empty sweep");
  c = tiny_config();
  c.sweep["sequence_lengths"] = {};
  expect(c, "sequence_lengths = []: empty sweep");
  c = tiny_config();
  c.model = "bert-huge";
  expect(c, "model = \"bert-huge\": unknown embedding preset; known presets: bert-tiny, all-MiniLM-L6-v2");
  c = tiny_config();
  c.warmup_iterations = -1;
  expect(c, "warmup_iterations = -1: must be 0 or more");
  c = tiny_config();
  c.min_iterations = -5;
  expect(c, "min_iterations = -5: must be at least 1");
  c = tiny_config();
  c.max_iterations = 2;
  expect(c, "max_iterations = 2: must be at least min_iterations (3)");
  c = tiny_config();
  c.sweep["sequence_lengths"] = {128, 1024};
  expect(c, "sequence_lengths[1] = 1024: exceeds bert-tiny's maximum of 512 positions");
  c = tiny_config();
  c.sweep["sequence_lengths"] = {8, 8};
  expect(c, "sequence_lengths[1] = 8: duplicate sequence length");
  c = tiny_config();
  c.max_time_s = -1;
  expect(c, "max_time_s = -1: must be a finite number of seconds > 0");
  c = tiny_config();
  c.min_time_s = 10;
  c.max_time_s = 5;
  expect(c, "max_time_s = 5: must be at least min_time_s (10)");

  try {
    c = tiny_config();
    c.batch_sizes = {4, -2};
    E bench(c, one_thread());
    FAIL("no exception");
  } catch (const ConfigError& e) {
    CHECK(e.field() == "batch_sizes[1]");
    CHECK(e.value() == "-2");
  }
}

TEST_CASE("console report: a row per cell, failures and warnings as notes") {
  auto r = Benchmark<FailingCpu, Embedding>{tiny_config()}.run();
  std::ostringstream out;
  ConsoleReporter{out}.report(r);
  const std::string text = out.str();
  CHECK(text.find("accelbench " + std::string(version_string)) != std::string::npos);
  CHECK(text.find("batch_size") != std::string::npos);
  CHECK(text.find("median ms") != std::string::npos);
  CHECK(text.find("sequences/s") != std::string::npos);
  CHECK(text.find("failed [") != std::string::npos);
  CHECK(text.find("batch_size=1 sequence_length=16: simulated device fault") != std::string::npos);
  std::size_t rows = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) rows += line.rfind("bert-tiny ", 0) == 0 ? 1 : 0;
  CHECK(rows == 4);
}

TEST_CASE("JSON report: written whole, and exactly the fields docs/result-schema.md lists") {
  // Every kind of entry: percentile cells with enough samples for every
  // interval, mean-stats cells, a comparison and a loading benchmark.
  auto cfg = tiny_config();
  cfg.min_iterations = 400;
  cfg.max_time_s = 120.0;  // the 400 samples the p99 interval needs, also unoptimised under the sanitizers on a busy machine
  RunResult r = Benchmark<Cpu, Embedding>{cfg, one_thread()}.run();
  auto small = tiny_config();
  small.batch_sizes = {1};
  small.sweep["sequence_lengths"] = {8};
  r.merge(Benchmark<Cpu, Embedding, MeanStats>{small, one_thread()}.run());
  small.min_iterations = 10;  // enough pairs for the ratio's interval
  r.merge(compare<Embedding>(Variant<Cpu>{"1 thread", small, one_thread()},
                             Variant<Cpu>{"2 threads", small, Cpu{Cpu::Options{.threads = 2}}}));
  Config generation = small;  // a text-generation cell: phases and the KV cache
  generation.weights = (std::filesystem::path(ACCELBENCH_SOURCE_DIR) / "tests/data/golden/gpt2").string();
  generation.sweep = {{"prompt_lengths", {4}}, {"new_tokens", {3}}};
  r.merge(Benchmark<Cpu, TextGeneration>{generation, one_thread()}.run());
  RunResult loading;
  loading.loading.push_back(measure_loading<Embedding, Cpu>({"bert-tiny", "bert-tiny"}, one_thread, 1, 1));
  r.merge(std::move(loading));
  r.group = RunGroup{"nightly", 2, 4};  // a shard of a group (run --group NAME --shard 2/4)
  const auto dir = std::filesystem::temp_directory_path() / "accelbench-test-json";
  std::filesystem::remove_all(dir);
  const auto path = dir / "nested" / "result.json";
  JsonReporter{path}.report(r);
  REQUIRE(std::filesystem::exists(path));
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path())) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);  // no temporary file left behind

  const Json j = Json::parse(read_file(path));
  CHECK(j["schema"] == "accelbench.result");
  CHECK(j["schema_version"] == RunResult::schema_version);
  CHECK(j["cells"].size() == 6);
  CHECK(j["cells"][5]["phases"].size() == 2);
  CHECK(j["cells"][5]["phases"][1]["name"] == "decode");
  CHECK(j["comparisons"].size() == 1);
  CHECK(j["loading"].size() == 1);
  CHECK(j["cells"][0]["samples_s"].size() == r.cells[0].samples_s.size());
  CHECK(j["cells"][3]["shape"]["sequence_length"] == 16);
  CHECK(j["build"]["debug"] == build_info().debug());

  // The schema document's table: | `path` | type | meaning |
  const std::string doc = read_file(std::filesystem::path(ACCELBENCH_SOURCE_DIR) / "docs" / "result-schema.md");
  const std::regex row(R"(^\| `([^`]+)` \| ([^|]+) \|)");
  std::map<std::string, std::string> documented;
  std::istringstream doc_lines(doc);
  std::string line;
  while (std::getline(doc_lines, line)) {
    std::smatch m;
    if (std::regex_search(line, m, row)) documented[m[1]] = m[2];
  }
  REQUIRE(documented.size() > 50);

  std::map<std::string, const Json*> produced;
  collect_paths(j, "", produced);
  auto documented_as = [&](std::string path) -> std::string {
    // `a.*` documented "as `b`": a.x.y is checked as b.x.y.
    for (auto dot = path.find('.'); dot != std::string::npos; dot = path.find('.', dot + 1)) {
      const auto alias = documented.find(path.substr(0, dot) + ".*");
      if (alias != documented.end() && alias->second.rfind("as `", 0) == 0) {
        const auto target = alias->second.substr(4, alias->second.find('`', 4) - 4);
        path = target + path.substr(dot);
        break;
      }
    }
    if (documented.count(path)) return path;
    // Family- and backend-specific keys are documented as `prefix.*`.
    const auto dot = path.rfind('.');
    if (dot != std::string::npos && documented.count(path.substr(0, dot) + ".*")) return path.substr(0, dot) + ".*";
    return {};
  };
  auto type_ok = [](const std::string& type, const Json& v) {
    if (v.is_null()) return type.find("null") != std::string::npos;
    if (type.rfind("integer", 0) == 0) return v.is_number_integer();
    if (type.rfind("number", 0) == 0) return v.is_number();
    if (type.rfind("string", 0) == 0) return v.is_string();
    if (type.rfind("boolean", 0) == 0) return v.is_boolean();
    if (type.rfind("object", 0) == 0) return v.is_object();
    if (type.rfind("array", 0) == 0) return v.is_array();
    return false;
  };
  for (const auto& [path, value] : produced) {
    CAPTURE(path);
    const std::string key = documented_as(path);
    CHECK_MESSAGE(!key.empty(), "field missing from docs/result-schema.md");
    if (!key.empty()) CHECK_MESSAGE(type_ok(documented[key], *value), "type differs from the document");
  }
  for (const auto& [path, type] : documented) {
    if (path.size() > 2 && path.substr(path.size() - 2) == ".*") continue;
    CAPTURE(path);
    CHECK_MESSAGE(produced.count(path) == 1, "documented field not produced");
  }
}

TEST_CASE("benchmarks sharing a resource pool load a model once") {
  ResourcePool pool;
  auto cfg = tiny_config();
  cfg.batch_sizes = {1};
  cfg.sweep["sequence_lengths"] = {8};
  Benchmark<Cpu, Embedding> first{cfg, one_thread()};
  Benchmark<Cpu, Embedding> second{cfg, Cpu{Cpu::Options{.threads = 2}}};
  first.share_models(pool);
  second.share_models(pool);
  const auto a = first.run();
  const auto b = second.run();
  CHECK_FALSE(a.models.at(0).shared);
  CHECK(b.models.at(0).shared);
  CHECK(b.models.at(0).load_time_s == a.models.at(0).load_time_s);
  CHECK(a.models.at(0).construct_time_s > 0);
  CHECK(a.models.at(0).upload_time_s > 0);
  CHECK(a.models.at(0).load_time_s == doctest::Approx(a.models.at(0).construct_time_s + a.models.at(0).upload_time_s));
  CHECK(pool.loads() == 1);
  CHECK(pool.hits() == 1);
  CHECK(b.cells.at(0).status == CellStatus::ok);
}

TEST_CASE("merged runs keep every model and cell, and the first run's system") {
  auto cfg = tiny_config();
  cfg.batch_sizes = {1};
  cfg.sweep["sequence_lengths"] = {8};
  RunResult all;
  all.merge(Benchmark<Cpu, Embedding>{cfg, one_thread()}.run());
  cfg.model = "all-MiniLM-L6-v2";
  all.merge(Benchmark<Cpu, Embedding>{cfg, one_thread()}.run());
  CHECK(all.models.size() == 2);
  CHECK(all.cells.size() == 2);
  CHECK(all.devices.size() == 1);
  CHECK_FALSE(all.system.cpu_model.empty());
  CHECK(all.cells[1].model == "all-MiniLM-L6-v2");
}

TEST_CASE("the build description follows the compiler's macros") {
  const auto b = build_info();
#if defined(__OPTIMIZE__)
  CHECK(b.optimized);
#else
  CHECK_FALSE(b.optimized);
#endif
#if defined(NDEBUG)
  CHECK_FALSE(b.assertions);
#else
  CHECK(b.assertions);
#endif
  CHECK(b.debug() == (!b.optimized || b.assertions));
  CHECK(build_warnings(b).empty() == !b.debug());
  CHECK(b.flags.find("-O") != std::string::npos);  // recorded by the build
}

TEST_CASE("suites: parsed from JSON with every bad field named") {
  const Suite s = parse_suite(Json::parse(R"({"name": "small", "models": ["bert-tiny"], "batch_sizes": [2],
                                              "sequence_lengths": [16], "threads": 1, "min_time_s": 0.0,
                                              "min_iterations": 2, "warmup_iterations": 0})"));
  CHECK(s.name == "small");
  REQUIRE(s.benchmarks.size() == 1);
  CHECK(s.benchmarks[0] == SuiteEntry{"embedding", {"bert-tiny"}});
  CHECK(s.settings.batch_sizes == std::vector<int>{2});
  CHECK(s.hardware == std::vector<std::string>{"cpu"});  // default kept
  CHECK_NOTHROW(validate_suite(s));

  auto rejects = [](const char* json, const std::string& text) {
    CAPTURE(json);
    CHECK_THROWS_WITH_AS(validate_suite(parse_suite(Json::parse(json))), doctest::Contains(text.c_str()),
                         ConfigError);
  };
  rejects(R"({"batch_size": [1]})", "batch_size = [1]: unknown suite field");
  rejects(R"({"batch_sizes": "8"})", "batch_sizes = \"8\": expected an array of integers");
  rejects(R"({"batch_sizes": [1, 2.5]})", "batch_sizes[1] = 2.5: expected an integer");
  rejects(R"({"batch_sizes": [1, 0]})", "batch_sizes[1] = 0: batch size must be at least 1");
  rejects(R"({"sequence_lengths": []})", "sequence_lengths = []: empty sweep");
  rejects(R"({"models": ["bert-tiny", "gpt-5"]})", "models[1] = \"gpt-5\": no family has this preset");
  rejects(R"({"family": "embedding", "models": ["bert-tiny", "gpt2"]})", "models[1] = \"gpt2\": unknown embedding preset");
  rejects(R"({"benchmarks": [{"family": "embedding", "models": []}, {"family": "text-generation", "models": ["gpt2"]}]})",
          "benchmarks[0].models = []: name at least one model");
  rejects(R"({"benchmarks": [{"family": "embedding", "model": ["bert-tiny"]}]})",
          "benchmarks[0].model = [\"bert-tiny\"]: unknown field");
  rejects(R"({"benchmarks": [], "models": ["gpt2"]})", "give either benchmarks or family and models");
  rejects(R"({"sequence_lengths": [600]})", "sequence_lengths[0] (for bert-tiny) = 600: exceeds");
  rejects(R"({"hardware": ["cpu", "tpu"]})", "hardware[1] = \"tpu\": unknown backend; known: cpu");
  rejects(R"({"family": "speech"})", "family = \"speech\": unknown family; known: embedding, text-generation");
  rejects(R"({"min_iterations": -3})", "min_iterations = -3: must be at least 1");
  rejects(R"({"threads": -1})", "threads = -1: must be 0");
  rejects(R"({"seed": -1})", "seed = -1: expected a non-negative integer");
  rejects(R"([1, 2])", "suite = [1,2]: expected a JSON object");
  rejects(R"({"timer": "sundial"})", "timer = \"sundial\": unknown Timer policy; known: steady_clock, process_cpu_time");
  rejects(R"({"stats": "vibes"})", "stats = \"vibes\": unknown Stats policy; known: percentile, mean");
  rejects(R"({"confidence": 1.5})", "confidence = 1.5: must lie between 0.5 and 1");
  rejects(R"({"cell_timeout_s": -2})", "cell_timeout_s = -2: must be 0 (no limit)");
  rejects(R"({"iterations_per_sample": -1})", "iterations_per_sample = -1: must be 0 (automatic) or more");
  rejects(R"({"target_relative_ci_width": -0.1})", "target_relative_ci_width = -0.1: must be 0 (off)");
  rejects(R"({"warmup_until_stable": 1})", "warmup_until_stable = 1: expected true or false");
  rejects(R"({"loading_repetitions": 0})", "loading_repetitions = 0: must be at least 1");
  const Suite timed = parse_suite(Json::parse(R"({"timer": "process_cpu_time", "stats": "mean",
                                                  "target_relative_ci_width": 0.05, "cell_timeout_s": 30})"));
  CHECK(timed.timer == "process_cpu_time");
  CHECK(timed.stats == "mean");
  CHECK(timed.settings.target_relative_ci_width == 0.05);
  CHECK(timed.settings.cell_timeout_s == 30);
}

TEST_CASE("suites: fail_on_busy, off unless asked") {
  CHECK_FALSE(default_suite().fail_on_busy);
  CHECK(parse_suite(Json::parse(R"({"fail_on_busy": true})")).fail_on_busy);
  CHECK_THROWS_WITH_AS(parse_suite(Json::parse(R"({"fail_on_busy": "yes"})")),
                       doctest::Contains("fail_on_busy = \"yes\": expected true or false"), ConfigError);
}

TEST_CASE("suites: every model on every backend, with progress after each model") {
  Suite s = default_suite();
  s.benchmarks.resize(1);  // the embedding family
  s.settings.batch_sizes = {1};
  s.settings.sweep["sequence_lengths"] = {8};
  s.settings.min_time_s = 0;
  s.settings.min_iterations = 2;
  s.settings.warmup_iterations = 0;
  s.threads = 1;
  int cells = 0, progress = 0;
  SuiteObserver observer;
  observer.on_cell = [&](const CellResult&) { ++cells; };
  observer.on_progress = [&](const RunResult& so_far) {
    ++progress;
    // After each model, then after the loading benchmark.
    CHECK(so_far.models.size() == static_cast<std::size_t>(std::min(progress, 2)));
    CHECK(so_far.loading.size() == (progress == 3 ? 1u : 0u));
  };
  s.timer = "thread_cpu_time";
  const RunResult r = run_suite(s, observer);
  CHECK(r.cells.at(0).timer == "thread_cpu_time");
  CHECK(r.timers.at(0).name == "thread_cpu_time");
  CHECK(cells == 2);
  CHECK(progress == 3);
  REQUIRE(r.loading.size() == 1);
  CHECK(r.loading[0].models == s.benchmarks[0].models);
  CHECK(r.loading[0].status == "ok");
  CHECK(r.models[1].shared == false);
  REQUIRE(r.cells.size() == 2);
  CHECK(r.cells[0].model == "bert-tiny");
  CHECK(r.cells[1].model == "all-MiniLM-L6-v2");
  CHECK(r.devices.at(0).threads == 1);
  s.benchmarks[0].models = {"bert-tiny", "nope"};
  CHECK_THROWS_AS((void)run_suite(s), ConfigError);  // validated before anything runs
}
