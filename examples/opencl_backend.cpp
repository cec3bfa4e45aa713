// The same benchmark on an OpenCL device: a GPU where one is installed, the
// CPU through PoCL otherwise. Every cell's output is verified against the
// Cpu reference, and the OpenCL event timer times the device's work.
// Build against accelbench::opencl.

#include <accelbench/accelbench.hpp>
#include <accelbench/backend/opencl.hpp>

#include <iostream>

using namespace accelbench;

int main() {
  // [snippet opencl]
  if (const Availability a = OpenCL::available(); !a) std::cerr << "no OpenCL device: " << a.reason << '\n';
  OpenCL device{};  // ACCELBENCH_OPENCL_DEVICE="platform:device" picks one
  Benchmark<OpenCL, Embedding> bench{
      {.model = "bert-tiny", .batch_sizes = {1, 8}, .sweep = {{"sequence_lengths", {128}}}}, std::move(device)};
  const RunResult results = bench.run();  // status "unavailable" without a device
  ConsoleReporter{}.report(results);
  // [end snippet]
  return results.cells.empty() ? 1 : 0;
}
