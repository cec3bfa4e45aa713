#pragma once

// Reading a Hugging Face checkpoint folder's config.json: one typed field
// reader for every architecture, with errors that name the file, the field
// (with its path inside nested objects) and the value. The reader notes
// every field it is asked about; check_fields then holds the file to the
// architecture's list of fields (ConfigField): each field present is read,
// has no effect on the computation, or is refused unless it has the one
// value that is implemented. A field the list does not name is an error
// unless the user accepted it by name (Config::accept_config_fields).

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/json.hpp"

namespace accelbench {

/// What a config.json field does, in an architecture's list of fields.
enum class FieldRole {
  read,       ///< read by the architecture: it changes the computation and is implemented
  no_effect,  ///< does not change what the benchmark computes (training, generation or head settings)
  refused,    ///< changes the computation in a way that is not implemented: only `allowed` (or absence) passes
};

/// One field of an architecture's config.json, with what it does and why
/// (docs/models.md lists them per architecture).
struct ConfigField {
  std::string name;
  FieldRole role = FieldRole::read;
  std::string note;
  nlohmann::json allowed{};  ///< refused: the value that is implemented

  /// The field's name, or a prefix where the name ends in '*' ("mask_time_*").
  [[nodiscard]] bool matches(std::string_view key) const noexcept {
    if (!name.empty() && name.back() == '*') return key.starts_with(std::string_view(name).substr(0, name.size() - 1));
    return key == name;
  }

