#pragma once

// The results store on the command line (docs/store.md): `accelbench import
// FILE... --db URL` loads results files into a store, and `accelbench run
// --db URL` writes the run into one as it is measured (RunRecorder). The
// store needs SQLite (accelbench::store defines ACCELBENCH_WITH_STORE); a
// runner built without it has the same options, which say so when used.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <ostream>
#include <string>
#include <vector>

#include <sys/utsname.h>

#include "../core/result.hpp"
#include "../report/filter.hpp"
#include "../report/journal.hpp"
#include "../report/results_file.hpp"
#include "parse.hpp"

#ifdef ACCELBENCH_WITH_STORE
#include "../report/store.hpp"
#endif

namespace accelbench::cli {

/// Whether this program can open a results store.
inline constexpr bool has_store =
#ifdef ACCELBENCH_WITH_STORE
    true;
#else
    false;
#endif

/// What `--db` says in every command's help.
inline constexpr const char* store_url_help =
    "results store: a SQLite file (PATH or sqlite:PATH) or a PostgreSQL server (postgresql://USER@HOST/DATABASE)";

[[noreturn]] inline void no_store(const std::string& flag) {
  throw UsageError(flag + ": this accelbench was built without the results store (SQLite was not found when it "
                          "was built; install libsqlite3-dev and rebuild)");
}

/// The options of `accelbench import`.
struct ImportFlags {
  std::vector<std::string> files;
  std::string db;
  bool quiet = false;

  void add_to(CLI::App& cmd) {
    cmd.add_option("files", files, "results files (JSON, as `accelbench run` writes them)")
        ->required()
        ->type_name("FILE");
    cmd.add_option("--db", db, store_url_help)->required()->type_name("URL");
    cmd.add_flag("--quiet", quiet, "print only what went wrong");
  }
};

/// `accelbench import`: each file in a transaction of its own. A file
/// imported before (same host, start and results) is reported and skipped;
/// a file that cannot be read or stored is named with the reason and the
/// others are imported still, the exit status then exit_runtime_error.
inline int import_command(const ImportFlags& flags) {
#ifdef ACCELBENCH_WITH_STORE
  ResultStore store = ResultStore::open(flags.db);
  std::size_t imported = 0;
  std::size_t skipped = 0;
  std::size_t failed = 0;
  for (const auto& file : flags.files) {
    try {
      const RunResult run = read_results_file(file);
      if (const auto before = store.imported_as(run)) {
        ++skipped;
        if (!flags.quiet) std::cout << fmt::format("{}: imported before as run {}, skipped\n", file, *before);
        continue;
      }
      const std::int64_t id = store.import_run(run);
      ++imported;
      if (!flags.quiet) std::cout << fmt::format("{}: imported as run {} ({} cells)\n", file, id, run.cells.size());
    } catch (const std::exception& e) {
      ++failed;
      std::cerr << "accelbench: import " << file << ": " << e.what() << " (not imported)\n";
    }
  }
  if (!flags.quiet || failed > 0) {
    std::cout << fmt::format("{} imported, {} skipped (imported before), {} failed, into {}\n", imported, skipped,
                             failed, store.url());
  }
  return failed > 0 ? exit_runtime_error : exit_ok;
#else
  (void)flags;
  no_store("--db");
#endif
}

/// This machine's name, as SystemInfo::hostname records it.
[[nodiscard]] inline std::string this_hostname() {
  struct utsname u {};
  return ::uname(&u) == 0 ? std::string(u.nodename) : std::string();
}

/// The runs of the store at `url` that `filter` selects, oldest first
/// (report and history over the store; `flag` names the option).
[[nodiscard]] inline std::vector<RunResult> stored_runs(const std::string& flag, const std::string& url,
                                                        const ResultFilter& filter) {
#ifdef ACCELBENCH_WITH_STORE
  (void)flag;
  std::vector<RunResult> out;
  for (auto& r : ResultStore::open(url).runs(filter)) out.push_back(std::move(r.result));
  return out;
#else
  (void)url;
  (void)filter;
  no_store(flag);
#endif
}

/// Whether `which` names a run of the store rather than a file: an id
/// ("12" or "run:12"), or "last" ("last", "last~1", "last:COMMIT",
/// "last~2:COMMIT").
[[nodiscard]] inline bool names_stored_run(const std::string& which) {
  if (which.starts_with("run:") || which == "last" || which.starts_with("last~") || which.starts_with("last:")) {
    return true;
  }
  return !which.empty() && which.find_first_not_of("0123456789") == std::string::npos;
}

/// The run of the store at `url` that `which` names (names_stored_run):
/// run ID; or the complete runs on this machine (its hostname), of commits
/// starting with COMMIT when given, the last one ("last") or the one N
/// before it ("last~N"). Throws ConfigError naming `flag` and `which`.
[[nodiscard]] inline RunResult stored_run_named(const std::string& flag, const std::string& url,
                                                const std::string& which) {
#ifdef ACCELBENCH_WITH_STORE
  ResultStore store = ResultStore::open(url);
  if (!which.starts_with("last")) {
    const std::string digits = which.starts_with("run:") ? which.substr(4) : which;
    const std::int64_t id = parse_integer(flag, digits);
    try {
      return store.run(id);
    } catch (const std::exception& e) {
      throw ConfigError(flag, "\"" + which + "\"", std::string("no such run in ") + store.url() + ": " + e.what());
    }
  }
  std::string rest = which.substr(4);
  std::size_t back = 0;
  if (rest.starts_with("~")) {
    const auto colon = rest.find(':');
    back = static_cast<std::size_t>(parse_integer(flag, rest.substr(1, colon == std::string::npos ? colon : colon - 1)));
    rest = colon == std::string::npos ? std::string() : rest.substr(colon);
  }
  ResultFilter filter;
  filter.hostname = this_hostname();
  if (rest.starts_with(":")) filter.git_commit = rest.substr(1);
  std::vector<StoredRun> runs;
  for (auto& r : store.runs(filter)) {
    if (r.status == "complete") runs.push_back(std::move(r));
  }
  if (runs.size() <= back) {
    throw ConfigError(flag, "\"" + which + "\"",
                      fmt::format("the store {} has {} complete run{} on this machine ({}){}", store.url(),
                                  runs.size(), runs.size() == 1 ? "" : "s", filter.hostname,
                                  filter.git_commit.empty() ? "" : " of commit " + filter.git_commit + "*"));
  }
  return std::move(runs[runs.size() - 1 - back].result);
#else
  (void)url;
  (void)which;
  no_store(flag);
#endif
}

/// `accelbench run --db URL`: the run in the results store as it is
/// measured. The store is opened first (a bad URL stops the run before
/// anything is measured); begin() starts the stored run, or continues the
/// one a resumed journal started; each cell and part is stored as it comes,
/// a failure to store one reported and the run going on (the journal has
/// it, and finish() stores whatever is missing). Without a URL it does nothing.
class RunRecorder {
 public:
  explicit RunRecorder(const std::string& url) {
    if (url.empty()) return;
#ifdef ACCELBENCH_WITH_STORE
    store_.emplace(ResultStore::open(url));
#else
    no_store("--db");
#endif
  }

