#pragma once

// Reading a Hugging Face checkpoint folder's config.json: one typed field
// reader for every architecture, with errors that name the file, the field
// (with its path inside nested objects) and the value.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/error.hpp"

namespace accelbench {

namespace detail {

inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("weights", "\"" + path.parent_path().string() + "\"", "cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError("weights", "\"" + path.string() + "\"", std::string("not valid JSON: ") + e.what());
  }
}

/// Reads the fields of config.json, or of one object inside it, naming the
/// file and the field in every error.
class HfConfigReader {
 public:
  explicit HfConfigReader(std::filesystem::path path)
      : path_(std::move(path)), document_(std::make_shared<const nlohmann::json>(read_json_file(path_))),
        json_(document_.get()) {
    if (!json_->is_object()) fail("(root)", json_->dump(), "expected a JSON object");
  }

  /// A reader of the object under `key` (CLIP's text_config, say); its
  /// errors name the field as "key.field". `hint` says what the file should have.
  [[nodiscard]] HfConfigReader object(const std::string& key, const std::string& hint) const {
    if (!has(key)) fail(key, "(missing)", "expected an object (" + hint + ")");
    const nlohmann::json& inner = get(key);
    if (!inner.is_object()) fail(key, inner.dump(), "expected an object");
    HfConfigReader out(*this);
    out.json_ = &inner;
    out.prefix_ = prefix_ + key + ".";
    return out;
  }

  [[nodiscard]] bool has(std::string_view key) const {
    return json_->contains(key) && !json_->at(std::string(key)).is_null();
  }

  [[nodiscard]] int integer(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_number_integer()) fail(key, v.dump(), "expected an integer");
    return v.get<int>();
  }
  [[nodiscard]] int integer(std::string_view key, int fallback) const { return has(key) ? integer(key) : fallback; }

  [[nodiscard]] float number(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_number()) fail(key, v.dump(), "expected a number");
    return v.get<float>();
  }
  [[nodiscard]] float number(std::string_view key, float fallback) const { return has(key) ? number(key) : fallback; }

  [[nodiscard]] std::string text(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_string()) fail(key, v.dump(), "expected a string");
    return v.get<std::string>();
  }
  [[nodiscard]] std::string text(std::string_view key, std::string fallback) const {
    return has(key) ? text(key) : fallback;
  }

  [[nodiscard]] bool boolean(std::string_view key, bool fallback) const {
    if (!has(key)) return fallback;
    const auto& v = get(key);
    if (!v.is_boolean()) fail(key, v.dump(), "expected true or false");
    return v.get<bool>();
  }

  /// A non-empty array of integers (wav2vec2's conv_dim and the like).
  [[nodiscard]] std::vector<int> integers(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_array() || v.empty()) fail(key, v.dump(), "expected a non-empty array of integers");
    std::vector<int> out;
    for (const auto& e : v) {
      if (!e.is_number_integer()) fail(key, v.dump(), "expected a non-empty array of integers");
      out.push_back(e.get<int>());
    }
    return out;
  }

  [[nodiscard]] const nlohmann::json& raw(std::string_view key) const { return get(key); }

  /// Throws unless the text field `key` (default `fallback`) is `expected`.
  void require_text(std::string_view key, const std::string& fallback, std::string_view expected,
                    const std::string& problem) const {
    const std::string v = text(key, fallback);
    if (v != expected) fail(key, "\"" + v + "\"", problem);
  }

  [[noreturn]] void fail(std::string_view key, const std::string& value, const std::string& problem) const {
    throw ConfigError(path_.string() + ": " + prefix_ + std::string(key), value, problem);
  }

 private:
  const nlohmann::json& get(std::string_view key) const {
    if (!has(key)) fail(key, "(missing)", "required by this architecture");
    return json_->at(std::string(key));
  }

  std::filesystem::path path_;
  std::shared_ptr<const nlohmann::json> document_;
  const nlohmann::json* json_;
  std::string prefix_;
};

inline std::filesystem::path checkpoint_file(const std::filesystem::path& dir, const char* name) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) {
    throw ConfigError("weights", "\"" + dir.string() + "\"", "not a folder (expected a Hugging Face checkpoint folder)");
  }
  return dir / name;
}

/// The reader of a checkpoint folder's config.json.
[[nodiscard]] inline HfConfigReader checkpoint_config(const std::filesystem::path& dir) {
  return HfConfigReader(checkpoint_file(dir, "config.json"));
}

}  // namespace detail

/// The name of a preset read from a checkpoint folder: the folder's name
/// (with or without a trailing separator).
[[nodiscard]] inline std::string checkpoint_name(const std::filesystem::path& dir) {
  const std::filesystem::path normal = std::filesystem::path(dir).lexically_normal();
  std::string name = normal.filename().string();
  if (name.empty()) name = normal.parent_path().filename().string();
  return name;
}

}  // namespace accelbench
