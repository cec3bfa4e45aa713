#pragma once

// Hugging Face checkpoint folders: config.json gives the architecture and
// its dimensions, model.safetensors (or the shards listed in
// model.safetensors.index.json) the weights. Tensor names are mapped onto
// the names the models take: prefixes of task heads ("bert.",
// "transformer.") are removed and tensors no architecture here uses (BERT's
// pooler and masked-LM head, GPT-2's attention-mask buffers) are dropped.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../bert.hpp"
#include "../generative.hpp"
#include "safetensors.hpp"
#include "weights.hpp"

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

/// Reads config.json fields, naming the file and field in every error.
class HfConfigReader {
 public:
  explicit HfConfigReader(std::filesystem::path path) : path_(std::move(path)), json_(read_json_file(path_)) {
    if (!json_.is_object()) fail("(root)", json_.dump(), "expected a JSON object");
  }

  [[nodiscard]] bool has(std::string_view key) const {
    return json_.contains(key) && !json_.at(std::string(key)).is_null();
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

  [[nodiscard]] const nlohmann::json& raw(std::string_view key) const { return get(key); }

  [[noreturn]] void fail(std::string_view key, const std::string& value, const std::string& problem) const {
    throw ConfigError(path_.string() + ": " + std::string(key), value, problem);
  }

 private:
  const nlohmann::json& get(std::string_view key) const {
    if (!has(key)) fail(key, "(missing)", "required by this architecture");
    return json_.at(std::string(key));
  }

  std::filesystem::path path_;
  nlohmann::json json_;
};

inline std::filesystem::path checkpoint_file(const std::filesystem::path& dir, const char* name) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) {
    throw ConfigError("weights", "\"" + dir.string() + "\"", "not a folder (expected a Hugging Face checkpoint folder)");
  }
  return dir / name;
}

}  // namespace detail

/// Every floating-point tensor of a checkpoint folder, by its stored name:
/// model.safetensors, or every shard named by model.safetensors.index.json.
[[nodiscard]] inline WeightMap read_checkpoint_tensors(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const fs::path single = detail::checkpoint_file(dir, "model.safetensors");
  if (fs::exists(single)) return read_weights(SafetensorsFile::open(single));
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (!fs::exists(index_path)) {
    throw ConfigError("weights", "\"" + dir.string() + "\"",
                      "has neither model.safetensors nor model.safetensors.index.json");
  }
  const nlohmann::json index = detail::read_json_file(index_path);
  if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw ConfigError(index_path.string() + ": weight_map", "(missing)", "expected an object of tensor name -> file");
  }
  std::set<std::string> shards;
  for (const auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string()) throw ConfigError(index_path.string() + ": weight_map." + name, file.dump(), "expected a file name");
    shards.insert(file.get<std::string>());
  }
  WeightMap out;
  for (const auto& shard : shards) {
    WeightMap part = read_weights(SafetensorsFile::open(dir / shard));
    for (const auto& name : part.names()) {
      const HostMatrix& t = part.at(name);
      out.insert(name, part.take(name, t.rows(), t.cols()));
    }
  }
  return out;
}

/// Renames tensors that start with one of `prefixes` (the first that
/// matches is removed) and drops those for which `unused` is true.
template <class Unused>
[[nodiscard]] WeightMap normalize_tensor_names(WeightMap in, const std::vector<std::string_view>& prefixes,
                                               Unused&& unused) {
  WeightMap out;
  for (const auto& name : in.names()) {
    std::string_view n = name;
    for (const auto prefix : prefixes) {
      if (n.starts_with(prefix)) {
        n.remove_prefix(prefix.size());
        break;
      }
    }
    if (unused(n)) continue;
    const HostMatrix& t = in.at(name);
    out.insert(std::string(n), in.take(name, t.rows(), t.cols()));
  }
  return out;
}

/// BertConfig from a checkpoint's config.json (model_type "bert"); the
/// preset is named after the folder.
[[nodiscard]] inline BertConfig bert_config_from_checkpoint(const std::filesystem::path& dir) {
  const detail::HfConfigReader c(detail::checkpoint_file(dir, "config.json"));
  const std::string type = c.text("model_type");
  if (type != "bert") c.fail("model_type", "\"" + type + "\"", "the embedding family reads BERT checkpoints (\"bert\")");
  const std::string act = c.text("hidden_act", "gelu");
  if (act != "gelu") c.fail("hidden_act", "\"" + act + "\"", "only BERT's erf GELU (\"gelu\") is implemented");
  BertConfig b;
  b.name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (b.name.empty()) b.name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  b.layers = c.integer("num_hidden_layers");
  b.hidden = c.integer("hidden_size");
  b.heads = c.integer("num_attention_heads");
  b.intermediate = c.integer("intermediate_size");
  b.vocab_size = c.integer("vocab_size");
  b.max_positions = c.integer("max_position_embeddings");
  b.type_vocab_size = c.integer("type_vocab_size", 2);
  b.layer_norm_eps = c.number("layer_norm_eps", 1e-12f);
  validate_bert_config(b);
  return b;
}

