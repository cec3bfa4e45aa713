// Isolated runs (suite/isolate.hpp): how a child process ended becomes a
// cell's status, --max-memory's sizes, results read back from JSON, and
// models whose cells crash, hang or run out of memory in a child while the
// run goes on. The signals and the address space limit are left out under
// the sanitizers, which handle SIGSEGV themselves and reserve more address
// space than any limit.

#include <accelbench/report/json_read.hpp>
#include <accelbench/suite/isolate.hpp>
#include <accelbench/suite/suite.hpp>
#include <accelbench/suite/suite_json.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "spin_family.hpp"

using namespace accelbench;
using accelbench::test::Spin;
using accelbench::test::spin;

namespace {

/// How a child running `body` ends, as the status of its cell.
std::pair<CellStatus, std::string> ending_of(const std::function<void()>& body, std::uint64_t max_memory = 0,
                                             double limit_s = 0) {
  const auto due = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                          std::chrono::duration<double>(limit_s));
  const ChildEnd end = detail::run_in_child([&](const auto&) { body(); }, max_memory, [](const Json&) {},
                                            [&]() -> std::optional<std::chrono::steady_clock::time_point> {
                                              if (limit_s > 0) return due;
                                              return std::nullopt;
                                            });
  return child_end_status(end, limit_s, max_memory);
}

#ifndef ACCELBENCH_SANITIZED
struct Measured {
  RunResult result;
  std::vector<CellResult> seen;  ///< given to on_cell, in order
};

Measured isolated(const Config& config, std::uint64_t max_memory = 0,
                  std::function<bool(const CellResult&)> skip = {}) {
  Measured m;
  m.result = detail::run_isolated_model<Cpu, Spin, PercentileStats, SteadyTimer>(
      config, [] { return Cpu{Cpu::Options{.threads = 1}}; }, max_memory, skip,
      [&](const CellResult& c) { m.seen.push_back(c); });
  return m;
}
#endif

}  // namespace

TEST_CASE("signal names; bytes with K, M, G and T suffixes, bad ones named by field") {
  CHECK(signal_name(SIGSEGV) == "SIGSEGV");
  CHECK(signal_name(SIGABRT) == "SIGABRT");
  CHECK(signal_name(SIGBUS) == "SIGBUS");
  CHECK(signal_name(SIGFPE) == "SIGFPE");
  CHECK(signal_name(SIGILL) == "SIGILL");
  CHECK(signal_name(SIGKILL) == "SIGKILL");
  CHECK(signal_name(77) == "signal 77");

  CHECK(parse_byte_size("--max-memory", "0") == 0);
  CHECK(parse_byte_size("--max-memory", "4096") == 4096);
  CHECK(parse_byte_size("--max-memory", "64K") == 65536);
  CHECK(parse_byte_size("--max-memory", "512m") == 512ull << 20);
  CHECK(parse_byte_size("--max-memory", "1G") == 1ull << 30);
  CHECK(parse_byte_size("--max-memory", "2T") == 2ull << 40);
  for (const char* bad : {"", "G", "1.5G", "-1", "12X", "1GB", " 1G", "99999999999999999999", "20000000T"}) {
    CAPTURE(bad);
    const std::string expected = "--max-memory = \"" + std::string(bad) + "\": ";
    CHECK_THROWS_WITH_AS((void)parse_byte_size("--max-memory", bad), doctest::Contains(expected.c_str()), ConfigError);
  }
}

