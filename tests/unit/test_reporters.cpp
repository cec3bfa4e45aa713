// The CSV, JSON Lines, Markdown and google/benchmark reporters over a
// fabricated run: two families, cpu and opencl, phases, a failed cell, a
// model known only as unsupported, warnings, a busy cell and text with
// commas, quotes, pipes, line breaks and bytes that are not UTF-8.

#include <accelbench/report/concept.hpp>
#include <accelbench/report/csv_reporter.hpp>
#include <accelbench/report/gbench_reporter.hpp>
#include <accelbench/report/jsonl_reporter.hpp>
#include <accelbench/report/markdown_reporter.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace accelbench;

static_assert(Reporter<CsvReporter>);
static_assert(Reporter<JsonLinesReporter>);
static_assert(Reporter<MarkdownReporter>);
static_assert(Reporter<GoogleBenchmarkReporter>);

namespace {

const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD
const std::string odd_model = "odd,\"model\"|x\xFE";
const std::string failure = "out of memory, \"huge\" | buffer\nsecond line \xFF";

CellResult timed(std::string family, std::string model, std::string backend, std::vector<Axis> shape,
                 double median) {
  CellResult c;
  c.family = std::move(family);
  c.model = std::move(model);
  c.backend = std::move(backend);
  c.shape = std::move(shape);
  c.stats = "percentile";
  c.timer = "steady_clock";
  c.samples_s = {median * 0.9, median * 0.95, median, median * 1.05, median * 1.1};
  c.iterations = c.samples_s.size();
  c.measured_time_s = 0;
  for (double s : c.samples_s) c.measured_time_s += s;
  c.latency.count = c.samples_s.size();
  c.latency.min = median * 0.9;
  c.latency.max = median * 1.1;
  c.latency.mean = c.measured_time_s / 5;
  c.latency.median = median;
  c.latency.p90 = median * 1.08;
  c.latency.p99 = median * 1.098;
  c.latency.stddev = median * 0.079;
  c.latency.confidence = 0.95;
  c.latency.median_ci = Interval{median * 0.95, median * 1.05};
  c.throughput.item_unit = "sequences";
  c.throughput.items_per_second = 1.0 / median;
  c.memory.peak_rss_bytes = 64u << 20;
  c.load_time_s = 0.25;
  if (c.backend == "cpu") {
    c.verification.status = "reference";
  } else {
    c.verification.status = "ok";
    c.verification.reference = "cpu";
    c.verification.max_abs_error = 2.5e-6;
    c.memory.device_peak_bytes = 32u << 20;
  }
  return c;
}

std::vector<Axis> embedding_shape(std::int64_t batch) { return {{"batch_size", batch}, {"sequence_length", 128}}; }
std::vector<Axis> generation_shape() { return {{"batch_size", 1}, {"prompt_length", 16}, {"new_tokens", 8}}; }

CellResult generating(std::string backend, double median) {
  CellResult c = timed("text_generation", "gpt2-tiny", std::move(backend), generation_shape(), median);
  c.throughput.tokens_per_second = 8 / median;
  LatencySummary prefill;
  prefill.count = 5;
  prefill.median = median / 4;
  LatencySummary decode;
  decode.count = 35;
  decode.median = median / 8;
  c.phases = {PhaseResult{"prefill", "prompt tokens", 16, 1, prefill, 16 / (median / 4)},
              PhaseResult{"decode", "tokens", 1, 7, decode, 1 / (median / 8)}};
  return c;
}

RunResult fabricated_run() {
  RunResult r;
  r.started_at = "2026-11-30T10:00:00Z";
  r.finished_at = "2026-11-30T10:05:00Z";
  r.system.hostname = "bench,host";
  r.system.os = "Debian GNU/Linux 12";
  r.system.kernel = "6.1.0";
  r.system.architecture = "x86_64";
  r.system.cpu_model = "Test CPU | 8 cores";
  r.system.logical_cores = 8;
  r.system.physical_cores = 4;
  r.system.memory_bytes = 16ull << 30;
  r.system.cpu_features = {"avx2", "fma"};
  r.build.library_version = "0.1.0";
  r.build.compiler = "GCC 12.2";
  r.build.flags = "-O3 -march=native";
  r.build.build_type = "Release";
  r.build.optimized = true;
  r.build.git_commit = "0123abcd";
  r.build.simd = {"avx2", "fma"};
  r.build.openmp = true;
  r.environment.governor = "performance";
  r.environment.virtualized = true;
  r.environment.hypervisor = "KVM";
  r.environment.cpu_mhz = 2999.6;
  r.settings.confidence = 0.95;
  r.devices = {DeviceInfo{"cpu", "Test CPU", "cpu", 8, 8, 16ull << 30, {}, {}},
               DeviceInfo{"opencl", "pthread-Test CPU", "cpu", 8, 0, 8ull << 30, {}, {}}};
  r.warnings = {"a run-wide warning"};

  CellResult failed;
  failed.family = "embedding";
  failed.model = "bert-tiny";
  failed.backend = "opencl";
  failed.shape = embedding_shape(8);
  failed.status = CellStatus::failed;
  failed.message = failure;
  failed.throughput.item_unit = "sequences";
  failed.verification.reference = "cpu";

  CellResult odd = timed("embedding", odd_model, "cpu", embedding_shape(1), 3e-3);
  odd.busy = true;
  odd.warnings = {"a run-wide warning", "busy: other work took 1.5 cores"};

  r.cells = {timed("embedding", "bert-tiny", "cpu", embedding_shape(1), 2e-3),
             timed("embedding", "bert-tiny", "opencl", embedding_shape(1), 1e-3),
             timed("embedding", "bert-tiny", "cpu", embedding_shape(8), 8e-3),
             failed,
             odd,
             generating("cpu", 4e-3),
             generating("opencl", 2e-3)};
  ModelInfo unsupported;
  unsupported.name = "whisper-tiny";
  unsupported.family = "audio";
  unsupported.backend = "opencl";
  unsupported.status = "unsupported";
  unsupported.message = "the backend lacks conv1d";
  r.models = {unsupported};
  return r;
}

/// RFC 4180 records: fields split at commas outside quotes, "" inside
/// quotes a quote, records ended by CRLF outside quotes.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"') {
      REQUIRE_MESSAGE(field.empty(), "a quote inside an unquoted field at byte " << i);
      quoted = true;
    } else if (ch == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (ch == '\r') {
      REQUIRE_MESSAGE((i + 1 < text.size() && text[i + 1] == '\n'), "a CR without LF at byte " << i);
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      ++i;
    } else {
      REQUIRE_MESSAGE(ch != '\n', "a bare LF outside quotes at byte " << i);
      field += ch;
    }
  }
  REQUIRE_MESSAGE(!quoted, "an unterminated quoted field");
  REQUIRE_MESSAGE((field.empty() && record.empty()), "the last record lacks its CRLF");
  return records;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

