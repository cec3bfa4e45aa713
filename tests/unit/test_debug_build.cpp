// Compiled without optimisation and with assertions: every report must say so.

#include <doctest/doctest.h>

#include <accelbench/report/console_reporter.hpp>
#include <accelbench/report/json.hpp>
#include <accelbench/machine/system.hpp>

#include <sstream>

#if defined(__OPTIMIZE__) || defined(NDEBUG)
#error "this test must be compiled with -O0 and without NDEBUG"
#endif

using namespace accelbench;

TEST_CASE("a debug build is flagged in the build description, the console and JSON") {
  RunResult r;
  r.system = system_info();
  r.build = build_info();
  r.warnings = build_warnings(r.build);
  CHECK_FALSE(r.build.optimized);
  CHECK(r.build.assertions);
  CHECK(r.build.debug());
  REQUIRE(r.warnings.size() == 2);
  CHECK(r.warnings[0].find("debug build") != std::string::npos);
  CHECK(r.warnings[1].find("assertions enabled") != std::string::npos);

  std::ostringstream out;
  ConsoleReporter{out}.report(r);
  CHECK(out.str().find("WARNING: debug build") != std::string::npos);
  CHECK(out.str().find("timings above are not representative") != std::string::npos);

  const Json j = to_json(r);
  CHECK(j["build"]["debug"] == true);
  CHECK(j["build"]["optimized"] == false);
  CHECK(j["warnings"].size() == 2);
}
