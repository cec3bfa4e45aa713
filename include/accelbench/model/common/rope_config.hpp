#pragma once

// The rotary embedding's parameters of a Llama, Qwen2 or Mistral
// config.json, read as transformers 5 reads them
// (RotaryEmbeddingConfigMixin in modeling_rope_utils.py), and the RotaryDims
// of a rotary call that a GenerativeConfig asks for.

#include <cmath>
#include <string>

#include "../../backend/op_dims.hpp"
#include "config_json.hpp"
#include "generative_config.hpp"

namespace accelbench {

namespace detail {

/// rope_parameters, or the older rope_scaling, of config.json: rope_type
/// ("type" in older configs) "default", "linear" (factor), "dynamic"
/// (factor) or "llama3" (factor, low_freq_factor, high_freq_factor and
/// original_max_position_embeddings, which defaults to
/// max_position_embeddings), and rope_theta. As in transformers, a non-empty
/// rope_scaling stands for rope_parameters, and rope_theta at the top fills
/// in a rope_theta the object leaves out (default 10000). Every other type
/// ("yarn", "longrope", ...) and every other parameter is refused by name.
/// Reads max_position_embeddings' value from g.max_positions.
inline void read_rope_parameters(const HfConfigReader& c, GenerativeConfig& g) {
  const bool scaling = c.has("rope_scaling") && !(c.raw("rope_scaling").is_object() && c.raw("rope_scaling").empty());
  const bool parameters = c.has("rope_parameters");
  const bool top_theta = c.has("rope_theta");
  g.rope_theta = top_theta ? c.number("rope_theta") : 10000.0f;  // PreTrainedConfig's default_theta
  g.rope_scaling = RotaryScaling::none;
  if (!scaling && !parameters) return;
  const std::string key = scaling ? "rope_scaling" : "rope_parameters";
  const nlohmann::json& rp = c.raw(key);
  if (!rp.is_object()) c.fail(key, rp.dump(), "expected an object");
  std::string type = "default";
  for (const char* name : {"type", "rope_type"}) {  // rope_type wins where both are given
    if (!rp.contains(name)) continue;
    if (!rp[name].is_string()) c.fail(key + "." + name, rp[name].dump(), "expected a string");
    type = rp[name].get<std::string>();
  }
  if (type != "default" && type != "linear" && type != "llama3" && type != "dynamic") {
    c.fail(key + ".rope_type", "\"" + type + "\"",
           "only rope_type \"default\", \"linear\", \"dynamic\" and \"llama3\" are implemented");
  }
  auto number = [&](const char* name) {
    if (!rp.contains(name) || !rp[name].is_number()) {
      c.fail(key + "." + name, rp.contains(name) ? rp[name].dump() : "(missing)",
             "rope_type \"" + type + "\" needs a number");
    }
    return rp[name].get<float>();
  };
  for (const auto& [name, value] : rp.items()) {
    const bool known = name == "rope_type" || name == "type" || name == "rope_theta" ||
                       (type != "default" && name == "factor") ||
                       (type == "llama3" && (name == "low_freq_factor" || name == "high_freq_factor" ||
                                             name == "original_max_position_embeddings"));
    if (!known) {
      c.fail(key + "." + name, value.dump(), "not a parameter of rope_type \"" + type + "\" that is implemented");
    }
  }
  if (scaling && parameters && c.raw("rope_scaling") != c.raw("rope_parameters")) {
    c.fail("rope_scaling", c.raw("rope_scaling").dump(),
           "differs from rope_parameters (transformers takes rope_scaling and ignores rope_parameters)");
  }
  if (rp.contains("rope_theta")) {
    const float theta = number("rope_theta");
    if (top_theta && theta != g.rope_theta) {
      c.fail("rope_theta", c.raw("rope_theta").dump(), "differs from " + key + ".rope_theta (" + rp["rope_theta"].dump() + ")");
    }
    g.rope_theta = theta;
  }
  if (type == "default") return;
  g.rope_factor = number("factor");
  if (type == "linear" || type == "dynamic") {
    g.rope_scaling = type == "linear" ? RotaryScaling::linear : RotaryScaling::dynamic;
    return;
  }
  g.rope_scaling = RotaryScaling::llama3;
  g.rope_low_freq_factor = number("low_freq_factor");
  g.rope_high_freq_factor = number("high_freq_factor");
  g.rope_original_max_positions = g.max_positions;
  if (rp.contains("original_max_position_embeddings")) {
    const auto& v = rp["original_max_position_embeddings"];
    if (!v.is_number_integer()) c.fail(key + ".original_max_position_embeddings", v.dump(), "expected an integer");
    g.rope_original_max_positions = v.get<int>();
  }
}

/// Checks the rotary scaling's parameters of a configuration.
inline void validate_rope_parameters(const FieldCheck& check, const GenerativeConfig& c) {
  check.positive("rope_theta", c.rope_theta);
  if (c.rope_scaling == RotaryScaling::none) return;
  check.positive("rope_factor", c.rope_factor);
  if (c.rope_scaling != RotaryScaling::llama3) return;
  check.positive("rope_original_max_positions", c.rope_original_max_positions);
  if (!(c.rope_high_freq_factor > c.rope_low_freq_factor) || !(c.rope_low_freq_factor > 0.0f)) {
    check.fail("rope_high_freq_factor", std::to_string(c.rope_high_freq_factor),
               "must exceed rope_low_freq_factor (" + std::to_string(c.rope_low_freq_factor) + "), itself positive");
  }
}

}  // namespace detail

/// rope_type "dynamic" (NTK): the theta of the default frequencies for a
/// call whose last position is seq_len - 1. Within max_position_embeddings it
/// is rope_theta; past it, theta * (factor * seq_len / max - (factor - 1))
/// ^ (d / (d - 2)), in float as PyTorch evaluates transformers'
/// _compute_dynamic_ntk_parameters on its tensor seq_len. transformers grows
/// the frequencies with each longer call and keeps them, so one generation
/// from a fresh model (prefill, then each decode step's own length, the
/// cached keys keeping the angles they were written with) is what this
/// computes; a later call of transformers' model shorter than the longest it
/// has seen, yet past max_position_embeddings, would reuse the longer one's.
[[nodiscard]] inline float dynamic_rope_theta(const GenerativeConfig& c, int seq_len) noexcept {
  if (seq_len <= c.max_positions) return c.rope_theta;
  const int d = c.effective_head_dim();
  const float grown = static_cast<float>(seq_len) * static_cast<float>(c.rope_factor) /
                          static_cast<float>(c.max_positions) -
                      static_cast<float>(double(c.rope_factor) - 1.0);
  return c.rope_theta * std::pow(grown, static_cast<float>(double(d) / double(d - 2)));
}

/// The rotary call of `heads` heads over positions start .. start + len - 1
/// of a Llama, Qwen2 or Mistral configuration: its theta and scaling.
[[nodiscard]] inline RotaryDims rotary_dims(const GenerativeConfig& c, int batch, int len, int heads, int start) {
  const bool dynamic = c.rope_scaling == RotaryScaling::dynamic;
  return RotaryDims{.batch = batch,
                    .len = len,
                    .heads = heads,
                    .head_dim = c.effective_head_dim(),
                    .start = start,
                    .theta = dynamic ? dynamic_rope_theta(c, start + len) : c.rope_theta,
                    .scaling = dynamic ? RotaryScaling::none : c.rope_scaling,
                    .factor = c.rope_factor,
                    .low_freq_factor = c.rope_low_freq_factor,
                    .high_freq_factor = c.rope_high_freq_factor,
                    .original_max_positions = c.rope_original_max_positions};
}

}  // namespace accelbench
