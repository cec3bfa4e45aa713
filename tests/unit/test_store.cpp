// The results store (report/store.hpp) and SqlReporter's text
// (report/sql_reporter.hpp). On SQLite files by default; with
// ACCELBENCH_TEST_STORE_URL set (tests/CMakeLists.txt sets it to a
// PostgreSQL server it starts), the same tests run on that store instead,
// each on runs of hosts of its own. The migration and SqlReporter tests are
// about SQLite files and use them in either case.

#include <accelbench/machine/environment.hpp>
#include <accelbench/report/json.hpp>
#include <accelbench/report/sql_reporter.hpp>
#include <accelbench/report/store.hpp>

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace accelbench;

namespace {

/// A host name no other test (nor an earlier run of this one) uses.
std::string unique_host(const std::string& name) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(detail::random_run_bits()));
  return "test-" + name + "-" + hex;
}

/// A store of its own for one test: a new SQLite file, or the shared store
/// of ACCELBENCH_TEST_STORE_URL.
struct TestStore {
  std::string url;
  std::filesystem::path file;

  explicit TestStore(const std::string& name, bool sqlite_only = false) {
    const char* shared = std::getenv("ACCELBENCH_TEST_STORE_URL");
    if (shared && *shared && !sqlite_only) {
      url = shared;
      return;
    }
    // A name of its own: the same test may run at the same time in the
    // SQLite and the PostgreSQL runs of this program.
    file = std::filesystem::temp_directory_path() / ("accelbench-store-" + unique_host(name) + ".db");
    remove();
    url = file.string();
  }
  TestStore(const TestStore&) = delete;
  TestStore& operator=(const TestStore&) = delete;
  ~TestStore() { remove(); }

  void remove() const {
    if (file.empty()) return;
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(file.string() + suffix, ec);
  }
};

RunResult frame_of(const std::string& host, const std::string& started_at = "2026-11-30T10:00:00Z") {
  RunResult r = describe_run();
  r.started_at = started_at;
  r.system.hostname = host;
  r.build.git_commit = "0123456789abcdef";
  r.settings.min_iterations = 7;
  r.warnings = {"a run-wide warning"};
  return r;
}

CellResult cell(std::string model, std::string backend, std::string family, std::int64_t batch, double median) {
  CellResult c;
  c.model = std::move(model);
  c.backend = std::move(backend);
  c.family = std::move(family);
  c.shape = {{"batch_size", batch}, {"sequence_length", 128}};
  c.stats = "PercentileStats";
  c.timer = "steady_clock";
  c.iterations = 3;
  c.latency.count = 3;
  c.latency.min = median * 0.95;
  c.latency.max = median * 1.05;
  c.latency.mean = median;
  c.latency.median = median;
  c.latency.median_ci = Interval{median * 0.9, median * 1.1};
  c.samples_s = {median * 0.95, median, median * 1.05};
  c.phases.push_back(PhaseResult{"prefill", "prompt tokens", 128, 1, c.latency, 1000});
  c.throughput.item_unit = "sequences";
  c.throughput.items_per_second = static_cast<double>(batch) / median;
  c.load = MachineLoad{0.5, 0.7, 2, 1, 1.5, 1.0, 0.1, 0.0};
  c.verification.status = "ok";
  c.verification.reference = "cpu";
  c.verification.token_agreement = 1.0;
  c.warnings = {"a cell's warning, with 'quotes'"};
  return c;
}

ModelInfo model(std::string name, std::string backend) {
  ModelInfo m;
  m.name = std::move(name);
  m.family = "embedding";
  m.architecture = "bert";
  m.backend = std::move(backend);
  m.weights = "synthetic (seed 42)";
  m.parameters = 4'400'000;
  m.load_time_s = 0.25;
  return m;
}

DeviceInfo device(std::string backend) {
  DeviceInfo d;
  d.backend = std::move(backend);
  d.name = "a device";
  d.kind = "cpu";
  d.compute_units = 8;
  d.features = {"avx2"};
  d.properties = {{"driver", "1.0"}};
  return d;
}

TimerInfo timer(std::string name) {
  TimerInfo t;
  t.name = std::move(name);
  t.resolution_s = 1e-9;
  return t;
}

