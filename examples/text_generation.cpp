// Greedy generation on the CPU: a preset with synthetic weights, or, given
// a Hugging Face checkpoint folder as the first argument, the real model.
//
//   example_text_generation                      llama-tiny, synthetic weights
//   example_text_generation /models/TinyLlama    that checkpoint's weights

#include <accelbench/accelbench.hpp>

#include <fmt/format.h>

using namespace accelbench;

int main(int argc, char** argv) {
  // [snippet generation]
  Config config{.model = "llama-tiny",
                .batch_sizes = {1, 4},
                .sweep = {{"prompt_lengths", {32}},  // tokens of each prompt
                          {"new_tokens", {16}}},     // tokens generated after it
                .min_time_s = 2.0};
  if (argc > 1) config.weights = argv[1];  // config.json + model.safetensors
  Benchmark<Cpu, TextGeneration> bench{config};
  const RunResult results = bench.run();
  for (const CellResult& cell : results.cells) {
    for (const PhaseResult& phase : cell.phases) {  // "prefill", then "decode"
      // Time to first token, then time per output token, with their rates.
      fmt::print("batch {}: {} median {:.2f} ms, {:.0f} {}/s\n", cell.axis("batch_size").value_or(0), phase.name,
                 phase.latency.median.value_or(0) * 1e3, phase.items_per_second, phase.item_unit);
    }
  }
  // [end snippet]
  bench.report(results);
}
