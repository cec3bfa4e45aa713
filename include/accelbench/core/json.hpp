#pragma once

// The JSON value type of results, suite files, checkpoints' config.json and
// hardware reports: nlohmann's JSON with the order of keys kept.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <type_traits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace accelbench {

using Json = nlohmann::ordered_json;

/// The deepest nesting of arrays and objects accepted in any JSON the
/// library reads (suite files, config.json, safetensors headers): deeper
/// text is refused while it is parsed, before anything recurses over it.
inline constexpr int max_json_depth = 64;

/// A JSON text that cannot be read: not JSON, a number out of range or
/// nesting deeper than max_json_depth. `field()` is the path of object keys
/// ("a.b") where the parser stopped, empty at the top; `what()` says what is
/// wrong and where (line and column, or byte).
class JsonTextError : public std::runtime_error {
 public:
  JsonTextError(std::string field, const std::string& problem, std::string value = {})
      : std::runtime_error(problem), field_(std::move(field)), value_(std::move(value)) {}
  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  /// The offending text where the parser quotes it (a number out of range), else empty.
  [[nodiscard]] const std::string& value() const noexcept { return value_; }

 private:
  std::string field_;
  std::string value_;
};

namespace detail {

/// A value, or null where it is absent.
template <class T>
Json optional_value(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

/// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
inline std::string json_exception_text(const nlohmann::json::exception& e) {
  std::string_view why = e.what();
  if (const auto bracket = why.find("] "); why.starts_with("[json.exception.") && bracket != why.npos) {
    why.remove_prefix(bracket + 2);
  }
  return std::string(why);
}

/// Parses `text` as J (Json or nlohmann::json), refusing nesting deeper
/// than max_json_depth; `also` (optional) sees every parse event as
/// nlohmann's parser callback does. Every failure is a JsonTextError that
/// names the field being read when it happened.
template <class J = Json, class Callback = std::nullptr_t>
[[nodiscard]] J parse_json_text(std::string_view text, Callback also = nullptr) {
  std::vector<std::string> keys;  // the key of each open object, by depth
  const typename J::parser_callback_t guard = [&](int depth, typename J::parse_event_t event, J& parsed) {
    using E = typename J::parse_event_t;
    if (event == E::object_start || event == E::array_start) {
      if (depth >= max_json_depth) {
        std::string field;
        for (const auto& k : keys) field += (field.empty() ? "" : ".") + k;
        throw JsonTextError(field, "nesting deeper than " + std::to_string(max_json_depth) +
                                       " arrays and objects");
      }
    } else if (event == E::key && depth >= 1 && parsed.is_string()) {
      keys.resize(static_cast<std::size_t>(depth));
      keys.back() = parsed.template get<std::string>();
    } else if (event == E::object_end) {
      if (keys.size() > static_cast<std::size_t>(depth)) keys.resize(static_cast<std::size_t>(depth));
    }
    if constexpr (!std::is_same_v<Callback, std::nullptr_t>) {
      return also(depth, event, parsed);
    } else {
      return true;
    }
  };
  const auto field = [&] {
    std::string f;
    for (const auto& k : keys) f += (f.empty() ? "" : ".") + k;
    return f;
  };
  try {
    return J::parse(text.begin(), text.end(), guard);
  } catch (const nlohmann::json::out_of_range& e) {
    // "number overflow parsing '1e999'": the number is between the quotes.
    const std::string why = json_exception_text(e);
    const auto open = why.find('\'');
    const auto close = open == std::string::npos ? open : why.find('\'', open + 1);
    throw JsonTextError(field(), why + " (beyond the range of a double or a 64-bit integer)",
                        close == std::string::npos ? std::string() : why.substr(open + 1, close - open - 1));
  } catch (const nlohmann::json::exception& e) {
    throw JsonTextError(field(), json_exception_text(e));
  }
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