/// A whole run: three cells on two backends, models, devices, a loading
/// benchmark, a comparison and warnings.
RunResult whole_run(const std::string& host, const std::string& started_at = "2026-11-30T10:00:00Z") {
  RunResult r = frame_of(host, started_at);
  r.finished_at = "2026-11-30T10:05:00Z";
  r.timers = {timer("steady_clock")};
  r.devices = {device("cpu"), device("opencl")};
  r.models = {model("bert-tiny", "cpu"), model("bert-tiny", "opencl")};
  r.cells = {cell("bert-tiny", "cpu", "embedding", 1, 2e-4), cell("bert-tiny", "opencl", "embedding", 1, 5e-4),
             cell("gpt2-tiny", "cpu", "text_generation", 2, 1e-3)};
  LoadingResult l;
  l.family = "embedding";
  l.backend = "cpu";
  l.models = {"bert-tiny", "all-MiniLM-L6-v2"};
  l.sequential_s = {0.5, 0.6};
  l.speedup = 1.5;
  r.loading = {l};
  ComparisonResult cmp;
  cmp.family = "embedding";
  cmp.model_a = cmp.model_b = "bert-tiny";
  ComparisonCell cc;
  cc.shape = {{"batch_size", 1}};
  cc.ratio = 1.5;
  cc.ratio_ci = Interval{1.4, 1.6};
  cmp.cells = {cc};
  r.comparisons = {cmp};
  return r;
}

/// Runs SQL on a SQLite file directly; the first column of the last row, as an integer.
std::int64_t sqlite_exec(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.string().c_str(), &db) == SQLITE_OK);
  std::int64_t last = -1;
  char* error = nullptr;
  const int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int columns, char** values, char**) {
        if (columns > 0 && values[0]) *static_cast<std::int64_t*>(out) = std::atoll(values[0]);
        return 0;
      },
      &last, &error);
  const std::string why = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(why);
  REQUIRE(rc == SQLITE_OK);
  return last;
}

std::vector<StoredRun> runs_of(ResultStore& store, const std::string& host) {
  ResultFilter f;
  f.hostname = host;
  return store.runs(f);
}

}  // namespace

TEST_CASE("store: a run written cell by cell as it is measured reads back as it was written") {
  const TestStore where("cell-by-cell");
  ResultStore store = ResultStore::open(where.url);
  const std::string host = unique_host("cell-by-cell");
  const RunResult whole = whole_run(host);

  // The parts, as a run's observer gives them.
  RunResult frame = frame_of(host);
  const std::int64_t id = store.begin_run(frame, RunGroup{"nightly", 2, 4});
  RunResult cpu_part;
  cpu_part.devices = {whole.devices[0]};
  cpu_part.models = {whole.models[0]};
  cpu_part.timers = whole.timers;
  cpu_part.warnings = {"a run-wide warning"};  // again: stored once
  store.add_part(id, cpu_part);
  CHECK(store.add_cell(id, whole.cells[0]));
  CHECK(store.add_cell(id, whole.cells[1]));
  RunResult opencl_part;
  opencl_part.devices = {whole.devices[1]};
  opencl_part.models = {whole.models[1]};
  store.add_part(id, opencl_part);
  CHECK(store.add_cell(id, whole.cells[2]));
  RunResult loading_part;
  loading_part.loading = whole.loading;
  loading_part.comparisons = whole.comparisons;
  store.add_part(id, loading_part);

  const StoredRun running = store.stored_run(id);
  CHECK(running.status == "running");
  CHECK(running.result.cells.size() == 3);
  CHECK(running.result.finished_at.empty());

  store.finish_run(id, whole);
  const StoredRun done = store.stored_run(id);
  CHECK(done.status == "complete");
  CHECK(done.group.name == "nightly");
  CHECK(done.group.shard_index == 2);
  CHECK(done.group.shard_count == 4);
  CHECK(done.hardware_fingerprint == hardware_fingerprint(whole.system, whole.devices));
  CHECK(done.hardware_fingerprint.size() == 16);
  RunResult in_group = whole;  // the stored run carries the group it was begun in
  in_group.group = RunGroup{"nightly", 2, 4};
  CHECK(to_json(done.result) == to_json(in_group));
  CHECK(to_json(store.run(id)) == to_json(in_group));

  const auto listed = runs_of(store, host);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == id);
}

