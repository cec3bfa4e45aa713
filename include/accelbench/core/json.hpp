#pragma once

// The JSON value type of results, suite files, checkpoints' config.json and
// hardware reports: nlohmann's JSON with the order of keys kept.

#include <nlohmann/json.hpp>

namespace accelbench {

using Json = nlohmann::ordered_json;

}  // namespace accelbench