  [[nodiscard]] static ConfigField read(std::string name, std::string note) {
    return {std::move(name), FieldRole::read, std::move(note), {}};
  }
  [[nodiscard]] static ConfigField no_effect(std::string name, std::string note) {
    return {std::move(name), FieldRole::no_effect, std::move(note), {}};
  }
  [[nodiscard]] static ConfigField refused(std::string name, nlohmann::json allowed, std::string note) {
    return {std::move(name), FieldRole::refused, std::move(note), std::move(allowed)};
  }
};
using ConfigFields = std::vector<ConfigField>;

/// The fields every architecture's config.json may carry that do not change
/// the computation, or that are refused unless they keep their usual value.
/// An architecture's own list comes first: a field it names (CLIP reads
/// eos_token_id) is not taken from here.
[[nodiscard]] inline const ConfigFields& common_config_fields() {
  static const ConfigFields fields = [] {
    ConfigFields f;
    for (const char* n : {"architectures", "_name_or_path", "auto_map"}) {
      f.push_back(ConfigField::no_effect(n, "names the classes and the origin of the checkpoint"));
    }
    for (const char* n : {"dtype", "torch_dtype", "transformers_version"}) {
      f.push_back(ConfigField::no_effect(n, "how the checkpoint was saved; accelbench computes in float32"));
    }
    for (const char* n : {"bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "cls_token_id", "mask_token_id"}) {
      f.push_back(ConfigField::no_effect(n, "tokenizer and generation settings; the benchmark feeds token ids itself"));
    }
    for (const char* n : {"initializer_range", "initializer_factor", "init_std"}) {
      f.push_back(ConfigField::no_effect(n, "initialisation of new weights; a checkpoint's weights are read"));
    }
    for (const char* n : {"use_cache", "output_past", "return_dict", "output_hidden_states", "output_attentions",
                          "torchscript", "chunk_size_feed_forward", "use_bfloat16", "tf_legacy_loss"}) {
      f.push_back(ConfigField::no_effect(n, "how transformers returns or schedules the same computation"));
    }
    for (const char* n : {"gradient_checkpointing", "freeze_feat_extract_train"}) {
      f.push_back(ConfigField::no_effect(n, "a training setting"));
    }
    for (const char* n : {"max_length", "min_length", "max_new_tokens", "do_sample", "early_stopping", "num_beams",
                          "num_beam_groups", "diversity_penalty", "temperature", "top_k", "top_p", "typical_p",
                          "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
                          "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences", "output_scores",
                          "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id", "forced_decoder_ids",
                          "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens",
                          "begin_suppress_tokens", "decoder_start_token_id"}) {
      f.push_back(ConfigField::no_effect(n, "a default of generate(); the benchmark's greedy loop takes the plain argmax"));
    }
    for (const char* n : {"id2label", "label2id", "num_labels", "problem_type", "finetuning_task", "task_specific_params",
                          "tokenizer_class", "prefix"}) {
      f.push_back(ConfigField::no_effect(n, "settings of task heads and pipelines, which the benchmark does not run"));
    }
    f.push_back(ConfigField::refused("pruned_heads", nlohmann::json::object(), "pruned attention heads are not implemented"));
    f.push_back(ConfigField::refused("tie_encoder_decoder", false, "an encoder tied to its decoder is not implemented"));
    f.push_back(ConfigField::refused("quantization_config", nullptr, "quantised checkpoints are not implemented"));
    return f;
  }();
  return fields;
}

/// Adds the fields of SpecAugment's masking (speech models), which applies
/// in training only: no effect.
inline void add_spec_augment_fields(ConfigFields& fields) {
  fields.push_back(ConfigField::no_effect("apply_spec_augment", "SpecAugment, in training only"));
  for (const char* n : {"mask_time_*", "mask_feature_*", "mask_channel_*", "no_mask_*"}) {
    fields.push_back(ConfigField::no_effect(n, "SpecAugment, in training only"));
  }
}

/// True for the fields of dropout and layer drop, which are off at
/// inference: any name with "dropout" in it, ending in "_pdrop", or
/// "layerdrop" (also with a prefix, as "encoder_layerdrop").
[[nodiscard]] inline bool is_dropout_field(std::string_view name) noexcept {
  return name.find("dropout") != std::string_view::npos || name.ends_with("_pdrop") || name.ends_with("layerdrop");
}

namespace detail {

inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("weights", "\"" + path.parent_path().string() + "\"", "cannot open " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  try {
    return parse_json_text<nlohmann::json>(text.str());
  } catch (const JsonTextError& e) {
    throw ConfigError("weights", "\"" + path.string() + "\"",
                      std::string("not valid JSON") + (e.field().empty() ? "" : " (at field " + e.field() + ")") +
                          ": " + e.what());
  }
}

/// Reads the fields of config.json, or of one object inside it, naming the
/// file and the field in every error.
class HfConfigReader {
 public:
  /// Reads `path`; `accepted` names fields that no architecture's list
  /// knows but the user chose to accept (Config::accept_config_fields).
  explicit HfConfigReader(std::filesystem::path path, std::vector<std::string> accepted = {})
      : path_(std::move(path)), document_(std::make_shared<const nlohmann::json>(read_json_file(path_))),
        json_(document_.get()), consulted_(std::make_shared<std::set<std::string>>()),
        accepted_(std::make_shared<const std::vector<std::string>>(std::move(accepted))) {
    if (!json_->is_object()) fail("(root)", json_->dump(), "expected a JSON object");
  }

  /// A reader of the object under `key` (CLIP's text_config, say); its
  /// errors name the field as "key.field". `hint` says what the file should have.
  [[nodiscard]] HfConfigReader object(const std::string& key, const std::string& hint) const {
    if (!has(key)) fail(key, "(missing)", "expected an object (" + hint + ")");
    const nlohmann::json& inner = get(key);
    if (!inner.is_object()) fail(key, inner.dump(), "expected an object");
    consulted_->insert(prefix_ + std::string(key));
    HfConfigReader out(*this);
    out.json_ = &inner;
    out.prefix_ = prefix_ + key + ".";
    return out;
  }

  /// True when the field is present and not null; the field counts as read.
  [[nodiscard]] bool has(std::string_view key) const {
    consulted_->insert(prefix_ + std::string(key));
    return json_->contains(key) && !json_->at(std::string(key)).is_null();
  }

  /// True when the field is present, null included (where null and absent
  /// differ: a default for absent, "none" for null); the field counts as read.
  [[nodiscard]] bool present(std::string_view key) const {
    consulted_->insert(prefix_ + std::string(key));
    return json_->contains(key);
  }

  [[nodiscard]] int integer(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_number_integer()) fail(key, v.dump(), "expected an integer");
    if (!fits_int(v)) fail(key, v.dump(), "out of range: expected an integer of at most 2147483647 in magnitude");
    return v.get<int>();
  }
  [[nodiscard]] int integer(std::string_view key, int fallback) const { return has(key) ? integer(key) : fallback; }

  [[nodiscard]] float number(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_number()) fail(key, v.dump(), "expected a number");
    const float f = v.get<float>();
    if (!std::isfinite(f)) fail(key, v.dump(), "out of range: expected a finite number within the range of a float");
    return f;
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
      if (!fits_int(e)) fail(key, v.dump(), "out of range: every value must be at most 2147483647 in magnitude");
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

  /// Holds this object's fields to `fields` (then common_config_fields()):
  /// a refused field must be absent, null or its allowed value; a field the
  /// lists do not name, that the reader was not asked about and that the
  /// user did not accept is an error naming every such field with its
  /// value. A field listed as read that the reader never asked about is a
  /// mistake in the architecture's list (std::logic_error). Call it after
  /// reading.
  void check_fields(const ConfigFields& fields) const {
    std::string unknown, values;
    for (const auto& [key, value] : json_->items()) {
      const ConfigField* rule = find_rule(fields, key);
      const bool asked = consulted_->count(prefix_ + key) != 0;
      if (rule == nullptr) {
        if (asked || is_dropout_field(key) || accepted(key)) continue;
        values += (unknown.empty() ? "" : ", ") + value.dump();
        unknown += (unknown.empty() ? "" : ", ") + prefix_ + key;
        continue;
      }
      switch (rule->role) {
        case FieldRole::read:
          if (!asked) {
            throw std::logic_error(path_.string() + ": " + prefix_ + key +
                                   " is listed as read but the reader did not read it");
          }
          break;
        case FieldRole::no_effect:
          break;
        case FieldRole::refused:
          if (!value.is_null() && value != rule->allowed) fail(key, value.dump(), rule->note);
          break;
      }
    }
    if (!unknown.empty()) {
      throw ConfigError(path_.string() + ": " + unknown, values,
                        "fields this architecture does not know, which may change the computation; accept each "
                        "by name with accept_config_fields (--accept-config-field) to run anyway, recorded in "
                        "the results");
    }
  }

 private:
  static bool fits_int(const nlohmann::json& v) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<int>::max());
    const auto i = v.get<std::int64_t>();
    return i >= std::numeric_limits<int>::min() && i <= std::numeric_limits<int>::max();
  }

