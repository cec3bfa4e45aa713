// The HTML report: its charts (kinds, series and marks), escaping, and that
// the page needs nothing from the network. tests/report/ renders it in a
// real browser.

#include <doctest/doctest.h>

#include <accelbench/report/concept.hpp>
#include <accelbench/report/html_reporter.hpp>
#include <accelbench/report/results_file.hpp>
#include <accelbench/report/svg_chart.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "sample_run.hpp"

namespace {

using namespace accelbench;

/// One <svg class="chart"> of a page: its attributes, the attributes of
/// the <figure> around it, and how many elements of class "mark" it holds.
struct Chart {
  std::map<std::string, std::string> attrs;
  std::map<std::string, std::string> figure;
  std::size_t marks_found = 0;

  [[nodiscard]] std::string get(const std::string& k) const {
    const auto it = attrs.find(k);
    return it == attrs.end() ? std::string() : it->second;
  }
  [[nodiscard]] std::size_t number(const std::string& k) const { return std::stoul(get(k)); }
};

std::map<std::string, std::string> attributes_of(const std::string& tag) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  while ((i = tag.find("=\"", i)) != std::string::npos) {
    std::size_t start = i;
    while (start > 0 && tag[start - 1] != ' ') --start;
    const auto end = tag.find('"', i + 2);
    out[tag.substr(start, i - start)] = tag.substr(i + 2, end - i - 2);
    i = end + 1;
  }
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto i = text.find(what); i != std::string::npos; i = text.find(what, i + what.size())) ++n;
  return n;
}

std::vector<Chart> charts_of(const std::string& html) {
  std::vector<Chart> out;
  std::size_t at = 0;
  while ((at = html.find("<svg class=\"chart\"", at)) != std::string::npos) {
    Chart c;
    const auto tag_end = html.find('>', at);
    c.attrs = attributes_of(html.substr(at, tag_end - at));
    const auto end = html.find("</svg>", at);
    REQUIRE(end != std::string::npos);
    c.marks_found = count(html.substr(at, end - at), "class=\"mark\"");
    const auto fig = html.rfind("<figure", at);
    if (fig != std::string::npos) c.figure = attributes_of(html.substr(fig, html.find('>', fig) - fig));
    out.push_back(std::move(c));
    at = end;
  }
  return out;
}

std::vector<Chart> find(const std::vector<Chart>& charts, const std::string& kind, const std::string& family = "",
                        const std::string& axis = "") {
  std::vector<Chart> out;
  for (const auto& c : charts) {
    if (c.get("data-chart") != kind) continue;
    if (!family.empty() && c.figure.count("data-family") && c.figure.at("data-family") != family) continue;
    if (!family.empty() && !c.figure.count("data-family")) continue;
    if (!axis.empty() && (!c.figure.count("data-axis") || c.figure.at("data-axis") != axis)) continue;
    out.push_back(c);
  }
  return out;
}

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto n = detail::utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

const std::string page = html_report(sample::make_run());

}  // namespace

TEST_CASE("html report: every chart's marks are drawn and counted in its data-marks") {
  const auto charts = charts_of(page);
  REQUIRE(charts.size() > 20);
  for (const auto& c : charts) {
    CAPTURE(c.get("data-chart"));
    CHECK(c.number("data-marks") > 0);
    CHECK(c.number("data-marks") == c.marks_found);
    CHECK(c.number("data-series") > 0);
    CHECK(!c.get("data-plot").empty());
    CHECK(c.get("viewBox").rfind("0 0 ", 0) == 0);
  }
}

