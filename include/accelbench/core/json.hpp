#pragma once

// The JSON value type of results, suite files, checkpoints' config.json and
// hardware reports: nlohmann's JSON with the order of keys kept.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace accelbench {

using Json = nlohmann::ordered_json;

namespace detail {

/// The value, or null when there is none.
template <class T>
Json optional_value(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

/// The text, or null when it is empty.
inline Json optional_text(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

}  // namespace detail

}  // namespace accelbench
