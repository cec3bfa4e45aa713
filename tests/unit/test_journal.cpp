// The cell journal (report/journal.hpp), names that become file names, new
// files that never replace another, valid UTF-8 in results, and cells whose
// workload throws something that is not a std::exception.

#include <accelbench/core/file_name.hpp>
#include <accelbench/report/journal.hpp>
#include <accelbench/report/json_reporter.hpp>
#include <accelbench/run/benchmark.hpp>
#include <accelbench/suite/suite_json.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "spin_family.hpp"

using namespace accelbench;
using accelbench::test::Spin;
using accelbench::test::spin;

namespace {

/// A fresh folder of its own under the system's temporary folder.
std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("accelbench-journal-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

CellResult cell(const std::string& model, int batch, CellStatus status = CellStatus::ok) {
  CellResult c;
  c.model = model;
  c.family = "embedding";
  c.backend = "cpu";
  c.shape = {{"batch_size", batch}, {"sequence_length", 8}};
  c.status = status;
  return c;
}

}  // namespace

TEST_CASE("journal: cells appended one line each, read back, resumed after the last complete line") {
  const auto dir = scratch("roundtrip");
  const auto path = dir / "a.journal.jsonl";
  {
    Journal j;
    j.start(path, Json{{"command", "run"}, {"suite", Json{{"name", "x"}}}});
    j.append_cell(cell("bert-tiny", 1));
    j.append_cell(cell("bert-tiny", 2, CellStatus::failed));
  }
  const std::string text = read_text(path);
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);  // header and two cells, each flushed whole
  const JournalContents c = read_journal(path);
  CHECK(c.header["schema"] == "accelbench.journal");
  CHECK(c.header["command"] == "run");
  REQUIRE(c.entries.size() == 2);
  CHECK(c.entries[0]["key"] == "embedding/bert-tiny/cpu/batch_size=1,sequence_length=8");
  CHECK(c.entries[1]["cell"]["status"] == "failed");
  CHECK_FALSE(c.truncated);

  // Killed while writing the third cell: its line is cut short.
  write_text(path, text + R"({"kind": "cell", "key": "embedding/bert-tiny/cpu/batch_s)");
  const JournalContents cut = read_journal(path);
  CHECK(cut.truncated);
  CHECK(cut.entries.size() == 2);
  CHECK(cut.note.find("line 4") != std::string::npos);
  CHECK(cut.note.find("incomplete") != std::string::npos);
  CHECK(cut.complete_bytes == text.size());

  // A resumed journal continues after the last complete line.
  {
    Journal j;
    const JournalContents before = j.resume(path);
    CHECK(before.truncated);
    CHECK(j.keys("cell") == std::set<std::string>{cell_key(cell("bert-tiny", 1)), cell_key(cell("bert-tiny", 2))});
    j.append_cell(cell("bert-tiny", 4));
    // A second writer of the same journal is refused while the first has it.
    Journal second;
    CHECK_THROWS_WITH_AS((void)second.resume(path), doctest::Contains("is in use by another run"), std::runtime_error);
  }
  const JournalContents resumed = read_journal(path);
  CHECK_FALSE(resumed.truncated);
  REQUIRE(resumed.entries.size() == 3);
  CHECK(resumed.entries[2]["key"] == "embedding/bert-tiny/cpu/batch_size=4,sequence_length=8");
  std::filesystem::remove_all(dir);
}