TEST_CASE("html report: latency, throughput and memory over each axis with two or more values") {
  const auto charts = charts_of(page);
  // Embedding: 2 models x 2 backends; batch 1, 4, 16 at sequence 16 (all measured);
  // sequence 16, 128 at batch 1.
  for (const char* kind : {"latency", "throughput", "memory"}) {
    CAPTURE(kind);
    const auto batch = find(charts, kind, "embedding", "batch_size");
    REQUIRE(batch.size() == 1);
    CHECK(batch[0].number("data-series") == 4);
    CHECK(batch[0].number("data-marks") == 12);
    const auto seq = find(charts, kind, "embedding", "sequence_length");
    REQUIRE(seq.size() == 1);
    CHECK(seq[0].number("data-series") == 4);
    CHECK(seq[0].number("data-marks") == 8);
    // Text generation: batch 1, 4 and prompt 16, 64; new_tokens has one value: no chart.
    const auto tg_batch = find(charts, kind, "text-generation", "batch_size");
    REQUIRE(tg_batch.size() == 1);
    CHECK(tg_batch[0].number("data-marks") == 8);
    CHECK(find(charts, kind, "text-generation", "prompt_length").size() == 1);
    CHECK(find(charts, kind, "text-generation", "new_tokens").empty());
    // Vision: one line over batch 1, 2; nothing over the single image size.
    const auto vision = find(charts, kind, "vision", "batch_size");
    REQUIRE(vision.size() == 1);
    CHECK(vision[0].number("data-series") == 1);
    CHECK(vision[0].number("data-marks") == 2);
    CHECK(find(charts, kind, "vision", "image_size").empty());
  }
  // Device memory: the opencl lines only.
  const auto device = find(charts, "device-memory", "embedding", "batch_size");
  REQUIRE(device.size() == 1);
  CHECK(device[0].number("data-series") == 2);
  CHECK(device[0].number("data-marks") == 6);
  CHECK(find(charts, "device-memory", "vision").empty());
  // The latency lines carry the medians' intervals.
  CHECK(page.find("class=\"err\"") != std::string::npos);
}

TEST_CASE("html report: hardware, speedup, architecture, phases and histogram charts") {
  const auto charts = charts_of(page);
  // 12 model x shape groups, 23 measured cells (one failed), a bar per backend.
  const auto hw = find(charts, "hardware", "embedding");
  REQUIRE(hw.size() == 1);
  CHECK(hw[0].number("data-series") == 2);
  CHECK(hw[0].number("data-marks") == 23);
  const auto speedup = find(charts, "speedup", "embedding");
  REQUIRE(speedup.size() == 1);
  CHECK(speedup[0].number("data-series") == 1);
  CHECK(speedup[0].number("data-marks") == 11);
  CHECK(find(charts, "hardware", "text-generation")[0].number("data-marks") == 16);
  CHECK(find(charts, "hardware", "vision").empty());  // one backend

  const auto arch = find(charts, "architecture", "embedding");
  REQUIRE(arch.size() == 1);
  CHECK(arch[0].number("data-series") == 2);
  CHECK(arch[0].number("data-marks") == 4);
  CHECK(find(charts, "architecture", "vision").empty());  // one model

  const auto phases = find(charts, "phases", "text-generation");
  REQUIRE(phases.size() == 1);
  CHECK(phases[0].number("data-series") == 2);   // prefill, decode
  CHECK(phases[0].number("data-marks") == 32);   // 16 cells x 2 phases
  CHECK(find(charts, "phases", "embedding").empty());

  // A histogram per measured cell: 23 + 16 + 2; those with a summary
  // histogram draw its 5 non-empty bins, the others are binned from samples.
  CHECK(find(charts, "histogram").size() == 41);
  std::size_t five = 0;
  for (const auto& h : find(charts, "histogram", "embedding")) five += h.number("data-marks") == 5 ? 1 : 0;
  CHECK(five >= 15);

  const auto cmp = find(charts, "comparison");
  REQUIRE(cmp.size() == 1);
  CHECK(cmp[0].number("data-marks") == 2);
}

