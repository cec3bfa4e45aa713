#pragma once

// The JSON value type of results, suite files, checkpoints' config.json and
// hardware reports: nlohmann's JSON with the order of keys kept.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace accelbench {

using Json = nlohmann::ordered_json;

namespace detail {

/// A value, or null where it is absent.
template <class T>
Json optional_value(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

/// A text, or null where it is empty.
inline Json optional_text(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

/// The JSON text of `j`; bytes of its strings that are not valid UTF-8 (a
/// checkpoint folder's name, a message quoting one) become U+FFFD instead of
/// an exception, so that results are always written. Every results file is
/// written through this.
inline std::string dump_json(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

/// `text` with each byte that is not part of valid UTF-8 replaced by U+FFFD,
/// as dump_json writes it.
inline std::string valid_utf8(std::string_view text) {
  return Json::parse(dump_json(Json(std::string(text)))).get<std::string>();
}

}  // namespace detail

}  // namespace accelbench