/// A BERT checkpoint's weights under BertModel's names.
[[nodiscard]] inline WeightMap bert_weights_from_checkpoint(const std::filesystem::path& dir) {
  return normalize_tensor_names(read_checkpoint_tensors(dir), {"bert."}, [](std::string_view n) {
    return n.starts_with("pooler.") || n.starts_with("cls.") || n.ends_with("position_ids");
  });
}

/// GenerativeConfig from a checkpoint's config.json (model_type "gpt2",
/// "llama", "qwen2" or "t5").
[[nodiscard]] inline GenerativeConfig generative_config_from_checkpoint(const std::filesystem::path& dir) {
  const detail::HfConfigReader c(detail::checkpoint_file(dir, "config.json"));
  GenerativeConfig g;
  g.name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (g.name.empty()) g.name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  g.architecture = c.text("model_type");
  if (g.architecture == "gpt2") {
    const std::string act = c.text("activation_function", "gelu_new");
    if (act != "gelu_new") c.fail("activation_function", "\"" + act + "\"", "only GPT-2's tanh GELU (\"gelu_new\") is implemented");
    g.layers = c.integer("n_layer");
    g.hidden = c.integer("n_embd");
    g.heads = c.integer("n_head");
    g.intermediate = c.integer("n_inner", 4 * g.hidden);
    g.vocab_size = c.integer("vocab_size");
    g.max_positions = c.integer("n_positions");
    g.norm_eps = c.number("layer_norm_epsilon", 1e-5f);
    g.qkv_bias = true;
    g.tied_embeddings = true;
  } else if (g.architecture == "llama" || g.architecture == "qwen2") {
    const std::string act = c.text("hidden_act", "silu");
    if (act != "silu") c.fail("hidden_act", "\"" + act + "\"", "only SwiGLU with SiLU (\"silu\") is implemented");
    if (c.has("rope_scaling")) c.fail("rope_scaling", c.raw("rope_scaling").dump(), "scaled rotary embeddings are not implemented");
    g.layers = c.integer("num_hidden_layers");
    g.hidden = c.integer("hidden_size");
    g.heads = c.integer("num_attention_heads");
    g.kv_heads = c.integer("num_key_value_heads", g.heads);
    g.head_dim = c.integer("head_dim", 0);
    g.intermediate = c.integer("intermediate_size");
    g.vocab_size = c.integer("vocab_size");
    g.max_positions = c.integer("max_position_embeddings");
    g.norm_eps = c.number("rms_norm_eps", 1e-6f);
    // transformers 5 moved rope_theta into rope_parameters.
    if (c.has("rope_theta")) {
      g.rope_theta = c.number("rope_theta");
    } else if (c.has("rope_parameters")) {
      const auto& rp = c.raw("rope_parameters");
      if (!rp.is_object() || !rp.contains("rope_theta") || !rp["rope_theta"].is_number()) {
        c.fail("rope_parameters", rp.dump(), "expected an object with a numeric rope_theta");
      }
      if (rp.contains("rope_type") && rp["rope_type"] != "default") {
        c.fail("rope_parameters.rope_type", rp["rope_type"].dump(), "only the default rotary embedding is implemented");
      }
      g.rope_theta = rp["rope_theta"].get<float>();
    }
    g.qkv_bias = g.architecture == "qwen2" ? true : c.boolean("attention_bias", false);
    g.tied_embeddings = c.boolean("tie_word_embeddings", g.architecture == "qwen2");
  } else if (g.architecture == "t5") {
    const std::string ff = c.text("feed_forward_proj", "relu");
    if (ff != "relu") c.fail("feed_forward_proj", "\"" + ff + "\"", "only the original T5's ReLU feed-forward is implemented");
    g.layers = c.integer("num_layers");
    g.decoder_layers = c.integer("num_decoder_layers", g.layers);
    g.hidden = c.integer("d_model");
    g.heads = c.integer("num_heads");
    g.head_dim = c.integer("d_kv");
    g.intermediate = c.integer("d_ff");
    g.vocab_size = c.integer("vocab_size");
    g.norm_eps = c.number("layer_norm_epsilon", 1e-6f);
    g.relative_buckets = c.integer("relative_attention_num_buckets", 32);
    g.relative_max_distance = c.integer("relative_attention_max_distance", 128);
    g.decoder_start_token = c.integer("decoder_start_token_id", 0);
    g.tied_embeddings = c.boolean("tie_word_embeddings", true);
  } else {
    c.fail("model_type", "\"" + g.architecture + "\"", "the text-generation family reads gpt2, llama, qwen2 and t5 checkpoints");
  }
  validate_generative_config(g);
  return g;
}

/// A generative checkpoint's weights under the names the models take.
[[nodiscard]] inline WeightMap generative_weights_from_checkpoint(const std::filesystem::path& dir,
                                                                   const GenerativeConfig& config) {
  if (config.is_gpt2()) {
    return normalize_tensor_names(read_checkpoint_tensors(dir), {"transformer."}, [](std::string_view n) {
      return n.ends_with(".attn.bias") || n.ends_with(".attn.masked_bias");
    });
  }
  return normalize_tensor_names(read_checkpoint_tensors(dir), {}, [](std::string_view n) {
    return n.ends_with("rotary_emb.inv_freq");
  });
}

}  // namespace accelbench
