// libFuzzer target: a checkpoint folder whose config.json is the input (and
// whose model.safetensors is a small fixed file), resolved for every family
// the way a suite's `models` entry that names a folder is: config_for_model,
// preset_for (F::checkpoint_preset) and F::validate.
// Expected failures: ConfigError (a std::invalid_argument) and
// std::runtime_error (SafetensorsError, JsonTextError, a file that cannot be
// read); anything else is a finding.

#include <accelbench/suite/suite.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz_common.hpp"

namespace {

// A safetensors file with one F32 tensor of 2 values.
constexpr char weights_header[] = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

void write_weights(const std::filesystem::path& path) {
  std::string bytes(8, '\0');
  const std::uint64_t n = sizeof(weights_header) - 1;
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  bytes += weights_header;
  bytes += std::string(8, '\0');
  accelbench::fuzz::write_bytes(path, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

template <class F>
void resolve(const accelbench::Config& config) {
  try {
    F::validate(config, accelbench::detail::preset_for<F>(config));
  } catch (const std::invalid_argument&) {  // ConfigError
  } catch (const std::runtime_error&) {
  }
}

template <class... Fs>
void resolve_all(const accelbench::Config& config, accelbench::TypeList<Fs...>) {
  (resolve<Fs>(config), ...);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const accelbench::fuzz::ScratchDir scratch("checkpoint");
  static const bool weights_written = (write_weights(scratch.path() / "model.safetensors"), true);
  (void)weights_written;
  accelbench::fuzz::write_bytes(scratch.path() / "config.json", data, size);
  const accelbench::Config config = accelbench::detail::config_for_model(accelbench::Config{}, scratch.path().string());
  resolve_all(config, accelbench::KnownFamilies{});
  return 0;
}