/// Column separators of a table line: pipes not escaped by a backslash.
std::size_t unescaped_pipes(const std::string& line) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (line[i] == '|') {
      ++n;
    }
  }
  return n;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("csv: a header and one RFC 4180 row per cell, the axes and phases as columns") {
  const RunResult r = fabricated_run();
  const std::string text = format_csv(r);
  const auto records = parse_csv(text);
  REQUIRE(records.size() == 1 + r.cells.size());
  const std::vector<std::string> header{
      "started_at", "hostname", "git_commit", "family", "model", "backend", "batch_size", "sequence_length",
      "prompt_length", "new_tokens", "status", "message", "iterations", "median_s", "mean_s", "min_s", "max_s",
      "p90_s", "p99_s", "stddev_s", "median_ci_low_s", "median_ci_high_s", "items_per_second", "item_unit",
      "tokens_per_second", "peak_rss_bytes", "device_peak_bytes", "load_time_s", "verification_status",
      "max_abs_error", "busy", "prefill_median_s", "prefill_items_per_second", "decode_median_s",
      "decode_items_per_second"};
  CHECK(records[0] == header);
  CHECK(csv_columns(r) == header);
  for (const auto& rec : records) CHECK(rec.size() == header.size());
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const auto& cpu = records[1];
  CHECK(cpu[column("started_at")] == "2026-11-30T10:00:00Z");
  CHECK(cpu[column("hostname")] == "bench,host");
  CHECK(cpu[column("git_commit")] == "0123abcd");
  CHECK(cpu[column("model")] == "bert-tiny");
  CHECK(cpu[column("batch_size")] == "1");
  CHECK(cpu[column("sequence_length")] == "128");
  CHECK(cpu[column("prompt_length")].empty());
  CHECK(cpu[column("status")] == "ok");
  CHECK(cpu[column("iterations")] == "5");
  CHECK(std::stod(cpu[column("median_s")]) == 2e-3);
  CHECK(std::stod(cpu[column("median_ci_low_s")]) == doctest::Approx(1.9e-3));
  CHECK(std::stod(cpu[column("items_per_second")]) == doctest::Approx(500));
  CHECK(cpu[column("device_peak_bytes")].empty());
  CHECK(cpu[column("verification_status")] == "reference");
  CHECK(cpu[column("max_abs_error")].empty());
  CHECK(cpu[column("busy")] == "false");
  CHECK(cpu[column("prefill_median_s")].empty());
  const auto& opencl = records[2];
  CHECK(opencl[column("device_peak_bytes")] == std::to_string(32u << 20));
  CHECK(std::stod(opencl[column("max_abs_error")]) == 2.5e-6);
  const auto& failed = records[4];
  CHECK(failed[column("status")] == "failed");
  CHECK(failed[column("message")] == "out of memory, \"huge\" | buffer\nsecond line " + replacement);
  for (const char* empty : {"median_s", "mean_s", "min_s", "items_per_second", "peak_rss_bytes"}) {
    CHECK_MESSAGE(failed[column(empty)].empty(), empty);
  }
  CHECK(records[5][column("model")] == "odd,\"model\"|x" + replacement);
  CHECK(records[5][column("busy")] == "true");
  const auto& generation = records[6];
  CHECK(generation[column("sequence_length")].empty());
  CHECK(generation[column("prompt_length")] == "16");
  CHECK(generation[column("new_tokens")] == "8");
  CHECK(std::stod(generation[column("tokens_per_second")]) == doctest::Approx(2000));
  CHECK(std::stod(generation[column("prefill_median_s")]) == doctest::Approx(1e-3));
  CHECK(std::stod(generation[column("decode_items_per_second")]) == doctest::Approx(2000));
}

