#pragma once

// `accelbench schedule`: a suite run on a schedule into the results store,
// as continuous benchmarking does: a systemd timer and its service, or a
// crontab line. accelbench writes the files; systemd or cron runs them.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>

#include "../core/error.hpp"
#include "../core/file_name.hpp"
#include "../core/json.hpp"
#include "../suite/suite_json.hpp"
#include "fleet_text.hpp"
#include "parse.hpp"
#include "suite_flags.hpp"

namespace accelbench::cli {

struct ScheduleFlags {
  SuiteFlags suite;
  std::string at = "*-*-* 02:00:00";  ///< systemd OnCalendar
  std::string cron;                   ///< five crontab fields; instead of the timer
  std::string db, dir = "schedule", runner, reports = "md,html";

  template <class Families>
  void add_to(CLI::App& cmd) {
    suite.add_to<Families>(cmd);
    cmd.add_option("--at", at,
                   "when, as systemd's OnCalendar (default: \"*-*-* 02:00:00\", nightly at 02:00; check one with "
                   "systemd-analyze calendar)")
        ->type_name("CALENDAR");
    cmd.add_option("--cron", cron, "write a crontab line with these five fields instead, e.g. \"0 2 * * *\"")
        ->type_name("FIELDS");
    cmd.add_option("--db", db,
                   "the results store each run goes into (a password in it is not written into the files: put "
                   "ACCELBENCH_DB=URL in DIR/NAME.env instead)")
        ->type_name("URL");
    cmd.add_option("--dir", dir, "folder for the files, the suite and the results (default: schedule)")
        ->type_name("DIR");
    cmd.add_option("--runner", runner, "the accelbench program to run (default: this one)")->type_name("PATH");
  }
};

/// `text` as one argument of a systemd command line: in double quotes,
/// with \ " and $ escaped (systemd.service, "Command lines").
[[nodiscard]] inline std::string systemd_quote(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '$') out += '$';
    if (ch == '%') out += '%';  // a specifier otherwise
    out += ch;
  }
  return out + "\"";
}

/// `path` as a unit file's path setting (WorkingDirectory=, EnvironmentFile=):
/// as it is, with % doubled (a specifier otherwise).
[[nodiscard]] inline std::string systemd_path(const std::string& path) {
  std::string out;
  for (const char ch : path) out += ch == '%' ? std::string("%%") : std::string(1, ch);
  return out;
}

/// The unit files (NAME.service, NAME.timer) of a scheduled suite.
struct ScheduledUnits {
  std::string service, timer;
};

/// The service and timer (accelbench-SUITE) that run suite `suite`, read
/// from `suite_file`, with `runner` at `at`.
[[nodiscard]] inline ScheduledUnits schedule_units(const std::string& suite, const std::string& runner,
                                                   const std::filesystem::path& dir,
                                                   const std::filesystem::path& suite_file, const std::string& db,
                                                   const std::string& at) {
  const std::string name = "accelbench-" + suite;
  ScheduledUnits u;
  std::ostringstream s;
  s << "[Unit]\nDescription=accelbench: suite " << suite << " into the results store\n"
    << "Wants=network-online.target\nAfter=network-online.target\n\n"
    << "[Service]\nType=oneshot\n"
    << "WorkingDirectory=" << systemd_path(dir.string()) << "\n";
  s << "EnvironmentFile=-" << systemd_path((dir / (name + ".env")).string()) << "\n";
  if (!db.empty() && !url_has_password(db)) s << "Environment=" << systemd_quote("ACCELBENCH_DB=" + db) << "\n";
  s << "ExecStart=" << systemd_quote(runner) << " run --suite " << systemd_quote(suite_file.string()) << " --out "
    << systemd_quote((dir / "results").string()) << " --report md,html --quiet";
  if (!db.empty()) s << " --db ${ACCELBENCH_DB}";
  s << "\n";
  u.service = s.str();
  std::ostringstream t;
  t << "[Unit]\nDescription=accelbench: suite " << suite << " on schedule (" << at << ")\n\n"
    << "[Timer]\nOnCalendar=" << at << "\nPersistent=true\nUnit=" << name << ".service\n\n"
    << "[Install]\nWantedBy=timers.target\n";
  u.timer = t.str();
  return u;
}