TEST_CASE("store: add_cell stores a cell key once, add_part replaces a model in place") {
  const TestStore where("idempotent");
  ResultStore store = ResultStore::open(where.url);
  const std::string host = unique_host("idempotent");
  const std::int64_t id = store.begin_run(frame_of(host));
  const CellResult first = cell("bert-tiny", "cpu", "embedding", 1, 2e-4);
  CHECK(store.add_cell(id, first));
  CellResult again = first;
  again.latency.median = 9.0;
  CHECK_FALSE(store.add_cell(id, again));
  CHECK_FALSE(store.add_cell(id, first));
  const RunResult back = store.run(id);
  REQUIRE(back.cells.size() == 1);
  CHECK(back.cells[0].latency.median == first.latency.median);
  CHECK(store.cell_keys(id) == std::vector<std::string>{cell_key(first)});

  RunResult part;
  part.models = {model("bert-tiny", "cpu"), model("all-MiniLM-L6-v2", "cpu")};
  store.add_part(id, part);
  part.models[0].load_time_s = 0.5;  // loaded again by a resumed run: replaces the first, in its place
  part.models.pop_back();
  store.add_part(id, part);
  const RunResult models = store.run(id);
  REQUIRE(models.models.size() == 2);
  CHECK(models.models[0].name == "bert-tiny");
  CHECK(models.models[0].load_time_s == 0.5);

  CHECK_THROWS_WITH_AS(store.add_cell(id + 1000000, first), doctest::Contains("there is no run"), StoreError);
}

TEST_CASE("store: a whole run is imported once, losslessly") {
  const TestStore where("import");
  ResultStore store = ResultStore::open(where.url);
  const RunResult r = whole_run(unique_host("import"));
  CHECK_FALSE(store.imported_as(r));
  const std::int64_t id = store.import_run(r);
  CHECK(store.imported_as(r) == id);
  CHECK(store.import_run(r) == id);
  CHECK(runs_of(store, r.system.hostname).size() == 1);
  const StoredRun back = store.stored_run(id);
  CHECK(back.status == "complete");
  CHECK(to_json(back.result) == to_json(r));

  RunResult other = r;
  other.cells[0].latency.median = 3e-4;  // other results of the same start on the same host
  CHECK(store.import_run(other) != id);

  RunResult twice = whole_run(unique_host("import-twice"));
  twice.cells.push_back(twice.cells[0]);
  CHECK_THROWS_WITH_AS(store.import_run(twice), doctest::Contains("appears twice"), StoreError);
  CHECK(runs_of(store, twice.system.hostname).empty());  // nothing of it written
}

TEST_CASE("store: runs are selected by model, backend, family, date, commit and host") {
  const TestStore where("filter");
  ResultStore store = ResultStore::open(where.url);
  const std::string host = unique_host("filter");
  RunResult a = whole_run(host, "2026-11-30T10:00:00Z");
  RunResult b = whole_run(host, "2026-12-02T08:00:00Z");
  b.build.git_commit = "fedcba9876543210";
  b.cells = {cell("vit-tiny", "cpu", "vision", 1, 1e-3)};
  RunResult c = whole_run(unique_host("filter-other"), "2026-11-30T11:00:00Z");
  const std::int64_t ia = store.import_run(a);
  const std::int64_t ib = store.import_run(b);
  const std::int64_t ic = store.import_run(c);

  const auto ids = [&](ResultFilter f) {
    std::vector<std::int64_t> out;
    for (const auto& r : store.runs(f)) {
      if (r.id == ia || r.id == ib || r.id == ic) out.push_back(r.id);
    }
    return out;
  };
  ResultFilter f;
  f.hostname = host;
  CHECK(ids(f) == std::vector<std::int64_t>{ia, ib});
  f.families = {"vision"};
  CHECK(ids(f) == std::vector<std::int64_t>{ib});
  f.families = {"embedding"};
  f.backends = {"opencl"};
  const auto selected = store.runs(f);
  REQUIRE(selected.size() == 1);
  CHECK(selected[0].id == ia);
  REQUIRE(selected[0].result.cells.size() == 1);  // the run's selected cells only
  CHECK(selected[0].result.cells[0].backend == "opencl");

  ResultFilter dates;
  dates.hostname = host;
  dates.since = "2026-12-01";
  CHECK(ids(dates) == std::vector<std::int64_t>{ib});
  dates.since = "2026-11-30";
  dates.until = "2026-11-30";  // a date: the whole day
  CHECK(ids(dates) == std::vector<std::int64_t>{ia});
  dates.until = "2026-11-30T09:59:59Z";
  CHECK(ids(dates).empty());

  ResultFilter commit;
  commit.models = {"bert-tiny", "vit-tiny"};
  commit.git_commit = "fedc";
  CHECK(ids(commit) == std::vector<std::int64_t>{ib});
  commit.git_commit = "0123";
  CHECK(ids(commit) == std::vector<std::int64_t>{ia, ic});
  commit.git_commit = "01%";  // a pattern character is only itself
  CHECK(ids(commit).empty());
}