TEST_CASE("csv: an axis named like a fixed column gets the prefix shape_") {
  RunResult r;
  CellResult c;
  c.shape = {{"status", 3}};
  r.cells = {c};
  const auto columns = csv_columns(r);
  CHECK(std::count(columns.begin(), columns.end(), "status") == 1);
  CHECK(std::count(columns.begin(), columns.end(), "shape_status") == 1);
}

TEST_CASE("json lines: one valid JSON object per cell with the run's context") {
  const RunResult r = fabricated_run();
  const std::string text = format_json_lines(r);
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  const auto lines = lines_of(text);
  REQUIRE(lines.size() == r.cells.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(i);
    const Json j = Json::parse(lines[i]);  // throws on invalid UTF-8 too
    for (const char* key : {"started_at", "hostname", "git_commit", "library_version", "model", "family", "backend",
                            "shape", "status", "message", "latency", "phases", "throughput", "memory",
                            "verification", "busy", "warnings", "samples_s"}) {
      CHECK_MESSAGE(j.contains(key), key);
    }
    CHECK(j["started_at"] == "2026-11-30T10:00:00Z");
    CHECK(j["hostname"] == "bench,host");
    CHECK(j["git_commit"] == "0123abcd");
    CHECK(j["library_version"] == "0.1.0");
    CHECK(j["backend"] == r.cells[i].backend);
  }
  CHECK(Json::parse(lines[0])["shape"] == Json{{"batch_size", 1}, {"sequence_length", 128}});
  CHECK(Json::parse(lines[3])["status"] == "failed");
  CHECK(Json::parse(lines[3])["message"] == "out of memory, \"huge\" | buffer\nsecond line " + replacement);
  CHECK(Json::parse(lines[4])["model"] == "odd,\"model\"|x" + replacement);
  CHECK(Json::parse(lines[5])["phases"].size() == 2);
  CHECK(format_json_lines(RunResult{}).empty());
}

