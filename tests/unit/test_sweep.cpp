// Sweep axes: a family declared here, outside the library, with an axis of
// its own gets its defaults, its validation, its suite-file field and its
// compatibility-matrix cell from its declaration alone.

#include <doctest/doctest.h>

#include <accelbench/family/sweep.hpp>
#include <accelbench/measure/do_not_optimize.hpp>
#include <accelbench/suite/compatibility.hpp>
#include <accelbench/suite/suite.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace accelbench;

namespace {

/// Copies a row of `width` values per sequence: one axis of its own, echo_widths.
struct Echo {
  static constexpr std::string_view name = "echo";
  static constexpr std::string_view item_unit = "echoes";

  struct Preset {
    std::string name;
    std::int64_t parameter_count() const { return 1; }
  };
  struct Cell {
    int batch_size = 1;
    int width = 1;
  };

  static const Preset& find_preset(std::string_view model) {
    static const Preset preset{"echo-1"};
    if (model != preset.name) throw ConfigError("model", std::string(model), "unknown echo preset");
    return preset;
  }
  static std::vector<std::string> preset_names() { return {"echo-1"}; }
  static std::string_view architecture(const Preset&) { return "echo"; }

  static std::vector<SweepAxis> sweep_axes() {
    return {{.name = "echo_widths",
             .item = "echo width",
             .help = "values per echo",
             .defaults = {4, 8},
             .max = 64,
             .small = {2}}};
  }
  static void validate(const Config&, const Preset&) {}
  static std::vector<Cell> cells(const Config& config) {
    std::vector<Cell> out;
    for (int b : config.batch_sizes) {
      for (int w : sweep_of<Echo>(config, "echo_widths")) out.push_back({b, w});
    }
    return out;
  }
  static std::vector<Axis> axes(const Cell& c) { return {{"batch_size", c.batch_size}, {"echo_width", c.width}}; }
  static double items(const Cell& c) { return c.batch_size; }

  template <Backend B>
  struct Model {
    std::int64_t parameters() const { return 1; }
    std::uint64_t weight_bytes() const { return 4; }
  };
  template <Backend B>
  static Model<B> load(B&, const Preset&, std::uint64_t) {
    return {};
  }
  template <Backend B>
  class Workload {
   public:
    Workload(B&, const Model<B>&, const Cell& c, std::uint64_t)
        : out_(HostMatrix::Constant(c.batch_size, c.width, 1.0f)) {}
    void run() { do_not_optimize(out_(0, 0)); }
    std::vector<NamedOutput> outputs() { return {{"echo", out_}}; }

   private:
    HostMatrix out_;
  };
};
static_assert(ModelFamily<Echo>);

Config quick(Config c) {
  c.model = "echo-1";
  c.warmup_iterations = 0;
  c.min_iterations = 2;
  c.min_time_s = 0.0;
  c.memory_sample_interval_s = 0;
  return c;
}

Cpu one_thread() { return Cpu{Cpu::Options{.threads = 1}}; }

}  // namespace