  /// Starts (or with the same journal, continues) the stored run of `frame`.
  /// A shard of a group (frame.group) is stored under its group and shard
  /// instead, whatever the host: `resume` continues the one stored before
  /// (from another host too), and without it a shard stored before is
  /// refused. Returns the keys of the cells stored before (cell_key).
  std::set<std::string> begin(const RunResult& frame, const std::filesystem::path& journal, bool resume = false) {
    std::set<std::string> stored;
#ifdef ACCELBENCH_WITH_STORE
    if (!store_) return stored;
    std::string key;
    if (!frame.group.name.empty() && frame.group.shard_index && frame.group.shard_count) {
      key = fmt::format("group:{}:shard:{}/{}", frame.group.name, *frame.group.shard_index, *frame.group.shard_count);
      if (const auto before = store_->run_with_key(key)) {
        const StoredRun r = store_->stored_run(*before);
        if (!resume) {
          throw UsageError(fmt::format("shard {}/{} of group '{}' is already in {} as run {} (status {}, {} cells); "
                                       "add --resume to measure only the cells it lacks",
                                       *frame.group.shard_index, *frame.group.shard_count, frame.group.name,
                                       store_->url(), *before, r.status, r.result.cells.size()));
        }
        for (const auto& c : r.result.cells) stored.insert(cell_key(c));
      }
    } else {
      std::error_code ec;
      const std::filesystem::path where = std::filesystem::weakly_canonical(journal, ec);
      key = frame.system.hostname + ":" + (ec ? journal : where).string();
    }
    run_ = store_->begin_run(frame, frame.group, key);
#else
    (void)frame;
    (void)journal;
    (void)resume;
#endif
    return stored;
  }

  void cell(const CellResult& c) {
    attempt([&] {
#ifdef ACCELBENCH_WITH_STORE
      store_->add_cell(run_, c);
#else
      (void)c;
#endif
    });
  }

  void part(const RunResult& p) {
    attempt([&] {
#ifdef ACCELBENCH_WITH_STORE
      store_->add_part(run_, p);
#else
      (void)p;
#endif
    });
  }

  /// Stops the stored run, status interrupted (from a signal's last words),
  /// first storing any of `cells` (the journal's) that the store lacks: a
  /// cell measured just before the signal is not left out.
  void interrupted(const std::vector<CellResult>& cells = {}) noexcept {
    attempt([&] {
#ifdef ACCELBENCH_WITH_STORE
      for (const auto& c : cells) store_->add_cell(run_, c);
      store_->mark_interrupted(run_);
      std::fprintf(stderr, "accelbench: run %lld in %s marked interrupted\n", static_cast<long long>(run_),
                   store_->url().c_str());
#else
      (void)cells;
#endif
    });
  }

  /// Ends the stored run with `results` (every cell of the results file)
  /// and says so on `context`; throws StoreError when it cannot.
  void finish(const RunResult& results, std::ostream& context) {
#ifdef ACCELBENCH_WITH_STORE
    if (!store_) return;
    store_->finish_run(run_, results);
    context << "stored as run " << run_ << " in " << store_->url() << '\n';
#else
    (void)results;
    (void)context;
#endif
  }

 private:
  template <class Write>
  void attempt(Write write) noexcept {
#ifdef ACCELBENCH_WITH_STORE
    if (!store_) return;
    try {
      write();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "accelbench: %s (the results file has it)\n", e.what());
    }
#else
    (void)write;
#endif
  }

#ifdef ACCELBENCH_WITH_STORE
  std::optional<ResultStore> store_;
  std::int64_t run_ = 0;
#endif
};

}  // namespace accelbench::cli