TEST_CASE("markdown: the sections, tables by backend, speedups, escaped text") {
  const RunResult r = fabricated_run();
  const std::string md = format_markdown(r);
  CAPTURE(md);
  for (const char* section : {"# accelbench report\n", "\n## System\n", "\n## Hardware\n", "\n## Results\n",
                              "\n### embedding\n", "\n### text_generation\n", "\n## Compatibility\n",
                              "\n## Warnings\n"}) {
    CHECK_MESSAGE(contains(md, section), section);
  }
  CHECK(contains(md, "Run from 2026-11-30T10:00:00Z to 2026-11-30T10:05:00Z with accelbench 0.1.0."));
  CHECK(contains(md, "- **Host**: bench,host\n"));
  CHECK(contains(md, "- **CPU**: Test CPU \\| 8 cores (x86_64)\n"));
  CHECK(contains(md, "- **Cores**: 8 logical, 4 physical\n"));
  CHECK(contains(md, "- **Memory**: 16 GiB\n"));
  CHECK(contains(md, "- **Build type**: Release, optimized\n"));
  CHECK(contains(md, "- **OpenMP**: yes\n"));
  CHECK(contains(md, "- **Commit**: 0123abcd\n"));
  CHECK(contains(md, "- **Governor**: performance\n"));
  CHECK(contains(md, "- **Virtualization**: KVM\n"));
  CHECK(contains(md, "| cpu | Test CPU | cpu | 8 | 16 GiB | 8 |\n"));
  CHECK(contains(md, "| opencl | pthread-Test CPU | cpu | 8 | 8 GiB | - |\n"));

  // Latency: models as rows, backends as columns, the interval beside the median.
  CHECK(contains(md, "#### Latency: median ms (95% interval)\n\n| model | cpu | opencl |\n| --- | ---: | ---: |\n"
                     "| bert-tiny b=1 s=128 | 2.000 (1.900-2.100) | 1.000 (0.950-1.050) |\n"
                     "| bert-tiny b=8 s=128 | 8.000 (7.600-8.400) | failed |\n"
                     "| odd,\"model\"\\|x" + replacement + " b=1 s=128 | 3.000 (2.850-3.150) busy |  |\n"));
  CHECK(contains(md, "| gpt2-tiny b=1 p=16 n=8 | 4.000 (3.800-4.200) | 2.000 (1.900-2.100) |\n"));
  CHECK(contains(md, "#### Throughput: sequences/s\n"));
  CHECK(contains(md, "| bert-tiny b=1 s=128 | 500.0 | 1000 |\n"));
  CHECK(contains(md, "#### Throughput: tokens/s\n"));
  CHECK(contains(md, "| bert-tiny b=1 s=128 | 64.0 | 64.0 (32.0) |\n"));
  CHECK(contains(md, "Shapes: b = batch_size, s = sequence_length.\n"));

  // Speedup: cpu median / backend median, only where both were timed.
  CHECK(contains(md, "#### Speedup vs cpu\n"));
  CHECK(contains(md, "| model | opencl |\n| --- | ---: |\n| bert-tiny b=1 s=128 | 2.00x |\n\n"));
  CHECK(contains(md, "| model | opencl |\n| --- | ---: |\n| gpt2-tiny b=1 p=16 n=8 | 2.00x |\n\n"));
  const auto speedup = md.find("#### Speedup vs cpu");
  CHECK(!contains(md.substr(speedup, md.find("####", speedup + 1) - speedup), "b=8"));

  // Phases of the text generation cells.
  CHECK(contains(md, "| model | backend | prefill ms | prefill prompt tokens/s | decode ms | decode tokens/s |\n"));
  CHECK(contains(md, "| gpt2-tiny b=1 p=16 n=8 | opencl | 0.500 | 32000 | 0.250 | 4000 |\n"));

  // Compatibility with footnotes for the messages.
  CHECK(contains(md, "| family | model | cpu | opencl |\n"));
  CHECK(contains(md, "| embedding | bert-tiny | ok | ok 1, failed 1[^1] |\n"));
  CHECK(contains(md, "| audio | whisper-tiny | - | unsupported[^2] |\n"));
  CHECK(contains(md, "[^1]: bert-tiny on opencl (b=8 s=128): out of memory, \"huge\" \\| buffer second line " +
                         replacement + "\n"));
  CHECK(contains(md, "[^2]: whisper-tiny on opencl: the backend lacks conv1d\n"));

  // Warnings: run-wide once, the busy count, each cell's own.
  CHECK(contains(md, "## Warnings\n\n- a run-wide warning\n- 1 of 7 cells were measured while other work"));
  CHECK(contains(md, "| embedding | odd,\"model\"\\|x" + replacement +
                         " b=1 s=128 | cpu | busy: other work took 1.5 cores |\n"));

  // Every line of a table has as many column separators as its header.
  std::size_t separators = 0;
  for (const auto& line : lines_of(md)) {
    if (line.empty() || line[0] != '|') {
      separators = 0;
      continue;
    }
    if (separators == 0) separators = unescaped_pipes(line);
    CHECK_MESSAGE(unescaped_pipes(line) == separators, line);
  }
  // Valid UTF-8 throughout.
  CHECK(detail::valid_utf8(md) == md);
}