TEST_CASE("a family's own sweep axis: defaults, given values and their validation") {
  Config c = quick({});
  REQUIRE(Echo::cells(c).size() == 2);  // the declared defaults, 4 and 8
  CHECK(Echo::cells(c)[1].width == 8);
  CHECK(sweep_of<Echo>(c, "echo_widths") == std::vector<int>{4, 8});
  CHECK_THROWS_AS(sweep_of<Echo>(c, "echo_heights"), std::logic_error);  // a mistake in the family
  CHECK(sweep_flag(Echo::sweep_axes()[0]) == "--echo-widths");

  const RunResult defaults = Benchmark<Cpu, Echo>{c, one_thread()}.run();
  REQUIRE(defaults.cells.size() == 2);
  CHECK(*defaults.cells[0].axis("echo_width") == 4);
  CHECK(*defaults.cells[1].axis("echo_width") == 8);
  c.sweep["echo_widths"] = {16};
  const RunResult given = Benchmark<Cpu, Echo>{c, one_thread()}.run();
  REQUIRE(given.cells.size() == 1);
  CHECK(given.cells[0].status == CellStatus::ok);
  CHECK(*given.cells[0].axis("echo_width") == 16);

  const auto rejects = [](Config bad, const std::string& text) {
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(validate<Echo>(bad), doctest::Contains(text.c_str()), ConfigError);
    CHECK_THROWS_WITH_AS((Benchmark<Cpu, Echo>{bad, one_thread()}), doctest::Contains(text.c_str()), ConfigError);
  };
  c.sweep["echo_widths"] = {};
  rejects(c, "echo_widths = []: empty sweep: give at least one echo width");
  c.sweep["echo_widths"] = {8, 0};
  rejects(c, "echo_widths[1] = 0: echo width must be at least 1");
  c.sweep["echo_widths"] = {65};
  rejects(c, "echo_widths[0] = 65: echo width must be at most 64");
  c.sweep["echo_widths"] = {2, 2};
  rejects(c, "echo_widths[1] = 2: duplicate echo width");
  // Another family's axis is not Echo's, and Echo's is not Embedding's.
  c.sweep = {{"sequence_lengths", {8}}};
  rejects(c, "sweep.sequence_lengths = [8]: not a sweep axis of echo; its axes: echo_widths");
  CHECK_THROWS_WITH_AS(validate<Embedding>(Config{.sweep = {{"echo_widths", {2, 3}}}}),
                       doctest::Contains("sweep.echo_widths = [2, 3]: not a sweep axis of embedding; its axes: "
                                         "sequence_lengths"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(validate<Multimodal>(Config{.sweep = {{"image_sizes", {0}}}}),
                       doctest::Contains("sweep.image_sizes = [0]: not a sweep axis of multimodal; its axes: none"),
                       ConfigError);
  // Only the shared settings and the family's own axes are checked.
  CHECK_NOTHROW(validate<Echo>(Config{.sweep = {{"echo_widths", {2}}}}));
  CHECK(restrict_sweep_to<Echo>(Config{.sweep = {{"echo_widths", {2}}, {"sequence_lengths", {0}}}}).sweep ==
        std::map<std::string, std::vector<int>>{{"echo_widths", {2}}});
}

TEST_CASE("suite files: each declared sweep axis is a field") {
  using Families = TypeList<Embedding, Echo>;
  const Suite s = parse_suite(Json::parse(R"({"echo_widths": [2, 3], "sequence_lengths": [16]})"), Families{});
  CHECK(s.settings.sweep.at("echo_widths") == std::vector<int>{2, 3});
  CHECK(s.settings.sweep.at("sequence_lengths") == std::vector<int>{16});
  CHECK_NOTHROW(validate_shared_sweep(s.settings, Families{}));

  // The library's families do not declare it; their fields are listed.
  CHECK_THROWS_WITH_AS(parse_suite(Json::parse(R"({"echo_widths": [2]})")),
                       doctest::Contains("echo_widths = [2]: unknown suite field; known fields: name, benchmarks, "
                                         "family, hardware, stats, timer, models, batch_sizes, sequence_lengths, "
                                         "prompt_lengths, new_tokens, image_sizes, image_widths, audio_seconds, "
                                         "frames, warmup_iterations"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(parse_suite(Json::parse(R"({"bogus": 1})"), TypeList<Echo>{}),
                       doctest::Contains("known fields: name, benchmarks, family, hardware, stats, timer, models, "
                                         "batch_sizes, echo_widths, warmup_iterations"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(parse_suite(Json::parse(R"({"echo_widths": [1, "2"]})"), Families{}),
                       doctest::Contains("echo_widths[1] = \"2\": expected an integer"), ConfigError);

  Config shared = s.settings;
  shared.sweep["echo_widths"] = {0};
  CHECK_THROWS_WITH_AS(validate_shared_sweep(shared, Families{}),
                       doctest::Contains("echo_widths[0] = 0: echo width must be at least 1"), ConfigError);
  shared.sweep = {{"heights", {1}}};
  CHECK_THROWS_WITH_AS(validate_shared_sweep(shared, Families{}),
                       doctest::Contains("sweep.heights = [1]: no family of the suite declares this sweep axis; "
                                         "known axes: sequence_lengths, echo_widths"),
                       ConfigError);

  // The library's axes, each once, with the families that declare it.
  const auto declared = declared_sweep_axes(KnownFamilies{});
  std::vector<std::string> names;
  for (const auto& d : declared) names.push_back(d.axis.name);
  CHECK(names == std::vector<std::string>{"sequence_lengths", "prompt_lengths", "new_tokens", "image_sizes",
                                          "image_widths", "audio_seconds", "frames"});
  CHECK(declared[2].families == std::vector<std::string>{"text-generation", "audio", "vision-language"});
  CHECK(declared[3].families == std::vector<std::string>{"vision", "vision-language"});
  CHECK(declared[4].families == std::vector<std::string>{"vision"});
  CHECK(small_sweep<VisionLanguage>() ==
        std::map<std::string, std::vector<int>>{{"image_sizes", {0}}, {"prompt_lengths", {8}}, {"new_tokens", {4}}});
}

TEST_CASE("the default suite of a program that knows some families: their axes and their entries") {
  // A runner over embedding and vision: text generation's axes and models
  // leave the defaults, which then pass the shared sweep's check.
  using Some = TypeList<Embedding, Vision>;
  const Suite s = default_suite(Some{});
  CHECK(s.settings.sweep == std::map<std::string, std::vector<int>>{{"sequence_lengths", {32, 128}}});
  REQUIRE(s.benchmarks.size() == 1);
  CHECK(s.benchmarks.front().family == "embedding");
  CHECK_NOTHROW(validate_shared_sweep(s.settings, Some{}));
  CHECK_THROWS_WITH_AS(validate_shared_sweep(default_suite().settings, Some{}),
                       doctest::Contains("sweep.new_tokens = [16]: no family of the suite declares this sweep axis"),
                       ConfigError);
  // A suite file read for them starts from the same defaults.
  CHECK(parse_suite(Json::parse(R"({"name": "x"})"), Some{}).benchmarks == s.benchmarks);
  // Every family of the library: the default suite unchanged.
  const Suite all = default_suite(KnownFamilies{});
  CHECK(all.settings.sweep == default_suite().settings.sweep);
  CHECK(all.benchmarks == default_suite().benchmarks);
}

TEST_CASE("the compatibility matrix runs each family's small cell, from its declaration") {
  CHECK(small_sweep<Echo>() == std::map<std::string, std::vector<int>>{{"echo_widths", {2}}});
  CHECK(small_sweep<Embedding>() == std::map<std::string, std::vector<int>>{{"sequence_lengths", {16}}});
  CHECK(small_sweep<Multimodal>().empty());
  CompatibilityOptions o;
  o.threads = 1;
  o.min_iterations = 1;
  o.max_time_s = 0.1;
  const CompatibilityMatrix m = compatibility_matrix<TypeList<Cpu>, TypeList<Echo>>(o);
  REQUIRE(m.rows.size() == 1);
  CHECK(m.rows[0].status == CompatibilityStatus::reference);
  REQUIRE(m.rows[0].shape.size() == 2);
  CHECK(m.rows[0].shape[1].name == "echo_width");
  CHECK(m.rows[0].shape[1].value == 2);
  CHECK(m.settings.sweep == std::map<std::string, std::vector<int>>{{"echo_widths", {2}}});
  CHECK(format_compatibility_markdown(m).find("batch_sizes [1]; echo_widths [2]") != std::string::npos);
}
