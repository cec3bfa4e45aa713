// The build against the CPU it runs on: vector extensions the CPU has and the
// build lacks, and a build without OpenMP, are run-wide warnings.

#include <doctest/doctest.h>

#include <accelbench/machine/environment.hpp>
#include <accelbench/report/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace accelbench;

namespace {

BuildInfo build_with(std::vector<std::string> simd, bool openmp = true) {
  BuildInfo b;
  b.simd = std::move(simd);
  b.openmp = openmp;
  b.eigen_simd = "SSE, SSE2";
  return b;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("build against CPU: the CPU's vector extensions the build lacks, named") {
  const std::vector<std::string> avx512_cpu = {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw"};

  const auto sse2 = build_machine_warnings(build_with({}), avx512_cpu);
  REQUIRE(sse2.size() == 1);
  CHECK(contains(sse2[0], "the CPU has sse4_2, avx, avx2, fma, avx512f but the program was compiled without them"));
  CHECK(contains(sse2[0], "(Eigen uses SSE, SSE2)"));
  CHECK(contains(sse2[0], "-march=native"));
  CHECK(contains(sse2[0], "ACCELBENCH_NATIVE"));

  const auto avx2 = build_machine_warnings(build_with({"sse4_2", "avx", "avx2", "fma"}), avx512_cpu);
  REQUIRE(avx2.size() == 1);
  CHECK(contains(avx2[0], "the CPU has avx512f but the program was compiled without it "));

  // Extensions Eigen does not use (avx512bw, f16c) are not asked for.
  CHECK(build_machine_warnings(build_with({"sse4_2", "avx", "avx2", "fma", "avx512f"}), avx512_cpu).empty());
  // A build for more than the CPU has, or a CPU that reports nothing: no warning.
  CHECK(build_machine_warnings(build_with({"sse4_2", "avx", "avx2", "fma", "avx512f"}), {"sse4_2"}).empty());
  CHECK(build_machine_warnings(build_with({}), {}).empty());
  // ARM: Advanced SIMD.
  const auto arm = build_machine_warnings(build_with({}), {"asimd", "sve"});
  REQUIRE(arm.size() == 1);
  CHECK(contains(arm[0], "the CPU has asimd but"));
}

TEST_CASE("build against CPU: a build without OpenMP runs the Cpu backend on one thread") {
  const auto w = build_machine_warnings(build_with({"sse4_2"}, false), {"sse4_2"});
  REQUIRE(w.size() == 1);
  CHECK(contains(w[0], "OpenMP: the program was compiled without it (_OPENMP undefined)"));
  CHECK(contains(w[0], "one thread"));
  CHECK(build_machine_warnings(build_with({"sse4_2"}, true), {"sse4_2"}).empty());
}

TEST_CASE("build against CPU: this build's extensions and OpenMP, in the run's warnings and JSON") {
  const BuildInfo b = build_info();
  CHECK(b.simd == detail::compiled_cpu_features());
#if defined(_OPENMP)
  CHECK(b.openmp);
#else
  CHECK_FALSE(b.openmp);
#endif
#if defined(__AVX2__)
  CHECK(std::find(b.simd.begin(), b.simd.end(), "avx2") != b.simd.end());
  // Eigen 3.4 names AVX2 only beside AVX-512 ("AVX512, FMA, AVX2, AVX, ..."); an AVX2 build says "AVX SSE, ...".
  CHECK(contains(b.eigen_simd, "AVX"));
#endif
  // Names of the CPU's list, in its order.
  auto position = [](const std::string& name) {
    const auto& names = detail::reported_cpu_features();
    return std::find(names.begin(), names.end(), name) - names.begin();
  };
  for (std::size_t i = 0; i < b.simd.size(); ++i) {
    CHECK(position(b.simd[i]) < static_cast<std::ptrdiff_t>(detail::reported_cpu_features().size()));
    if (i > 0) CHECK(position(b.simd[i - 1]) < position(b.simd[i]));
  }

  const RunResult r = describe_run();
  for (const auto& w : build_machine_warnings(r.build, r.system.cpu_features)) {
    CHECK(std::find(r.warnings.begin(), r.warnings.end(), w) != r.warnings.end());
  }
  const Json j = to_json(r);
  CHECK(j.at("build").at("simd") == Json(r.build.simd));
  CHECK(j.at("build").at("openmp") == r.build.openmp);
}