TEST_CASE("journal: a bad line before the last, or a file that is no journal, is an error naming it") {
  const auto dir = scratch("bad");
  write_text(dir / "mid.jsonl",
             "{\"schema\": \"accelbench.journal\", \"schema_version\": 1}\nnot json\n{\"kind\": \"cell\"}\n");
  CHECK_THROWS_WITH_AS((void)read_journal(dir / "mid.jsonl"), doctest::Contains("bad line 2"), std::runtime_error);
  write_text(dir / "other.jsonl", "{\"schema\": \"accelbench.result\"}\n");
  CHECK_THROWS_WITH_AS((void)read_journal(dir / "other.jsonl"), doctest::Contains("is not an accelbench journal"),
                       std::runtime_error);
  write_text(dir / "future.jsonl", "{\"schema\": \"accelbench.journal\", \"schema_version\": 99}\n");
  CHECK_THROWS_WITH_AS((void)read_journal(dir / "future.jsonl"), doctest::Contains("schema_version 99"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS((void)read_journal(dir / "missing.jsonl"), doctest::Contains("cannot open the journal"),
                       std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("journal: the results built from it hold every cell once, the last of each model") {
  std::vector<Json> entries;
  const auto add = [&](const CellResult& c) {
    entries.push_back(Json{{"kind", "cell"}, {"key", cell_key(c)}, {"cell", detail::to_json(c)}});
  };
  add(cell("bert-tiny", 1, CellStatus::failed));
  add(cell("bert-tiny", 2));
  add(cell("bert-tiny", 1));  // measured again: replaces the first
  RunResult part;
  ModelInfo m;
  m.name = "bert-tiny";
  m.family = "embedding";
  m.backend = "cpu";
  m.status = "failed";
  part.models.push_back(m);
  entries.push_back(Json{{"kind", "part"}, {"result", to_json(part)}});
  part.models[0].status = "ok";
  entries.push_back(Json{{"kind", "part"}, {"result", to_json(part)}});
  const Json r = results_from_journal(RunResult{}, entries);
  CHECK(r["schema"] == "accelbench.result");
  REQUIRE(r["cells"].size() == 2);
  CHECK(r["cells"][0]["shape"]["batch_size"] == 1);
  CHECK(r["cells"][0]["status"] == "ok");
  REQUIRE(r["models"].size() == 1);
  CHECK(r["models"][0]["status"] == "ok");
}

TEST_CASE("file names: a name that would leave its folder is refused, naming the field and value") {
  CHECK_NOTHROW(check_file_name("name", "my-suite_1.2"));
  CHECK_THROWS_WITH_AS(check_file_name("name", "../escaped"), doctest::Contains("name = \"../escaped\": must not contain \"..\""),
                       ConfigError);
  CHECK_THROWS_WITH_AS(check_file_name("name", "a/b"), doctest::Contains("must not contain '/'"), ConfigError);
  CHECK_THROWS_WITH_AS(check_file_name("name", "a\\b"), doctest::Contains("must not contain '/'"), ConfigError);
  CHECK_THROWS_WITH_AS(check_file_name("name", ".."), doctest::Contains("\"..\""), ConfigError);
  CHECK_THROWS_WITH_AS(check_file_name("name", ""), doctest::Contains("must not be empty"), ConfigError);
  CHECK_THROWS_WITH_AS(check_file_name("name", "tab\there"), doctest::Contains("control characters"), ConfigError);
  CHECK_THROWS_WITH_AS(check_file_name("name", "bad-\xff"), doctest::Contains("valid UTF-8"), ConfigError);
  Suite s = default_suite();
  s.name = "../escaped";
  CHECK_THROWS_WITH_AS(validate_suite(s), doctest::Contains("name = \"../escaped\""), ConfigError);
}

TEST_CASE("file names: a new file is never one that exists; each claim gets a name of its own") {
  const auto dir = scratch("unique");
  CHECK(detail::create_new_file(dir / "x"));
  CHECK_FALSE(detail::create_new_file(dir / "x"));
  std::set<std::string> names;
  for (int i = 0; i < 3; ++i) names.insert(detail::claim_unique_name(dir, "run-20261202T000000Z", ".journal.jsonl").string());
  CHECK(names.size() == 3);
  CHECK(names.count((dir / "run-20261202T000000Z-3").string()) == 1);
  // A results file of that name (from a run without a journal) is not taken either.
  write_text(dir / "other.json", "{}");
  CHECK(detail::claim_unique_name(dir, "other", ".journal.jsonl", {".json"}) == dir / "other-2");
  // A folder that cannot be made is found before anything runs.
  write_text(dir / "file", "");
  CHECK_THROWS_WITH_AS(detail::prepare_output_folder(dir / "file" / "sub"),
                       doctest::Contains("cannot create the output folder"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("UTF-8: invalid bytes in results become U+FFFD instead of an exception") {
  CHECK(detail::valid_utf8("ok \xc3\xa9") == "ok \xc3\xa9");
  CHECK(detail::valid_utf8("ckpt-\xff\xfe") == "ckpt-\xef\xbf\xbd\xef\xbf\xbd");
  CellResult c = cell("/models/\xff-bert", 1);
  c.message = "cannot open '/models/\xff-bert/config.json'";
  CHECK_THROWS(detail::to_json(c).dump());  // nlohmann's default: an exception
  const std::string text = detail::dump_json(detail::to_json(c));
  CHECK(text.find("/models/\xef\xbf\xbd-bert") != std::string::npos);
  CHECK(cell_key(c) == "embedding//models/\xef\xbf\xbd-bert/cpu/batch_size=1,sequence_length=8");

  const auto dir = scratch("utf8");
  RunResult r;
  r.cells.push_back(c);
  JsonReporter{dir / "r.json"}.report(r);
  CHECK(Json::parse(read_text(dir / "r.json"))["cells"][0]["model"] == "/models/\xef\xbf\xbd-bert");
  Journal j;
  j.start(dir / "j.jsonl", Json{{"command", "run"}});
  j.append_cell(c);
  CHECK(read_journal(dir / "j.jsonl").entries.at(0)["key"] == cell_key(c));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a workload or a load that throws an int is recorded per cell, and the run goes on") {
  const auto one = [] { return Cpu{Cpu::Options{.threads = 1}}; };
  const RunResult r = Benchmark<Cpu, Spin>{spin("throw-int-run", {1, 2, 3}), one()}.run();
  REQUIRE(r.cells.size() == 3);
  CHECK(r.cells[0].status == CellStatus::ok);
  CHECK(r.cells[1].status == CellStatus::failed);
  CHECK(r.cells[1].message == "unknown exception");
  CHECK(r.cells[2].status == CellStatus::ok);

  const RunResult l = Benchmark<Cpu, Spin>{spin("throw-int-load", {1, 2}), one()}.run();
  REQUIRE(l.models.size() == 1);
  CHECK(l.models[0].status == "failed");
  CHECK(l.models[0].message == "model load failed: unknown exception");
  REQUIRE(l.cells.size() == 2);
  CHECK(l.cells[1].status == CellStatus::failed);
}

TEST_CASE("skip_cells: cells measured before are neither run nor recorded; all skipped, nothing is loaded") {
  const auto one = [] { return Cpu{Cpu::Options{.threads = 1}}; };
  Benchmark<Cpu, Spin> some{spin("spin-none", {1, 2, 3}), one()};
  some.skip_cells([](const CellResult& c) { return c.shape.at(0).value == 2; });
  std::vector<std::string> seen;
  some.on_cell([&](const CellResult& c) { seen.push_back(cell_key(c)); });
  const RunResult r = some.run();
  REQUIRE(r.cells.size() == 2);
  CHECK(r.cells[0].shape.at(0).value == 1);
  CHECK(r.cells[1].shape.at(0).value == 3);
  CHECK(seen == std::vector<std::string>{"spin/spin-none/cpu/n=1", "spin/spin-none/cpu/n=3"});

  const int loads = test::loads_started.load();
  Benchmark<Cpu, Spin> none{spin("load-5ms", {1, 2}), one()};
  none.skip_cells([](const CellResult&) { return true; });
  const RunResult n = none.run();
  CHECK(n.cells.empty());
  CHECK(n.models.empty());
  CHECK(test::loads_started.load() == loads);
}

TEST_CASE("suite_to_json: read back by parse_suite as the same suite; differences named by field") {
  Suite s = default_suite();
  s.name = "nightly";
  s.settings.batch_sizes = {1, 4};
  s.settings.min_time_s = 0.25;
  s.settings.seed = 7;
  s.threads = 2;
  const Json j = suite_to_json(s);
  const Suite back = parse_suite(Json::parse(detail::dump_json(j)));
  CHECK(suite_to_json(back) == j);
  CHECK(back.benchmarks == s.benchmarks);
  Suite other = s;
  other.settings.batch_sizes = {1};
  other.output_dir = "elsewhere";
  const auto d = suite_differences(suite_to_json(other), j, {"output_dir"});
  REQUIRE(d.size() == 1);
  CHECK(d[0] == "batch_sizes: [1] vs [1,4]");
}