TEST_CASE("the new statuses have names, read back; a cell read back from JSON is the same cell") {
  CHECK(to_string(CellStatus::crashed) == "crashed");
  CHECK(to_string(CellStatus::out_of_memory) == "out_of_memory");
  CHECK(cell_status_from_string("out_of_memory") == CellStatus::out_of_memory);
  CHECK(cell_status_from_string("timeout") == CellStatus::timeout);
  CHECK_FALSE(cell_status_from_string("exploded").has_value());
  for (const CellStatus st : {CellStatus::ok, CellStatus::mismatch, CellStatus::failed, CellStatus::unavailable,
                              CellStatus::timeout, CellStatus::invalid_output, CellStatus::crashed,
                              CellStatus::out_of_memory}) {
    CHECK(cell_status_from_string(to_string(st)) == st);
  }

  const RunResult r = Benchmark<Cpu, Spin>{spin("spin-100us", {2}), Cpu{Cpu::Options{.threads = 1}}}.run();
  REQUIRE(r.cells.size() == 1);
  const Json j = detail::to_json(r.cells[0]);
  CHECK(detail::to_json(cell_from_json(j)) == j);
  // The machine's load, the busy flag and a count of non-finite outputs come back too.
  CellResult loaded = r.cells[0];
  loaded.load = MachineLoad{.load_average_start = 3.5, .load_average_end = std::nullopt, .logical_cores = 2,
                            .cell_threads = 1, .wall_s = 0.5, .own_cores = 0.9, .other_cores = 1.2,
                            .steal_fraction = 0.01};
  loaded.busy = true;
  loaded.status = CellStatus::invalid_output;
  loaded.verification.non_finite = 7;
  const Json lj = detail::to_json(loaded);
  CHECK(detail::to_json(cell_from_json(lj)) == lj);
  RunResult back;
  read_part_from_json(to_json(r), back);
  CHECK(to_json(back)["models"] == to_json(r)["models"]);
  CHECK(to_json(back)["devices"] == to_json(r)["devices"]);
  CHECK(to_json(back)["timers"] == to_json(r)["timers"]);
  REQUIRE(back.cells.size() == 1);
}

TEST_CASE("a child's end as its cell's status: exit status, exceptions, the time limit") {
  auto [status, message] = ending_of([] { ::_exit(5); });
  CHECK(status == CellStatus::crashed);
  CHECK(message == "the process measuring the cell exited with status 5 before it finished");

  std::tie(status, message) = ending_of([] { throw std::runtime_error("boom"); });
  CHECK(status == CellStatus::crashed);
  CHECK(message == "the process measuring the cell ended on an uncaught exception: boom");

  std::tie(status, message) = ending_of([] { throw std::bad_alloc(); });
  CHECK(status == CellStatus::out_of_memory);
  CHECK(message == "out of memory under no max_memory: std::bad_alloc");

  const auto started = std::chrono::steady_clock::now();
  std::tie(status, message) = ending_of([] { std::this_thread::sleep_for(std::chrono::seconds(60)); }, 0, 0.2);
  CHECK(status == CellStatus::timeout);
  CHECK(message == "cell_timeout_s (0.2 s) passed; the process measuring the cell was killed after 2.25 s");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));

  CellResult c;
  c.status = CellStatus::failed;
  c.message = "std::bad_alloc";
  mark_out_of_memory(c, 1ull << 30);
  CHECK(c.status == CellStatus::out_of_memory);
  CHECK(c.message == "out of memory under max_memory (1073741824 bytes): std::bad_alloc");
}

#ifndef ACCELBENCH_SANITIZED
TEST_CASE("a child killed by a signal: crashed, naming the signal; SIGKILL under max_memory: out_of_memory") {
  auto [status, message] = ending_of([] { std::raise(SIGSEGV); });
  CHECK(status == CellStatus::crashed);
  CHECK(message == "killed by SIGSEGV");
  std::tie(status, message) = ending_of([] { std::abort(); });
  CHECK(message == "killed by SIGABRT");
  std::tie(status, message) = ending_of([] { std::raise(SIGKILL); }, 1ull << 30);
  CHECK(status == CellStatus::out_of_memory);
  CHECK(message == "killed by SIGKILL, out of memory under max_memory (1073741824 bytes)");
}

