#pragma once

// The checks' vocabulary of <accelbench/testing/conformance.hpp>: a check's
// result, the sink it goes to, the Checker that compares a backend's output
// with Cpu's, and the random inputs.

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <utility>

#include "../core/tensor.hpp"

namespace accelbench::testing {

/// The outcome of one check.
struct CheckResult {
  std::string name;     ///< what was checked: "linear without bias", "bert: cell 1"
  bool passed = false;
  std::string detail;   ///< the error figures, or why it failed
};

/// Receives each CheckResult as it is made.
using CheckSink = std::function<void(const CheckResult&)>;

/// Uniform random values in [-scale, scale], the same for the same seed.
inline HostMatrix random_matrix(long rows, long cols, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  HostMatrix m(rows, cols);
  for (long i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

/// Makes the checks and passes each result to a sink.
class Checker {
 public:
  explicit Checker(CheckSink sink, double tolerance = 2e-5) : sink_(std::move(sink)), tolerance_(tolerance) {}

  /// The largest difference relative to the largest reference magnitude (or
  /// absolute below 1) is at most the tolerance; the shapes agree.
  void matches(const std::string& what, const HostMatrix& got, const HostMatrix& expected) {
    if (got.rows() != expected.rows() || got.cols() != expected.cols()) {
      report(what, false, shape(got) + " where Cpu gives " + shape(expected));
      return;
    }
    if (got.size() == 0) {
      report(what, true, "empty, as on Cpu");
      return;
    }
    const double err = static_cast<double>((got - expected).cwiseAbs().maxCoeff());
    const double scale = std::max(1.0, static_cast<double>(expected.cwiseAbs().maxCoeff()));
    std::ostringstream s;
    s << "max abs error " << err << ", reference magnitude " << scale << " (relative tolerance " << tolerance_ << ")";
    report(what, err / scale <= tolerance_, s.str());  // false for NaN too
  }

  void expect(const std::string& what, bool ok, const std::string& otherwise) {
    report(what, ok, ok ? std::string() : otherwise);
  }

  /// f() throws an E.
  template <class E, class F>
  void throws(const std::string& what, F&& f) {
    try {
      f();
    } catch (const E&) {
      report(what, true, {});
      return;
    } catch (const std::exception& e) {
      report(what, false, std::string("threw another exception: ") + e.what());
      return;
    }
    report(what, false, "did not throw");
  }

  void report(const std::string& what, bool passed, std::string detail) {
    sink_(CheckResult{what, passed, std::move(detail)});
  }

 private:
  static std::string shape(const HostMatrix& m) {
    return fmt::format("[{}, {}]", m.rows(), m.cols());
  }
  CheckSink sink_;
  double tolerance_;
};

}  // namespace accelbench::testing