TEST_CASE("store: an interrupted run keeps its complete cells and nothing of the one that failed") {
  const TestStore where("interrupted");
  ResultStore store = ResultStore::open(where.url);
  const std::string host = unique_host("interrupted");
  const std::int64_t id = store.begin_run(frame_of(host), {}, "journal-of-" + host);
  store.add_cell(id, cell("bert-tiny", "cpu", "embedding", 1, 2e-4));
  store.add_cell(id, cell("bert-tiny", "cpu", "embedding", 2, 3e-4));
  // A sample that violates its NOT NULL constraint (a NaN is written as
  // NULL): the cell's row, written before its samples, goes with them.
  CellResult broken = cell("bert-tiny", "cpu", "embedding", 4, 5e-4);
  broken.samples_s.push_back(std::numeric_limits<double>::quiet_NaN());
  CHECK_THROWS_WITH_AS(store.add_cell(id, broken), doctest::Contains("seconds"), StoreError);
  const StoredRun running = store.stored_run(id);
  CHECK(running.status == "running");
  CHECK(running.result.cells.size() == 2);
  CHECK(store.cell_keys(id).size() == 2);
  if (!where.file.empty()) {
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM cells") == 2);
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM samples") == 6);
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM phases") == 2);
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM verification") == 2);
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM warnings WHERE cell_id IS NOT NULL") == 2);
  }

  store.mark_interrupted(id);
  const StoredRun interrupted = store.stored_run(id);
  CHECK(interrupted.status == "interrupted");
  CHECK_FALSE(interrupted.result.finished_at.empty());

  // Resumed under the same key: the same run, its cells kept.
  const std::int64_t resumed = store.begin_run(frame_of(host), {}, "journal-of-" + host);
  CHECK(resumed == id);
  CHECK(store.stored_run(id).status == "running");
  broken.samples_s.pop_back();
  CHECK(store.add_cell(id, broken));  // nothing of the failed attempt was left
  RunResult final_run = frame_of(host);
  final_run.finished_at = "2026-11-30T10:09:00Z";
  store.finish_run(id, final_run);
  const StoredRun done = store.stored_run(id);
  CHECK(done.status == "complete");
  CHECK(done.result.cells.size() == 3);
  CHECK_THROWS_WITH_AS(store.finish_run(id, final_run, "done"), doctest::Contains("complete or interrupted"),
                       StoreError);
}

