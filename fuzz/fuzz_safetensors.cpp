// libFuzzer target: a safetensors file of arbitrary bytes through
// SafetensorsFile (the 8-byte length, the JSON header, the data offsets) and
// each tensor it accepts read back as a matrix or as indices.
// Expected failures: SafetensorsError (a std::runtime_error) naming the file;
// anything else (a crash, a sanitizer report, another exception) is a finding.

#include <accelbench/model/common/safetensors.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const accelbench::fuzz::ScratchDir scratch("safetensors");
  const auto path = scratch.path() / "model.safetensors";
  accelbench::fuzz::write_bytes(path, data, size);
  try {
    const auto file = accelbench::SafetensorsFile::open(path);
    // A few tensors: each read opens the file again.
    std::size_t read = 0;
    for (const auto& t : file.tensors()) {
      if (++read > 4) break;
      try {
        (void)file.read_matrix(t.name);
      } catch (const std::runtime_error&) {
      }
      try {
        (void)file.read_indices(t.name);
      } catch (const std::runtime_error&) {
      }
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
