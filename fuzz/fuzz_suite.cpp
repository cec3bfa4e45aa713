// libFuzzer target: a suite file's text as `accelbench run --suite FILE`
// reads it: parse_json_text (bounded nesting), parse_suite, validate_suite,
// and suite_to_json of what it accepts read back the same.
// Expected failures: ConfigError (a std::invalid_argument) and
// std::runtime_error (JsonTextError, SafetensorsError for a checkpoint
// folder); anything else is a finding.

#include <accelbench/suite/suite_json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto json = accelbench::detail::parse_json_text<accelbench::Json>(text);
    const accelbench::Suite suite = accelbench::parse_suite(json);
    accelbench::validate_suite(suite);
    // A valid suite written back reads back as the same suite.
    const accelbench::Json written = accelbench::suite_to_json(suite);
    const accelbench::Suite again = accelbench::parse_suite(written);
    if (accelbench::suite_to_json(again) != written) std::abort();
  } catch (const std::invalid_argument&) {  // ConfigError
  } catch (const std::runtime_error&) {
  }
  return 0;
}
