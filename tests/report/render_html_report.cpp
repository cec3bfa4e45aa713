// Writes the HTML report of the made-up run in tests/unit/sample_run.hpp,
// or of a results file, for the browser test (check_html_render.py) and
// the documentation's screenshot.
//
//   render_html_report OUT.html [RESULTS.json]

#include <accelbench/report/html_reporter.hpp>
#include <accelbench/report/results_file.hpp>

#include <exception>
#include <filesystem>
#include <iostream>

#include "../unit/sample_run.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: render_html_report OUT.html [RESULTS.json]\n";
    return 2;
  }
  try {
    const auto run = argc == 3 ? accelbench::read_results_file(argv[2]) : sample::make_run();
    accelbench::HtmlReporter{std::filesystem::path(argv[1])}.report(run);
  } catch (const std::exception& e) {
    std::cerr << "render_html_report: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