TEST_CASE("isolated: the crashing cell is recorded, the model's next cells measured in a new child") {
  for (const char* preset : {"segfault-run", "abort-run"}) {
    CAPTURE(preset);
    const Measured m = isolated(spin(preset, {1, 2, 3}));
    REQUIRE(m.seen.size() == 3);
    REQUIRE(m.result.cells.size() == 3);
    CHECK(m.seen[0].status == CellStatus::ok);
    CHECK(m.seen[1].status == CellStatus::crashed);
    CHECK(m.seen[1].message == (preset == std::string("segfault-run") ? "killed by SIGSEGV" : "killed by SIGABRT"));
    CHECK(cell_key(m.seen[1]) == "spin/" + std::string(preset) + "/cpu/n=2");
    CHECK(m.seen[2].status == CellStatus::ok);
    CHECK(m.seen[2].iterations > 0);
    // The model's description comes from the child that finished.
    REQUIRE(m.result.models.size() == 1);
    CHECK(m.result.models[0].name == preset);
    CHECK(m.result.devices.size() == 1);
  }
}

TEST_CASE("isolated: a hanging cell is killed after its limit (timeout), one out of memory (out_of_memory)") {
  Config hang = spin("hang-run", {2, 3});
  hang.cell_timeout_s = 0.5;
  const Measured h = isolated(hang);
  REQUIRE(h.seen.size() == 2);
  CHECK(h.seen[0].status == CellStatus::timeout);
  CHECK(h.seen[0].message.find("cell_timeout_s (0.5 s) passed") == 0);
  CHECK(h.seen[1].status == CellStatus::ok);

  const Measured a = isolated(spin("alloc-run", {1, 2}), 1ull << 30);
  REQUIRE(a.seen.size() == 2);
  CHECK(a.seen[0].status == CellStatus::ok);
  CHECK(a.seen[1].status == CellStatus::out_of_memory);
  CHECK(a.seen[1].message == "out of memory under max_memory (1073741824 bytes): std::bad_alloc");

  // The crashing cell the model's last: no child finished, the model is described failed.
  const Measured last = isolated(spin("segfault-run", {1, 2}));
  REQUIRE(last.seen.size() == 2);
  REQUIRE(last.result.models.size() == 1);
  CHECK(last.result.models[0].status == "failed");
  CHECK(last.result.models[0].message == "the process measuring it ended: killed by SIGSEGV");

  // Cells skipped (a resumed run's) are neither run nor recorded.
  const Measured s = isolated(spin("segfault-run", {1, 2, 3}), 0,
                              [](const CellResult& c) { return c.shape.at(0).value != 3; });
  REQUIRE(s.seen.size() == 1);
  CHECK(s.seen[0].status == CellStatus::ok);
}
#endif

TEST_CASE("suite fields isolate and max_memory: read, written back, max_memory without isolate refused") {
  const Suite s = parse_suite(Json{{"family", "spin"}, {"models", {"spin-none"}}, {"isolate", true}, {"max_memory", "512M"}},
                              TypeList<Spin>{});
  CHECK(s.isolate);
  CHECK(s.max_memory == 512ull << 20);
  CHECK(parse_suite(suite_to_json(s), TypeList<Spin>{}).max_memory == s.max_memory);
  CHECK(parse_suite(Json{{"max_memory", 4096}}, TypeList<Spin>{}).max_memory == 4096);
  CHECK_THROWS_WITH_AS((void)parse_suite(Json{{"max_memory", "lots"}}, TypeList<Spin>{}),
                       doctest::Contains("max_memory = \"lots\""), ConfigError);
  CHECK_THROWS_WITH_AS((void)parse_suite(Json{{"isolate", "yes"}}, TypeList<Spin>{}),
                       doctest::Contains("isolate = \"yes\": expected true or false"), ConfigError);
  Suite plain = s;
  plain.isolate = false;
  CHECK_THROWS_WITH_AS((validate_suite<TypeList<Cpu>, TypeList<Spin>>(plain)),
                       doctest::Contains("max_memory = 536870912: applies to isolated runs only"), ConfigError);
  CHECK_NOTHROW((validate_suite<TypeList<Cpu>, TypeList<Spin>>(s)));
}
