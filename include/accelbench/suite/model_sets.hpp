#pragma once

// Named sets of models for `accelbench run --models-set`: the key models
// every backend is benchmarked and verified on, a small set for quick runs,
// and a custom set read from a JSON file. A member names its family and
// its model (a preset or a checkpoint folder); a key model the library does
// not implement yet is a member with the reason, which a run reports as
// `unsupported` instead of leaving it out.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../core/json_fields.hpp"
#include "registry.hpp"
#include "suite_types.hpp"

namespace accelbench {

/// One model of a set.
struct ModelSetMember {
  std::string key;     ///< its name in the set ("bert", "llava", ...)
  std::string family;  ///< the family that runs it; empty when unsupported
  std::string model;   ///< preset name or checkpoint folder; empty when unsupported
  std::string unsupported;  ///< why the library cannot run it; empty when it can
};

struct ModelSet {
  std::string name;
  std::vector<ModelSetMember> members;
};

/// The key models: one of each architecture users benchmark first, at the
/// small preset of each (the full ones would take hours on a CPU).
[[nodiscard]] inline ModelSet key_model_set() {
  const auto run = [](std::string key, std::string family, std::string model) {
    return ModelSetMember{std::move(key), std::move(family), std::move(model), {}};
  };
  return {"key",
          {run("bert", "embedding", "bert-tiny"),
           run("clap", "audio-text", "clap-tiny"),
           run("clip", "multimodal", "clip-vit-base-patch32"),
           run("detr", "vision", "detr-tiny"),
           run("llama", "text-generation", "llama-tiny"),
           run("llava", "vision-language", "llava-tiny"),
           run("llava_next", "vision-language", "llava-next-tiny"),
           run("qwen2", "text-generation", "qwen2-tiny"),
           run("t5", "text-generation", "t5-small"),
           run("vit", "vision", "vit-tiny"),
           run("wav2vec2", "audio", "wav2vec2-base"),
           run("whisper", "audio", "whisper-tiny"),
           run("xclip", "video-text", "xclip-tiny")}};
}

/// A set for quick runs: one small model of each kind of input.
[[nodiscard]] inline ModelSet small_model_set() {
  return {"small",
          {{"bert", "embedding", "bert-tiny", {}},
           {"t5", "text-generation", "t5-small", {}},
           {"vit", "vision", "vit-tiny", {}},
           {"whisper", "audio", "whisper-tiny", {}},
           {"clip", "multimodal", "clip-vit-base-patch32", {}}}};
}

/// A custom set from a JSON file: {"name": "...", "models": [{"key": "mine",
/// "family": "text-generation", "model": "llama-tiny" or a checkpoint
/// folder}, ...]}. "name" and "key" are optional (the file's stem, the
/// model); a folder given relative is taken from the file's folder. Every
/// family must be one of `Families`. Errors name the file and the field.
template <class Families = KnownFamilies>
[[nodiscard]] ModelSet custom_model_set(const std::filesystem::path& file) {
  const std::string where = file.string() + ": ";
  std::ifstream in(file);
  if (!in) throw ConfigError("--models-set custom", "\"" + file.string() + "\"", "cannot open the file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Json j;
  try {
    j = detail::parse_json_text<Json>(text);
  } catch (const std::exception& e) {
    throw ConfigError("--models-set custom", "\"" + file.string() + "\"", std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw ConfigError(where + "(top level)", detail::json_text(j), "expected an object with \"models\"");
  for (const auto& [k, v] : j.items()) {
    if (k != "name" && k != "models") {
      throw ConfigError(where + k, detail::json_text(v), "unknown field; a model set has \"name\" and \"models\"");
    }
  }
  ModelSet set;
  set.name = file.stem().string();
  if (j.contains("name")) {
    if (!j["name"].is_string()) throw ConfigError(where + "name", detail::json_text(j["name"]), "expected a string");
    set.name = j["name"].template get<std::string>();
  }
  if (!j.contains("models") || !j["models"].is_array() || j["models"].empty()) {
    throw ConfigError(where + "models", j.contains("models") ? detail::json_text(j["models"]) : "(missing)",
                      "expected a non-empty array of {\"family\": ..., \"model\": ...}");
  }
  for (std::size_t i = 0; i < j["models"].size(); ++i) {
    const Json& m = j["models"][i];
    const std::string field = where + "models[" + std::to_string(i) + "]";
    if (!m.is_object()) throw ConfigError(field, detail::json_text(m), "expected {\"family\": ..., \"model\": ...}");
    ModelSetMember member;
    for (const auto& [k, v] : m.items()) {
      if (k != "key" && k != "family" && k != "model") {
        throw ConfigError(field + "." + k, detail::json_text(v), "unknown field; a member has \"key\", \"family\" and \"model\"");
      }
      if (!v.is_string() || v.template get<std::string>().empty()) {
        throw ConfigError(field + "." + k, detail::json_text(v), "expected a non-empty string");
      }
    }
    if (!m.contains("family") || !m.contains("model")) {
      throw ConfigError(field + "." + (m.contains("family") ? "model" : "family"), "(missing)",
                        "each member names its family and its model (a preset or a checkpoint folder)");
    }
    member.family = m["family"].template get<std::string>();
    if (!detail::find_by_name(Families{}, member.family, [](auto) {})) {
      throw ConfigError(field + ".family", "\"" + member.family + "\"",
                        "unknown family; known: " + detail::names_of(Families{}));
    }
    member.model = m["model"].template get<std::string>();
    const std::filesystem::path folder = file.parent_path() / member.model;
    if (std::filesystem::path(member.model).is_relative() && std::filesystem::is_directory(folder)) {
      member.model = folder.string();
    }
    member.key = m.contains("key") ? m["key"].template get<std::string>() : m["model"].template get<std::string>();
    for (const auto& other : set.members) {
      if (other.key == member.key) throw ConfigError(field + ".key", "\"" + member.key + "\"", "named twice in the set");
    }
    set.members.push_back(std::move(member));
  }
  return set;
}

/// The members of `set` that `picked` names (by key or model), in the set's
/// order; all of them when `picked` is empty. A name the set lacks is a
/// ConfigError naming `flag` and listing the set's keys.
[[nodiscard]] inline ModelSet pick_models(const ModelSet& set, const std::vector<std::string>& picked,
                                          const std::string& flag = "--specific-models") {
  if (picked.empty()) return set;
  for (const auto& name : picked) {
    bool known = false;
    for (const auto& m : set.members) known = known || m.key == name || (!m.model.empty() && m.model == name);
    if (!known) {
      std::string keys;
      for (const auto& m : set.members) keys += (keys.empty() ? "" : ", ") + m.key;
      throw ConfigError(flag, "\"" + name + "\"", "not in the model set " + set.name + " (" + keys + ")");
    }
  }
  ModelSet out{set.name, {}};
  for (const auto& m : set.members) {
    for (const auto& name : picked) {
      if (m.key == name || (!m.model.empty() && m.model == name)) {
        out.members.push_back(m);
        break;
      }
    }
  }
  return out;
}

/// The suite's benchmarks for a set: one entry per family, in the order the
/// families first appear, each with its members' models; the unsupported
/// members go to Suite::unsupported.
inline void set_model_set(Suite& s, const ModelSet& set) {
  s.benchmarks.clear();
  s.unsupported.clear();
  for (const auto& m : set.members) {
    if (!m.unsupported.empty()) {
      s.unsupported.push_back({m.key, m.unsupported});
      continue;
    }
    auto entry = std::find_if(s.benchmarks.begin(), s.benchmarks.end(),
                              [&](const SuiteEntry& e) { return e.family == m.family; });
    if (entry == s.benchmarks.end()) {
      s.benchmarks.push_back({m.family, {}});
      entry = s.benchmarks.end() - 1;
    }
    entry->models.push_back(m.model);
  }
}

}  // namespace accelbench