TEST_CASE("markdown: escaped text cannot start a list, a heading or a link") {
  CHECK(detail::markdown_text("a|b") == "a\\|b");
  CHECK(detail::markdown_text("# not a heading") == "\\# not a heading");
  CHECK(detail::markdown_text("- not a list") == "\\- not a list");
  CHECK(detail::markdown_text("---") == "\\---");
  CHECK(detail::markdown_text("-O3 -march=native") == "-O3 -march=native");
  CHECK(detail::markdown_text("12. not a list") == "12\\. not a list");
  CHECK(detail::markdown_text("[x](y) <b> *e* `c` \\") == "\\[x\\](y) \\<b> \\*e\\* \\`c\\` \\\\");
  CHECK(detail::markdown_text("two\r\nlines") == "two  lines");
  CHECK(detail::markdown_text("bad \xC3") == "bad " + replacement);
  CHECK(detail::markdown_text("batch_size _x_ y_") == "batch_size \\_x\\_ y\\_");
  CHECK(detail::markdown_text("version 0.1.0") == "version 0.1.0");
}

TEST_CASE("google benchmark: context, one entry per sample of each ok cell and the aggregates") {
  const RunResult r = fabricated_run();
  const Json j = Json::parse(detail::dump_json(to_google_benchmark_json(r)));
  const Json& ctx = j["context"];
  CHECK(ctx["date"] == "2026-11-30T10:00:00+00:00");
  CHECK(ctx["host_name"] == "bench,host");
  CHECK(ctx["executable"] == "accelbench");
  CHECK(ctx["num_cpus"] == 8);
  CHECK(ctx["mhz_per_cpu"] == 3000);
  CHECK(ctx["cpu_scaling_enabled"] == false);
  CHECK(ctx["caches"] == Json::array());
  CHECK(ctx["library_build_type"] == "release");
  const Json& b = j["benchmarks"];
  // Six ok cells, five samples and four aggregates each; the failed cell is left out.
  REQUIRE(b.size() == 6 * (5 + 4));
  const std::string name = "embedding/bert-tiny/cpu/batch_size:1/sequence_length:128";
  CHECK(b[0]["name"] == name);
  CHECK(b[0]["run_name"] == name);
  CHECK(b[0]["run_type"] == "iteration");
  CHECK(b[0]["repetitions"] == 5);
  CHECK(b[0]["repetition_index"] == 0);
  CHECK(b[0]["iterations"] == 1);
  CHECK(b[0]["time_unit"] == "ns");
  CHECK(b[0]["real_time"].get<double>() == doctest::Approx(1.8e6));
  CHECK(b[0]["cpu_time"] == b[0]["real_time"]);
  CHECK(b[0]["items_per_second"].get<double>() == doctest::Approx(500 / 0.9).epsilon(1e-3));
  CHECK(b[4]["repetition_index"] == 4);
  CHECK(b[5]["name"] == name + "_mean");
  CHECK(b[5]["run_type"] == "aggregate");
  CHECK(b[5]["aggregate_name"] == "mean");
  CHECK(b[5]["iterations"] == 5);
  CHECK(b[6]["aggregate_name"] == "median");
  CHECK(b[6]["real_time"].get<double>() == doctest::Approx(2e6));
  CHECK(b[7]["aggregate_name"] == "stddev");
  CHECK(b[8]["aggregate_name"] == "cv");
  CHECK(b[8]["aggregate_unit"] == "percentage");
  CHECK(b[9]["name"] == "embedding/bert-tiny/opencl/batch_size:1/sequence_length:128");
  CHECK(b[9]["family_index"] == 1);
  CHECK(b[18]["name"] == "embedding/bert-tiny/cpu/batch_size:8/sequence_length:128");
  CHECK(b[18]["family_index"] == 0);
  CHECK(b[18]["per_family_instance_index"] == 1);
  CHECK(b[27]["name"] == "embedding/odd,\"model\"|x" + replacement + "/cpu/batch_size:1/sequence_length:128");
  for (const auto& e : b) CHECK(!contains(e["name"].get<std::string>(), "batch_size:8/sequence_length:128/opencl"));

  GoogleBenchmarkOptions once;
  once.repetitions = false;
  once.time_unit = GbenchTimeUnit::us;
  const Json single = to_google_benchmark_json(r, once);
  REQUIRE(single["benchmarks"].size() == 6);
  CHECK(single["benchmarks"][0]["time_unit"] == "us");
  CHECK(single["benchmarks"][0]["iterations"] == 5);
  CHECK(single["benchmarks"][0]["real_time"].get<double>() == doctest::Approx(2e3));
  CHECK(single["benchmarks"][5]["name"] == "text_generation/gpt2-tiny/opencl/batch_size:1/prompt_length:16/new_tokens:8");
}