TEST_CASE("store: concurrent writers with connections of their own lose and duplicate no cell") {
  const TestStore where("concurrent");
  const std::string host = unique_host("concurrent");
  std::int64_t shared_run = 0;
  {
    ResultStore store = ResultStore::open(where.url);
    shared_run = store.begin_run(frame_of(host));
  }
  constexpr int cells_each = 40;
  std::atomic<int> failures{0};
  const auto writer = [&](int first) {
    try {
      ResultStore store = ResultStore::open(where.url);  // a connection of its own
      const std::int64_t own = store.begin_run(frame_of(host));
      for (int i = first; i < first + cells_each; ++i) {
        store.add_cell(shared_run, cell("bert-tiny", "cpu", "embedding", i, 1e-4 * (i + 1)));
        store.add_cell(own, cell("bert-tiny", "cpu", "embedding", i, 1e-4 * (i + 1)));
      }
      store.finish_run(own, frame_of(host));
    } catch (const std::exception& e) {
      MESSAGE(e.what());
      ++failures;
    }
  };
  std::thread a(writer, 0);
  std::thread b(writer, cells_each / 2);  // half of its cells are the other's too
  a.join();
  b.join();
  CHECK(failures == 0);
  ResultStore store = ResultStore::open(where.url);
  const RunResult shared = store.run(shared_run);
  CHECK(shared.cells.size() == cells_each + cells_each / 2);
  std::vector<std::string> keys = store.cell_keys(shared_run);
  std::sort(keys.begin(), keys.end());
  CHECK(std::adjacent_find(keys.begin(), keys.end()) == keys.end());
  const auto all = runs_of(store, host);
  REQUIRE(all.size() == 3);
  for (const auto& r : all) {
    if (r.id != shared_run) CHECK(r.result.cells.size() == cells_each);
  }
}

TEST_CASE("store: an older store is migrated when opened, a newer one refused by name") {
  const TestStore old_store("migrate-old", true);
  const RunResult r = whole_run(unique_host("migrate"));
  {
    // A store of schema version 1, with a run, as that version wrote it.
    std::string sql = std::string(detail::schema_version_table) + ";\n";
    const auto& first = detail::store_migrations().front();
    for (const char* s : first.statements) sql += detail::dialect_sql(s, detail::SqlDialect::sqlite) + ";\n";
    sql += "INSERT INTO schema_version VALUES (1, 'the first', '2026-01-01T00:00:00Z');\n";
    sql += detail::with_literals(detail::store_sql::insert_run, detail::run_values(r, "old", "complete", {})) + ";\n";
    sqlite_exec(old_store.file, sql);
  }
  CHECK(sqlite_exec(old_store.file, "SELECT count(*) FROM sqlite_master WHERE name = 'cells_model'") == 0);
  {
    ResultStore store = ResultStore::open("sqlite:" + old_store.url);
    CHECK(store.engine() == "sqlite");
    const auto runs = store.runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].result.system.hostname == r.system.hostname);
    CHECK(runs[0].result.started_at == r.started_at);
  }
  CHECK(sqlite_exec(old_store.file, "SELECT max(version) FROM schema_version") == store_schema_version);
  CHECK(sqlite_exec(old_store.file, "SELECT count(*) FROM schema_version") == store_schema_version);
  CHECK(sqlite_exec(old_store.file, "SELECT count(*) FROM sqlite_master WHERE name = 'cells_model'") == 1);
  { ResultStore again = ResultStore::open(old_store.url); }  // nothing left to apply
  CHECK(sqlite_exec(old_store.file, "SELECT count(*) FROM schema_version") == store_schema_version);

  const TestStore newer("migrate-newer", true);
  sqlite_exec(newer.file, std::string(detail::schema_version_table) +
                              "; INSERT INTO schema_version VALUES (99, 'from the future', '2030-01-01T00:00:00Z')");
  const std::string refusal = "results store '" + newer.url + "' has schema version 99, newer than this library's";
  CHECK_THROWS_WITH_AS(ResultStore::open(newer.url), doctest::Contains(refusal.c_str()), StoreError);
}

