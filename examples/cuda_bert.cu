// BERT-base on an NVIDIA GPU through the Cuda backend: batch sizes 1 and 8
// at sequence length 128, each cell verified against the Cpu backend. On a
// machine without a usable GPU it prints the cells as unavailable, with the
// CUDA runtime's reason, and exits 0.
//
//   example_cuda_bert                               bert-base-uncased, batch 1 and 8
//   example_cuda_bert --model bert-tiny --batch 1,4,16
//   example_cuda_bert --weights /models/bert        a Hugging Face checkpoint folder
//
// The device is ACCELBENCH_CUDA_DEVICE (an index), else device 0.

#include <accelbench/backend/cuda.cuh>
#include <accelbench/accelbench.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

using namespace accelbench;

namespace {

std::vector<int> parse_sizes(const std::string& list) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    out.push_back(std::stoi(list.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  // [snippet cuda]
  Config config{.model = "bert-base-uncased", .batch_sizes = {1, 8}, .sweep = {{"sequence_lengths", {128}}}};
  // [end snippet]
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--model") {
      config.model = argv[i + 1];
    } else if (flag == "--weights") {
      config.weights = argv[i + 1];
    } else if (flag == "--batch") {
      config.batch_sizes = parse_sizes(argv[i + 1]);
    } else {
      fmt::print(stderr, "unknown flag {} (flags: --model NAME, --weights FOLDER, --batch 1,8)\n", flag);
      return 2;
    }
  }
  if (argc % 2 == 0) {
    fmt::print(stderr, "{} needs a value\n", argv[argc - 1]);
    return 2;
  }

  // [snippet cuda]
  Benchmark<Cuda, Embedding, PercentileStats> bench{config};
  const RunResult results = bench.run();  // without a GPU: each cell "unavailable", with the reason
  ConsoleReporter{}.report(results);
  // [end snippet]

  for (const CellResult& cell : results.cells) {
    if (cell.status != CellStatus::ok && cell.status != CellStatus::unavailable) return 1;
  }
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "example_cuda_bert: {}\n", e.what());
  return 2;
}