TEST_CASE("html report: text is escaped and the page is valid UTF-8") {
  CHECK(valid_utf8(page));
  CHECK(count(page, "<script") == 1);  // the page's own, at the end
  CHECK(page.find("alert(\"x\")") == std::string::npos);
  CHECK(page.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;mini\xEF\xBF\xBD\xEF\xBF\xBD-lm") !=
        std::string::npos);
  CHECK(page.find("&lt;b&gt;markup&lt;/b&gt; &amp; an ampersand") != std::string::npos);
  CHECK(page.find("<b>markup</b>") == std::string::npos);
  CHECK(page.find("&lt;CL_OUT_OF_RESOURCES&gt;") != std::string::npos);

  CHECK(detail::html_escape("a\x01" "b\x7f" "c") == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
  CHECK(detail::html_escape("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  CHECK(detail::html_escape("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(detail::html_escape("\xC2\x85") == "\xEF\xBF\xBD");  // C1 control
  CHECK(detail::html_escape("\xE2\x82\xAC 'q' \xF0\x9F\x98\x80") == "\xE2\x82\xAC &#39;q&#39; \xF0\x9F\x98\x80");
  CHECK(detail::html_escape_short("abcdef", 3) == "abc\xE2\x80\xA6");
}

TEST_CASE("html report: nothing is fetched from anywhere") {
  for (const char* bad : {"http://", "https://", "src=", "@import", "url(", "<link", "<img", "<iframe", "//cdn"}) {
    CAPTURE(bad);
    CHECK(page.find(bad) == std::string::npos);
  }
  for (std::size_t i = page.find("href=\""); i != std::string::npos; i = page.find("href=\"", i + 1)) {
    CHECK(page[i + 6] == '#');  // links within the page only
  }
  CHECK(page.find("default-src 'none'") != std::string::npos);
}

TEST_CASE("html report: header, system, warnings, failed and busy cells, tables") {
  for (const char* expected :
       {"bench-host", "AMD EPYC 9654", "gcc 12.2.0", "commit</b> 0123456789ab", "2026-12-02T10:00:00Z",
        "id=\"system\"", "id=\"family-embedding\"", "id=\"family-text-generation\"", "Cells not ok (1)",
        "st-busy", "other processes used 1.3 cores", "Paired comparisons", "Model loading", "prefill ms",
        "KV cache MiB", "device peak MiB", "pthread-AMD EPYC", "synthetic (seed 42)"}) {
    CAPTURE(expected);
    CHECK(page.find(expected) != std::string::npos);
  }
  // The run-wide warning is shown once, not again as every cell's note.
  CHECK(count(page, "timings include interference") == 1);
}

TEST_CASE("html report of an empty run, of failed cells only, and of means without medians") {
  RunResult empty;
  const std::string none = html_report(empty);
  CHECK(charts_of(none).empty());
  CHECK(none.find("id=\"system\"") != std::string::npos);
  CHECK(none.find("</html>") != std::string::npos);

  RunResult r;
  for (std::int64_t batch : {1, 2, 4}) {
    auto failed = sample::make_cell("vision", "vit-tiny", "cpu", {{"batch_size", batch}}, 0.01, "images", 1);
    failed.status = CellStatus::failed;
    failed.latency = {};
    failed.message = "bad";
    r.cells.push_back(failed);
    auto mean_only =
        sample::make_cell("audio", "whisper-tiny", "cpu", {{"batch_size", batch}}, 0.02, "audio seconds", 1);
    mean_only.latency.median.reset();
    mean_only.latency.median_ci.reset();
    mean_only.latency.mean_ci = Interval{0.019, 0.021};
    mean_only.throughput.items_per_second = std::nan("");  // drawn nowhere, breaks nothing
    r.cells.push_back(mean_only);
  }
  const std::string html = html_report(r);
  const auto charts = charts_of(html);
  CHECK(find(charts, "latency", "vision").empty());
  CHECK(find(charts, "histogram", "vision").empty());
  CHECK(html.find("Cells not ok (3)") != std::string::npos);
  const auto latency = find(charts, "latency", "audio", "batch_size");
  REQUIRE(latency.size() == 1);
  CHECK(latency[0].number("data-marks") == 3);
  CHECK(html.find("mean latency (ms)") != std::string::npos);
  CHECK(find(charts, "throughput", "audio").empty());
  for (const char* bad : {">nan", "\"nan", "-nan", "nan<", "NaN", ">inf", "\"inf"}) {
    CHECK(html.find(bad) == std::string::npos);
  }
  for (const auto& c : charts) CHECK(c.number("data-marks") == c.marks_found);
}

TEST_CASE("HtmlReporter writes the page to a stream or whole to a file") {
  const auto run = sample::make_run();
  std::ostringstream out;
  HtmlReporter{out}.report(run);
  CHECK(out.str() == page);
  const auto path = std::filesystem::temp_directory_path() / "accelbench-html-report-test" / "report.html";
  std::filesystem::remove_all(path.parent_path());
  HtmlReporter reporter{path};
  static_assert(Reporter<HtmlReporter>);
  reporter.report(run);
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == page);
  std::filesystem::remove_all(path.parent_path());
}

TEST_CASE("history chart: a metric over runs with intervals and the runs' labels") {
  std::vector<HistoryChartPoint> points;
  for (int i = 0; i < 5; ++i) {
    points.push_back({"run <" + std::to_string(i) + ">", 10.0 + i, Interval{9.5 + i, 10.5 + i}});
  }
  points[2].interval.reset();
  const std::string svg = history_chart_svg("bert-tiny median", "ms", points);
  const auto charts = charts_of(svg);
  REQUIRE(charts.size() == 1);
  CHECK(charts[0].get("data-chart") == "history");
  CHECK(charts[0].number("data-series") == 1);
  CHECK(charts[0].number("data-marks") == 5);
  CHECK(charts[0].marks_found == 5);
  CHECK(count(svg, "class=\"err\"") == 4);
  CHECK(svg.find("run &lt;3&gt;") != std::string::npos);
  CHECK(svg.find("run <3>") == std::string::npos);
}

TEST_CASE("html report of a real run's results file (cpu and opencl, three families)") {
  const auto run =
      read_results_file(std::filesystem::path(ACCELBENCH_SOURCE_DIR) / "tests/data/runs/cpu_opencl_small.json");
  const std::string html = html_report(run);
  CHECK(valid_utf8(html));
  const auto charts = charts_of(html);
  for (const auto& c : charts) {
    CAPTURE(c.get("data-chart"));
    CHECK(c.number("data-marks") > 0);
    CHECK(c.number("data-marks") == c.marks_found);
  }
  // 54 cells: embedding (2 models, batch 1, 2, 4 x sequence 16, 64), text
  // generation (2 models, batch 1, 2, 4 x prompt 16, 64), vision (1 model, batch 1, 2, 4).
  CHECK(find(charts, "histogram").size() == 54);
  CHECK(find(charts, "latency", "embedding", "batch_size")[0].number("data-marks") == 12);
  CHECK(find(charts, "latency", "vision", "batch_size")[0].number("data-series") == 2);
  CHECK(find(charts, "phases", "text-generation")[0].number("data-marks") == 48);
  CHECK(find(charts, "hardware", "vision")[0].number("data-marks") == 6);
  CHECK(find(charts, "architecture", "embedding").size() == 1);
  CHECK(find(charts, "speedup", "text-generation").size() == 1);
}

TEST_CASE("chart scales: logarithmic across a decade, linear from zero otherwise") {
  const auto lin = detail::value_scale({3, 7, 9}, ChartScale::automatic, 0, 100);
  CHECK_FALSE(lin.log);
  CHECK(lin.lo == 0);
  CHECK(lin.hi >= 9);
  CHECK(lin.ticks.front() == 0);
  CHECK(lin(lin.hi) == doctest::Approx(100));
  const auto log = detail::value_scale({0.5, 40}, ChartScale::automatic, 0, 100);
  CHECK(log.log);
  CHECK(log.lo < 0.5);
  CHECK(log.hi > 40);
  CHECK(log(log.lo) == doctest::Approx(0));
  CHECK(std::find(log.ticks.begin(), log.ticks.end(), 1.0) != log.ticks.end());
  CHECK(std::find(log.ticks.begin(), log.ticks.end(), 10.0) != log.ticks.end());
  CHECK_FALSE(detail::value_scale({0, 40}, ChartScale::log, 0, 1).log);  // zero cannot be on a log axis
  const auto sweep = detail::data_scale({1, 4, 16, 64, 4}, ChartScale::automatic, 0, 100);
  CHECK(sweep.log);
  CHECK(sweep.ticks == std::vector<double>{1, 4, 16, 64});
  CHECK(sweep(1) == doctest::Approx(0));
  CHECK(sweep(64) == doctest::Approx(100));
}
