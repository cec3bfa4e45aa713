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
#include <string>
#include <vector>

#include "../core/result.hpp"
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
  void begin(const RunResult& frame, const std::filesystem::path& journal) {
#ifdef ACCELBENCH_WITH_STORE
    if (!store_) return;
    std::error_code ec;
    const std::filesystem::path where = std::filesystem::weakly_canonical(journal, ec);
    run_ = store_->begin_run(frame, {}, frame.system.hostname + ":" + (ec ? journal : where).string());
#else
    (void)frame;
    (void)journal;
#endif
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

  /// Stops the stored run, status interrupted (from a signal's last words).
  void interrupted() noexcept {
    attempt([&] {
#ifdef ACCELBENCH_WITH_STORE
      store_->mark_interrupted(run_);
      std::fprintf(stderr, "accelbench: run %lld in %s marked interrupted\n", static_cast<long long>(run_),
                   store_->url().c_str());
#endif
    });
  }

  /// Ends the stored run with `results` (every cell of the results file);
  /// throws StoreError when it cannot.
  void finish(const RunResult& results) {
#ifdef ACCELBENCH_WITH_STORE
    if (!store_) return;
    store_->finish_run(run_, results);
    std::cout << "stored as run " << run_ << " in " << store_->url() << '\n';
#else
    (void)results;
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