TEST_CASE("store: errors name the store, its password masked") {
  CHECK(detail::masked_store_url("postgresql://bench:secret@db.example:5432/results?sslmode=require") ==
        "postgresql://bench:***@db.example:5432/results?sslmode=require");
  CHECK(detail::masked_store_url("postgres://db/results?user=a&password=hunter2&x=1") ==
        "postgres://db/results?user=a&password=***&x=1");
  CHECK(detail::masked_store_url("postgresql://bench@db/results") == "postgresql://bench@db/results");
  CHECK(detail::parse_store_url("sqlite::memory:").target == ":memory:");
  CHECK(detail::parse_store_url("sqlite:///tmp/a.db").target == "/tmp/a.db");
  CHECK(detail::parse_store_url("results/a.db").dialect == detail::SqlDialect::sqlite);
  CHECK(detail::parse_store_url("postgres://h/d").dialect == detail::SqlDialect::postgresql);

  CHECK_THROWS_WITH_AS(ResultStore::open("mysql://u:secret@h/db"),
                       doctest::Contains("results store 'mysql://u:***@h/db': unknown scheme 'mysql'"), StoreError);
  CHECK_THROWS_WITH_AS(ResultStore::open(""), doctest::Contains("the URL is empty"), StoreError);
  CHECK_THROWS_WITH_AS(ResultStore::open("/no/such/folder/results.db"),
                       doctest::Contains("results store '/no/such/folder/results.db': cannot open"), StoreError);
  const std::string pg = "postgresql://bench:secret@/results?host=/no/such/socket/folder";
  try {
    (void)ResultStore::open(pg);
    FAIL("opened " << pg);
  } catch (const StoreError& e) {
    const std::string what = e.what();
    CHECK(what.find("postgresql://bench:***@/results") != std::string::npos);
    CHECK(what.find("secret") == std::string::npos);
#ifdef ACCELBENCH_WITH_POSTGRESQL
    CHECK(what.find("cannot connect to PostgreSQL") != std::string::npos);
#else
    CHECK(what.find("no PostgreSQL support") != std::string::npos);
#endif
  }

  ResultStore memory = ResultStore::open("sqlite::memory:");
  CHECK_THROWS_WITH_AS(memory.run(42), doctest::Contains("results store 'sqlite::memory:': there is no run 42"),
                       StoreError);
}

TEST_CASE("SqlReporter: its text loads into a SQLite store, which reads the run back") {
  const TestStore where("sql-reporter", true);
  RunResult r = whole_run(unique_host("sql"));
  r.cells[0].message = "it's a message\nover two lines";
  r.cells[0].samples_s.clear();
  for (int i = 0; i < 1200; ++i) r.cells[0].samples_s.push_back(1e-4 + 1e-9 * i);  // three statements
  r.cells[0].latency.count = r.cells[0].samples_s.size();
  const std::filesystem::path script = where.file.string() + ".sql";
  SqlReporter(script).report(r);
  std::ostringstream text;
  SqlReporter(text).report(r);
  CHECK(text.str().find("CREATE TABLE IF NOT EXISTS cells") != std::string::npos);

  // By the C API, as `sqlite3 FILE.db < FILE.sql` does.
  sqlite_exec(where.file, text.str());
  {
    ResultStore store = ResultStore::open(where.url);
    const auto runs = runs_of(store, r.system.hostname);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].status == "complete");
    CHECK(to_json(runs[0].result) == to_json(r));
    CHECK(store.imported_as(r) == runs[0].id);  // `accelbench import` of its JSON would skip it
  }
  CHECK(sqlite_exec(where.file, "SELECT count(*) FROM samples") == 1200 + 6);

  // Loaded again by sqlite3's shell, which goes on after an error: the run's
  // uid is taken, and every row that refers to it fails too.
  if (std::system("command -v sqlite3 >/dev/null 2>&1") == 0) {
    const std::string load = "sqlite3 '" + where.file.string() + "' < '" + script.string() + "' 2>/dev/null";
    CHECK(std::system(load.c_str()) != 0);
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM runs") == 1);
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM cells") == 3);
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM samples") == 1200 + 6);
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM devices") == 2);
    CHECK(sqlite_exec(where.file, "SELECT count(*) FROM warnings") == 4);

    // Into a new file by the shell itself.
    const TestStore fresh("sql-reporter-shell", true);
    const std::string shell = "sqlite3 '" + fresh.file.string() + "' < '" + script.string() + "'";
    REQUIRE(std::system(shell.c_str()) == 0);
    ResultStore store = ResultStore::open(fresh.url);
    const auto runs = store.runs();
    REQUIRE(runs.size() == 1);
    CHECK(to_json(runs[0].result) == to_json(r));
  } else {
    MESSAGE("sqlite3's shell is not installed: the text was loaded by the C API only");
  }
  std::filesystem::remove(script);
}