TEST_CASE("reporters write to a stream or write a file whole") {
  const RunResult r = fabricated_run();
  const auto dir = std::filesystem::temp_directory_path() / "accelbench-test-reporters";
  std::filesystem::remove_all(dir);
  const auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  std::ostringstream csv, jsonl, md, gbench;
  CsvReporter{csv}.report(r);
  JsonLinesReporter{jsonl}.report(r);
  MarkdownReporter{md}.report(r);
  GoogleBenchmarkReporter{gbench}.report(r);
  CHECK(csv.str() == format_csv(r));
  CHECK(jsonl.str() == format_json_lines(r));
  CHECK(md.str() == format_markdown(r));
  CHECK(Json::parse(gbench.str()) == Json::parse(detail::dump_json(to_google_benchmark_json(r))));

  CsvReporter{dir / "a" / "results.csv"}.report(r);
  JsonLinesReporter{dir / "results.jsonl"}.report(r);
  MarkdownReporter{dir / "report.md"}.report(r);
  GoogleBenchmarkReporter{dir / "gbench.json"}.report(r);
  CHECK(read(dir / "a" / "results.csv") == csv.str());
  CHECK(read(dir / "results.jsonl") == jsonl.str());
  CHECK(read(dir / "report.md") == md.str());
  CHECK(read(dir / "gbench.json") == gbench.str());
  std::filesystem::remove_all(dir);
}
