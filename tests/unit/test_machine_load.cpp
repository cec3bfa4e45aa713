// The machine's load over a cell's sampling: the /proc/stat and
// /proc/loadavg parsers on fixed text, the busy rule on fixed figures, and a
// cell measured while other processes spin on every core. The free cores the
// Cpu backend sizes its threads by, and OpenMP's wait policy.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/detail/free_cores.hpp>
#include <accelbench/detail/omp_policy.hpp>
#include <accelbench/detail/proc.hpp>
#include <accelbench/machine/load.hpp>
#include <accelbench/report/json.hpp>
#include <accelbench/run/benchmark.hpp>
#include <accelbench/testing/busy_cores.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "spin_family.hpp"

using namespace accelbench;
using accelbench::test::Spin;

namespace {

constexpr const char* stat_text =
    "cpu  1460604 2283452 150145 737384 1368 0 377 8035 0 0\n"
    "cpu0 674736 1141774 72913 426624 247 0 78 4051 0 0\n"
    "cpu1 785867 1141678 77231 310760 1121 0 298 3983 0 0\n"
    "intr 123 4 5\n"
    "ctxt 987654\n"
    "btime 1700000000\n";

/// A load figure as the rule sees it, from fixed numbers.
MachineLoad figures(int cores, int threads, double other, double steal = 0, double wall = 1.0) {
  MachineLoad l;
  l.load_average_start = 9.8;
  l.load_average_end = 10.2;
  l.logical_cores = cores;
  l.cell_threads = threads;
  l.wall_s = wall;
  l.other_cores = other;
  l.steal_fraction = steal;
  return l;
}

LoadSnapshot snapshot(double at_s, std::uint64_t busy_ticks, std::uint64_t idle_ticks, std::uint64_t steal_ticks,
                      double own_s, int cpus = 2) {
  LoadSnapshot s;
  s.at = std::chrono::steady_clock::time_point{} + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                       std::chrono::duration<double>(at_s));
  detail::ProcStat stat;
  stat.all.user = busy_ticks;
  stat.all.idle = idle_ticks;
  stat.all.steal = steal_ticks;
  stat.cpus = cpus;
  s.stat = stat;
  s.own_cpu_s = own_s;
  s.load_average = 1.5;
  return s;
}

Config spin_cell(double min_time_s) {
  return Config{.model = "spin-100us",
                .batch_sizes = {1},
                .warmup_iterations = 2,
                .min_iterations = 10,
                .max_iterations = 1000000,
                .min_time_s = min_time_s,
                .max_time_s = min_time_s + 2};
}

}  // namespace

TEST_CASE("/proc/stat: the aggregate cpu line and the CPUs it covers") {
  const auto s = detail::parse_proc_stat(stat_text);
  REQUIRE(s);
  CHECK(s->cpus == 2);
  CHECK(s->all.user == 1460604);
  CHECK(s->all.nice == 2283452);
  CHECK(s->all.system == 150145);
  CHECK(s->all.idle == 737384);
  CHECK(s->all.iowait == 1368);
  CHECK(s->all.irq == 0);
  CHECK(s->all.softirq == 377);
  CHECK(s->all.steal == 8035);
  CHECK(s->all.busy() == 1460604u + 2283452u + 150145u + 377u);
  CHECK(s->all.total() == s->all.busy() + 737384u + 1368u + 8035u);
  REQUIRE(s->per_cpu.size() == 2);
  CHECK(s->per_cpu[1].first == 1);
  CHECK(s->per_cpu[1].second.user == 785867);
  CHECK(s->per_cpu[1].second.steal == 3983);

  // An old kernel's four fields; tabs and CRLF line ends.
  const auto old = detail::parse_proc_stat("cpu\t10 20 30 40\r\ncpu0 10 20 30 40\r\n");
  REQUIRE(old);
  CHECK(old->all.idle == 40);
  CHECK(old->all.steal == 0);
  CHECK(old->cpus == 1);
  // Guest fields (after steal) are counted within user and nice already: ignored.
  const auto guest = detail::parse_proc_stat("cpu 1 2 3 4 5 6 7 8 900 900 900\ncpu0 1 2 3 4\n");
  REQUIRE(guest);
  CHECK(guest->all.busy() == 1 + 2 + 3 + 6 + 7);
}