/// `accelbench schedule`: writes DIR/NAME.suite.json and the timer and
/// service (or the crontab line), NAME being accelbench-SUITE.
template <class Backends, class Families>
int schedule_command(const ScheduleFlags& flags) {
  if (!flags.suite.output.empty() || !flags.suite.reports.empty()) {
    throw UsageError("a scheduled run writes its results file with Markdown and HTML reports beside it; -o and "
                     "--report are options of run");
  }
  const Suite suite = flags.suite.suite<Families>();
  validate_suite<Backends, Families>(suite);
  check_one_line("--at", flags.at);
  check_one_line("--db", flags.db);
  if (flags.at.empty()) throw ConfigError("--at", "\"\"", "give a calendar event, e.g. \"*-*-* 02:00:00\"");
  const std::string name = "accelbench-" + suite.name;
  check_file_name("--name", suite.name);
  for (const char ch : suite.name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
          ch == '_' || ch == '.' || ch == ':')) {
      throw ConfigError("--name", "\"" + suite.name + "\"",
                        "the suite's name becomes the unit's name (accelbench-NAME.timer): letters, digits and - _ . :");
    }
  }
  const std::filesystem::path dir = std::filesystem::absolute(flags.dir);
  detail::prepare_output_folder(dir);
  const std::filesystem::path suite_file = dir / (name + ".suite.json");
  const std::string runner = flags.runner.empty() ? this_program() : flags.runner;
  check_one_line("--runner", runner);
  detail::write_file_atomically(suite_file, detail::dump_json(suite_to_json(suite), 2) + "\n");
  if (url_has_password(flags.db)) {
    std::cout << "the store's URL has a password: it is not written into the files; put ACCELBENCH_DB=URL in "
              << (dir / (name + ".env")).string() << " (mode 600)\n";
  }
  if (!flags.cron.empty()) {
    std::istringstream fields(flags.cron);
    int n = 0;
    for (std::string f; fields >> f;) ++n;
    if (n != 5 || flags.cron.find_first_of("\n\r%") != std::string::npos) {
      throw ConfigError("--cron", "\"" + flags.cron + "\"",
                        "expected the five time fields of a crontab line (minute hour day month weekday), e.g. "
                        "\"0 2 * * *\"");
    }
    std::string line = flags.cron + " " + shell_quote(runner) + " run --suite " + shell_quote(suite_file.string()) +
                       " --out " + shell_quote((dir / "results").string()) + " --report md,html --quiet";
    if (!flags.db.empty()) {
      line += url_has_password(flags.db) ? " --db \"$ACCELBENCH_DB\"" : " --db " + shell_quote(flags.db);
    }
    line += " >> " + shell_quote((dir / (name + ".log")).string()) + " 2>&1\n";
    const std::filesystem::path file = dir / (name + ".crontab");
    detail::write_file_atomically(file, line);
    std::cout << "wrote " << file.string() << "; install it with: (crontab -l; cat " << shell_quote(file.string())
              << ") | crontab -\n";
    return exit_ok;
  }
  const ScheduledUnits units = schedule_units(suite.name, runner, dir, suite_file, flags.db, flags.at);
  const std::filesystem::path service = dir / (name + ".service"), timer = dir / (name + ".timer");
  detail::write_file_atomically(service, units.service);
  detail::write_file_atomically(timer, units.timer);
  std::cout << "wrote " << service.string() << " and " << timer.string() << "\ninstall them with:\n"
            << "  cp " << shell_quote(service.string()) << " " << shell_quote(timer.string())
            << " /etc/systemd/system/  (or ~/.config/systemd/user/ with systemctl --user)\n"
            << "  systemctl daemon-reload && systemctl enable --now " << name << ".timer\n";
  return exit_ok;
}

}  // namespace accelbench::cli