  const nlohmann::json& get(std::string_view key) const {
    if (!has(key)) fail(key, "(missing)", "required by this architecture");
    return json_->at(std::string(key));
  }

  static const ConfigField* find_rule(const ConfigFields& fields, std::string_view key) {
    for (const auto& f : fields) {
      if (f.matches(key)) return &f;
    }
    for (const auto& f : common_config_fields()) {
      if (f.matches(key)) return &f;
    }
    return nullptr;
  }

  [[nodiscard]] bool accepted(std::string_view key) const {
    const std::string path = prefix_ + std::string(key);
    return std::find(accepted_->begin(), accepted_->end(), path) != accepted_->end();
  }

  std::filesystem::path path_;
  std::shared_ptr<const nlohmann::json> document_;
  const nlohmann::json* json_;
  std::string prefix_;
  std::shared_ptr<std::set<std::string>> consulted_;  ///< "field" and "object.field" paths asked about
  std::shared_ptr<const std::vector<std::string>> accepted_;
};

inline std::filesystem::path checkpoint_file(const std::filesystem::path& dir, const char* name) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) {
    throw ConfigError("weights", "\"" + dir.string() + "\"", "not a folder (expected a Hugging Face checkpoint folder)");
  }
  return dir / name;
}

/// The reader of a checkpoint folder's config.json; `accepted` as for
/// HfConfigReader.
[[nodiscard]] inline HfConfigReader checkpoint_config(const std::filesystem::path& dir,
                                                      std::vector<std::string> accepted = {}) {
  return HfConfigReader(checkpoint_file(dir, "config.json"), std::move(accepted));
}


/// Why no family reads the checkpoint folder `model`: config.json missing
/// or not JSON (the parser's message, with its position), an unsupported
/// model_type (with what each family reads), or the error of the family
/// that reads its model_type.
[[noreturn]] inline void throw_checkpoint_refusal(const std::string& field, const std::string& model,
                                                  const std::vector<ConfigError>& refusals) {
  const std::string value = "\"" + model + "\"";
  const auto config_json = std::filesystem::path(model) / "config.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(config_json, ec)) {
    throw ConfigError(field, value, "a folder without config.json, so neither a preset nor a Hugging Face checkpoint");
  }
  const auto problem_of = [](const ConfigError& r) {
    const std::string what = r.what();
    const std::string sep = " = " + r.value() + ": ";
    const auto at = what.find(sep);
    return at == std::string::npos ? what : what.substr(at + sep.size());
  };
  std::string unsupported, supported;
  for (const auto& r : refusals) {
    if (!r.field().ends_with("model_type")) {
      // A family reads this model_type (or config.json itself is broken):
      // its reason is the real one.
      throw ConfigError(field, value, r.field() + " = " + r.value() + ": " + problem_of(r));
    }
    if (r.value() != "(missing)" && r.value() != "\"\"") unsupported = r.value();
    const std::string problem = problem_of(r);
    if (problem.find("reads") != std::string::npos || problem.find("expected") != std::string::npos) {
      supported += (supported.empty() ? "" : "; ") + problem;
    }
  }
  throw ConfigError(field, value,
                    (unsupported.empty() ? std::string("config.json names no model_type")
                                         : "unsupported model_type " + unsupported + " in config.json") +
                        "; supported: " + supported);
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