TEST_CASE("/proc/stat: malformed text is refused, never misread") {
  for (const char* bad : {
           "",                                          // empty
           "\n\n",                                      // blank lines
           "intr 1 2 3\nctxt 4\n",                      // no cpu line
           "cpu  1 2 3 4\n",                            // no cpuN line
           "cpu0 1 2 3 4\n",                            // no aggregate line
           "cpu\ncpu0 1 2 3 4\n",                       // aggregate without fields
           "cpu  1 2 3\ncpu0 1 2 3\n",                  // fewer than four fields
           "cpu  1 2 x3 4\ncpu0 1 2 3 4\n",             // not a number
           "cpu  1 2 3 4a\ncpu0 1 2 3 4\n",             // trailing garbage
           "cpu  1 -2 3 4\ncpu0 1 2 3 4\n",             // negative
           "cpu  1 +2 3 4\ncpu0 1 2 3 4\n",             // a sign
           "cpu  1 2 3 4.5\ncpu0 1 2 3 4\n",            // fraction
           "cpu  1 2 3 99999999999999999999999\ncpu0 1\n",  // beyond 64 bits
           "cpu  1 2 3 4\ncpu  5 6 7 8\ncpu0 1 2 3 4\n",  // two aggregate lines
           "cpu  1 2 3 4\ncpu0 1 2 x 4\n",             // a malformed CPU line
           "cpu  1 2 3 4\ncpu0 1 2 3\n",               // a CPU line with too few fields
           "cpu  1 2 3 4\ncpu0\n",                     // a CPU line without fields
           "cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu0 1 2 3 4\n",  // the same CPU twice
       }) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(detail::parse_proc_stat(bad));
  }
  // Binary noise around a good text does not stop it from being read.
  std::string noisy = std::string("\x01\xff garbage\n") + stat_text + "cpuX 1 2\n";
  const auto s = detail::parse_proc_stat(noisy);
  REQUIRE(s);
  CHECK(s->cpus == 2);  // "cpuX" is not a CPU
}

TEST_CASE("/proc/loadavg: the 1-minute average, malformed text refused") {
  CHECK(detail::parse_loadavg("2.10 2.73 2.80 5/110 4778\n") == doctest::Approx(2.10));
  CHECK(detail::parse_loadavg("  10.25 1 1 1/1 1") == doctest::Approx(10.25));
  CHECK(detail::parse_loadavg("0.00") == doctest::Approx(0.0));
  for (const char* bad : {"", "   \n", "abc 1 2", "-1.0 2 3", "nan 1 1", "inf 1 1", "1e999 1 1", "2.1x 1 1",
                          ",5 1 1"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(detail::parse_loadavg(bad));
  }
}

TEST_CASE("machine load between two snapshots: other processes' cores and steal") {
  // 1 s on 2 CPUs at 100 ticks/s: 200 ticks, 150 of them busy, 10 stolen;
  // this process used 0.5 s of CPU.
  const auto a = snapshot(10.0, 1000, 5000, 100, 2.0);
  const auto b = snapshot(11.0, 1150, 5040, 110, 2.5);
  const auto l = machine_load_between(a, b, 1);
  REQUIRE(l);
  CHECK(l->wall_s == doctest::Approx(1.0));
  CHECK(l->logical_cores == 2);
  CHECK(l->cell_threads == 1);
  CHECK(l->own_cores == doctest::Approx(0.5));
  CHECK(l->other_cores == doctest::Approx(150.0 / 200.0 * 2 - 0.5));
  CHECK(l->steal_fraction == doctest::Approx(10.0 / 200.0));
  CHECK(l->load_average_start == doctest::Approx(1.5));
  CHECK(l->load_average_end == doctest::Approx(1.5));

  // This process's own use is never counted as other work, even when the
  // tick counts round below it.
  const auto quiet = machine_load_between(snapshot(0, 0, 0, 0, 0), snapshot(1, 90, 110, 0, 1.0), 1);
  REQUIRE(quiet);
  CHECK(quiet->other_cores == 0);

  // Unreadable or inconsistent counters: no figures rather than wrong ones.
  auto unread = b;
  unread.stat.reset();
  CHECK_FALSE(machine_load_between(a, unread, 1));
  auto no_rusage = b;
  no_rusage.own_cpu_s.reset();
  CHECK_FALSE(machine_load_between(a, no_rusage, 1));
  CHECK_FALSE(machine_load_between(b, a, 1));                                 // time and counters backwards
  CHECK_FALSE(machine_load_between(a, snapshot(11.0, 900, 5100, 100, 2.5), 1));  // busy ticks backwards
  CHECK_FALSE(machine_load_between(a, a, 1));                                 // empty window
}

TEST_CASE("machine load: only the CPUs the process may run on are counted") {
  // 4 CPUs: 0, 1 and 3 busy with other work, CPU 2 (the process's only
  // allowed CPU) idle for the whole second.
  auto stat_at = [](std::uint64_t t) {
    detail::ProcStat s;
    for (int cpu = 0; cpu < 4; ++cpu) {
      detail::CpuTicks ticks;
      (cpu == 2 ? ticks.idle : ticks.user) = t;
      s.per_cpu.emplace_back(cpu, ticks);
      s.all.user += ticks.user;
      s.all.idle += ticks.idle;
    }
    s.cpus = 4;
    return s;
  };
  LoadSnapshot a = snapshot(0, 0, 0, 0, 0), b = snapshot(1, 0, 0, 0, 0);
  a.stat = stat_at(1000);
  b.stat = stat_at(1100);
  const auto whole = machine_load_between(a, b, 1);
  REQUIRE(whole);
  CHECK(whole->logical_cores == 4);
  CHECK(whole->other_cores == doctest::Approx(3.0));

  b.allowed_cpus = std::vector<int>{2};
  const auto pinned = machine_load_between(a, b, 1);
  REQUIRE(pinned);
  CHECK(pinned->logical_cores == 1);
  CHECK(pinned->other_cores == doctest::Approx(0.0));
  CHECK_FALSE(machine_busy(*pinned));

  b.allowed_cpus = std::vector<int>{0};  // pinned where the other work runs
  CHECK(machine_load_between(a, b, 1)->other_cores == doctest::Approx(1.0));
  CHECK(machine_busy(*machine_load_between(a, b, 1)));

  b.allowed_cpus = std::vector<int>{2, 7};  // a CPU /proc/stat does not list: every CPU instead
  CHECK(machine_load_between(a, b, 1)->logical_cores == 4);
}

TEST_CASE("busy rule: other work beyond the spare cores, or steal, flags the cell with its figures") {
  // 2 cores, a 1-thread cell: one core is spare; more than a quarter of the
  // cell's core taken beyond it is busy.
  const MachineLoad busy = figures(2, 1, 1.7);
  CHECK(contended_cores(busy) == doctest::Approx(0.7));
  CHECK(machine_busy(busy));
  CHECK(busy_warning(busy) ==
        "the machine was busy while sampling: load average 10.2 on 2 cores, other processes used 1.70 cores "
        "beside the cell's 1 thread, steal 0.0%");
  CHECK_FALSE(machine_busy(figures(2, 1, 1.2)));  // 0.2 of the cell's core: within the margin
  CHECK(busy_warning(figures(2, 1, 1.2)).empty());

  // Every core for the cell: any other work above a quarter of them.
  CHECK(machine_busy(figures(2, 2, 0.6)));
  CHECK_FALSE(machine_busy(figures(2, 2, 0.4)));
  CHECK(busy_warning(figures(2, 2, 0.6)).find("beside the cell's 2 threads") != std::string::npos);

  // Many cores, a small cell: other work on the spare cores is not contention.
  CHECK_FALSE(machine_busy(figures(64, 4, 59.0)));
  CHECK(machine_busy(figures(64, 4, 61.5)));

  // Steal alone.
  const MachineLoad stolen = figures(2, 2, 0.0, 0.12);
  CHECK(machine_busy(stolen));
  CHECK(busy_warning(stolen).find("steal 12.0%") != std::string::npos);
  CHECK_FALSE(machine_busy(figures(2, 2, 0.0, 0.04)));

  // Too short a window to judge, whatever the figures.
  CHECK_FALSE(machine_busy(figures(2, 1, 2.0, 0.5, 0.1)));

  // An unknown load average is said to be unknown.
  MachineLoad unknown = busy;
  unknown.load_average_end.reset();
  CHECK(busy_warning(unknown).find("load average unknown on 2 cores") != std::string::npos);
}

TEST_CASE("a quiet machine's figures leave the cell unflagged (fixed figures)") {
  // The real machine may be busy with anything; the quiet case is judged on
  // figures, the real cell below only for consistency.
  const MachineLoad quiet = figures(2, 1, 0.05, 0.0);
  CHECK_FALSE(machine_busy(quiet));
  CHECK(busy_warning(quiet).empty());

  Config cfg = spin_cell(0.3);
  const RunResult r = Benchmark<Cpu, Spin>{cfg, Cpu{Cpu::Options{.threads = 1}}}.run();
  REQUIRE(r.cells.size() == 1);
  const CellResult& c = r.cells.front();
  REQUIRE(c.status == CellStatus::ok);
#if defined(__linux__)
  REQUIRE(c.load);
  const int listed = detail::parse_proc_stat(*detail::read_text_file("/proc/stat"))->cpus;
  const auto allowed = detail::allowed_cpus();
  CHECK(c.load->logical_cores ==
        (allowed && static_cast<int>(allowed->size()) < listed ? static_cast<int>(allowed->size()) : listed));
  CHECK(c.load->cell_threads == 1);
  CHECK(c.load->wall_s >= c.sampling_wall_s * 0.99);
  CHECK(c.load->own_cores > 0);  // the cell spun (how much of a core depends on the machine)
  CHECK(c.load->other_cores >= 0);
  CHECK(c.load->steal_fraction >= 0);
  CHECK(c.load->steal_fraction <= 1);
  CHECK(c.load->load_average_end);
#endif
  // Flag, warning and JSON agree, whatever the machine was doing.
  const bool warned = std::any_of(c.warnings.begin(), c.warnings.end(), [](const std::string& w) {
    return w.rfind("the machine was busy while sampling", 0) == 0;
  });
  CHECK(warned == c.busy);
  CHECK(c.busy == (c.load && machine_busy(*c.load)));
  const Json j = to_json(r);
  CHECK(j["cells"][0]["busy"] == c.busy);
  if (c.load) CHECK(j["cells"][0]["load"]["other_cores"].get<double>() == doctest::Approx(c.load->other_cores));
}

#if defined(__linux__)
TEST_CASE("a cell measured while other processes spin on every core is flagged busy") {
  // 2N + 1 spinners on the N cores the process may use: with the cell's
  // thread each gets N / (2N + 2) of a core, so other work takes over half
  // of the cell's core beyond the N - 1 spare ones (twice the threshold),
  // and over half a core in all even where N is 1. Other work on the
  // machine only adds to it.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  testing::BusyCores spinners(2 * cores + 1);
  REQUIRE(spinners.count() == static_cast<std::size_t>(2 * cores + 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  const RunResult r = Benchmark<Cpu, Spin>{spin_cell(1.0), Cpu{Cpu::Options{.threads = 1}}}.run();
  REQUIRE(r.cells.size() == 1);
  const CellResult& c = r.cells.front();
  REQUIRE(c.status == CellStatus::ok);
  REQUIRE(c.load);
  CAPTURE(c.load->other_cores);
  CAPTURE(c.load->own_cores);
  CAPTURE(c.load->logical_cores);
  CHECK(c.load->other_cores > 0.5);
  CHECK(c.busy);
  const auto w = std::find_if(c.warnings.begin(), c.warnings.end(), [](const std::string& s) {
    return s.rfind("the machine was busy while sampling", 0) == 0;
  });
  REQUIRE(w != c.warnings.end());
  CHECK(w->find("beside the cell's 1 thread") != std::string::npos);
  const Json j = to_json(r);
  CHECK(j["cells"][0]["busy"] == true);
  CHECK(j["cells"][0]["load"]["cell_threads"] == 1);
  std::ostringstream table;
  ConsoleReporter{table}.report(r);
  CHECK(table.str().find("the machine was busy while sampling") != std::string::npos);  // the footnote
}
#endif

namespace {

/// A /proc/stat of two CPUs from each CPU's (ran, idle) ticks.
detail::ProcStat two_cpus(std::uint64_t ran0, std::uint64_t idle0, std::uint64_t ran1, std::uint64_t idle1) {
  detail::ProcStat s;
  detail::CpuTicks a, b;
  a.user = ran0;
  a.idle = idle0;
  b.system = ran1;
  b.idle = idle1;
  s.per_cpu = {{0, a}, {1, b}};
  s.all.user = ran0;
  s.all.system = ran1;
  s.all.idle = idle0 + idle1;
  s.cpus = 2;
  return s;
}

/// The value of a describe() property, or nullopt.
std::optional<std::string> property(const DeviceInfo& d, const std::string& key) {
  for (const auto& [k, v] : d.properties) {
    if (k == key) return v;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("free cores: a CPU is busy above half its time; this process's own use is added back") {
  // 10 ticks a CPU: CPU 0 ran 8 of them (busy), CPU 1 ran 5 (not above half).
  const auto before = two_cpus(100, 100, 100, 100);
  const auto after = two_cpus(108, 102, 105, 105);
  const auto busy = detail::busy_cpus_between(before, after);
  REQUIRE(busy);
  CHECK(busy->counted == 2);
  CHECK(busy->busy == 1);
  // Stolen time counts as run: the hypervisor gave the CPU to someone else.
  auto stolen = after;
  stolen.per_cpu[1].second.steal = 4;  // 9 of 14 ticks
  CHECK(detail::busy_cpus_between(before, stolen)->busy == 2);
  // Only the CPUs of the affinity when /proc/stat lists them all.
  CHECK(detail::busy_cpus_between(before, after, std::vector<int>{1})->counted == 1);
  CHECK(detail::busy_cpus_between(before, after, std::vector<int>{1})->busy == 0);
  CHECK(detail::busy_cpus_between(before, after, std::vector<int>{1, 5})->counted == 2);
  // Counters backwards: no figure rather than a wrong one.
  CHECK_FALSE(detail::busy_cpus_between(after, before));

  CHECK(detail::free_cores_of(2, 1, 0.0) == 1);   // another process on one core
  CHECK(detail::free_cores_of(2, 1, 0.97) == 2);  // this process's own thread
  CHECK(detail::free_cores_of(2, 2, 1.0) == 1);   // both
  CHECK(detail::free_cores_of(2, 2, 0.0) == 1);   // never below 1
  CHECK(detail::free_cores_of(8, 3, 0.4) == 5);   // 2.6 cores of others' work round to 3
  CHECK(detail::free_cores_of(2, 0, 1.5) == 2);   // never above the CPUs
}

TEST_CASE("free cores of the machine now: within [1, hardware_concurrency]") {
  const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int free = detail::free_cores_now();
  CHECK(free >= 1);
  CHECK(free <= hw);
  const int cached = detail::free_cores_at_first_use();
  CHECK(cached >= 1);
  CHECK(cached <= hw);
  CHECK(detail::free_cores_at_first_use() == cached);  // measured once
}

#if defined(__linux__)
TEST_CASE("free cores: another process spinning takes a core, a thread of this process does not") {
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  if (hw < 2) {
    MESSAGE("hardware_concurrency() = " << hw << ": a spinning process cannot leave a core free; not checked");
    return;
  }
  {
    // This process's own spinning thread is its own work, not another's.
    // Judged only while the machine is otherwise idle before and after (it
    // may be busy with anything); the best of two readings, as other work
    // may come and go in between.
    std::atomic<bool> stop{false};
    std::thread own([&] {
      volatile unsigned long spins = 0;
      while (!stop.load(std::memory_order_relaxed)) spins = spins + 1;
    });
    bool judged = false;
    for (int attempt = 0; attempt < 3 && !judged; ++attempt) {
      // The free cores with the thread running, bracketed by readings that
      // must see the whole machine free (the thread is added back in both).
      if (detail::free_cores_now() < hw) continue;
      const int with_own = std::max(detail::free_cores_now(), detail::free_cores_now());
      if (detail::free_cores_now() < hw) continue;
      CAPTURE(with_own);
      CHECK(with_own == hw);
      judged = true;
    }
    stop = true;
    own.join();
    if (!judged) MESSAGE("the machine is busy with other work: the own-thread check is skipped");
  }
  // Another process spinning: at most hw - 1 free (a few tries, in case the
  // scheduler splits it between two CPUs over one window).
  testing::BusyCores spinner(1);
  REQUIRE(spinner.count() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int with_other = hw;
  for (int i = 0; i < 5 && with_other > hw - 1; ++i) with_other = std::min(with_other, detail::free_cores_now());
  CHECK(with_other <= hw - 1);
}
#endif

TEST_CASE("Cpu: its threads fit the free cores; describe() says the cores and the wait policy") {
  const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const DeviceInfo one = Cpu{Cpu::Options{.threads = 1}}.describe();
  CHECK(property(one, "free_cores") == "not measured (1 thread)");
  CHECK_FALSE(property(one, "threads_above_free_cores"));
#if defined(_OPENMP)
  CHECK(property(one, "omp_wait_policy") == detail::omp_wait_policy());

  const Cpu fitted{};  // threads = 0: one per free core
  const int free = detail::free_cores_at_first_use();
  CHECK(fitted.threads() == std::min(hw, free));
  const DeviceInfo d = fitted.describe();
  CHECK(property(d, "free_cores") == std::to_string(free));
  CHECK_FALSE(property(d, "threads_above_free_cores"));
  CHECK(Cpu{Cpu::Options{.threads = 0, .fit_free_cores = false}}.threads() == hw);

  // An explicit count above the free cores is kept, and said.
  const Cpu above{Cpu::Options{.threads = hw + 1}};
  CHECK(above.threads() == hw + 1);
  const DeviceInfo a = above.describe();
  CHECK(property(a, "free_cores") == std::to_string(free));
  CHECK(property(a, "threads_above_free_cores") == "yes");
  RunResult r;
  r.devices.push_back(a);
  std::ostringstream table;
  ConsoleReporter{table}.report(r);
  std::string line = std::to_string(hw + 1);  // appended piece by piece: GCC 12's -Wrestrict at -O3
  line += " threads (above the ";
  line += std::to_string(free);
  line += " free core";
  CHECK(table.str().find(line) != std::string::npos);
  CHECK(to_json(r)["devices"][0]["properties"]["threads_above_free_cores"] == "yes");
#else
  CHECK(property(one, "openmp") == "off");
#endif
}

TEST_CASE("OpenMP's wait policy: set passive and start again only when the user set none") {
  CHECK(detail::should_reexec_for_wait_policy(nullptr));
  CHECK_FALSE(detail::should_reexec_for_wait_policy("passive"));
  CHECK_FALSE(detail::should_reexec_for_wait_policy("active"));
  CHECK_FALSE(detail::should_reexec_for_wait_policy(""));  // set, if to nothing: the user's choice

  const char* given = std::getenv(detail::omp_wait_policy_variable);
  const std::optional<std::string> saved = given ? std::optional<std::string>(given) : std::nullopt;
  unsetenv(detail::omp_wait_policy_variable);
  CHECK(detail::omp_wait_policy() == "default (spins before sleeping)");
  setenv(detail::omp_wait_policy_variable, "", 1);
  CHECK(detail::omp_wait_policy() == "default (spins before sleeping)");
  setenv(detail::omp_wait_policy_variable, "passive", 1);
  CHECK(detail::omp_wait_policy() == "passive");
  // Set: nothing to do, and the call returns.
  char name[] = "test";
  char* argv[] = {name, nullptr};
  detail::run_with_passive_omp_wait(argv);
  CHECK(detail::omp_wait_policy() == "passive");
  if (saved) {
    setenv(detail::omp_wait_policy_variable, saved->c_str(), 1);
  } else {
    unsetenv(detail::omp_wait_policy_variable);
  }
}
