#pragma once

// Hugging Face checkpoint folders: config.json gives the architecture and
// its dimensions (config_json.hpp), model.safetensors (or the shards listed
// in model.safetensors.index.json) the weights. Each architecture's file
// maps the stored tensor names onto the names its model takes with
// normalize_tensor_names: prefixes of task heads ("bert.", "transformer.")
// are removed and tensors it does not use are dropped.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "config_json.hpp"
#include "safetensors.hpp"
#include "weights.hpp"

namespace accelbench {

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
    for (const auto& name : part.names()) part.move_to(name, out, name);
  }
  return out;
}

/// A checkpoint tensor that an architecture leaves out on purpose, with the
/// reason (docs/models.md lists them): matched by its whole name, a prefix or
/// a suffix, after the checkpoint's model prefix is removed.
struct UnusedTensor {
  enum class Match { name, prefix, suffix };
  Match match = Match::name;
  std::string_view text;
  std::string_view reason;

  [[nodiscard]] bool matches(std::string_view n) const noexcept {
    switch (match) {
      case Match::name: return n == text;
      case Match::prefix: return n.starts_with(text);
      case Match::suffix: return n.ends_with(text);
    }
    return false;
  }
  /// "pooler.*", "*.attn.bias" or the name.
  [[nodiscard]] std::string pattern() const {
    switch (match) {
      case Match::prefix: return std::string(text) + "*";
      case Match::suffix: return "*" + std::string(text);
      case Match::name: break;
    }
    return std::string(text);
  }
};
using UnusedTensors = std::vector<UnusedTensor>;

[[nodiscard]] constexpr UnusedTensor unused_prefix(std::string_view text, std::string_view reason) noexcept {
  return {UnusedTensor::Match::prefix, text, reason};
}
[[nodiscard]] constexpr UnusedTensor unused_suffix(std::string_view text, std::string_view reason) noexcept {
  return {UnusedTensor::Match::suffix, text, reason};
}
[[nodiscard]] constexpr UnusedTensor unused_name(std::string_view text, std::string_view reason) noexcept {
  return {UnusedTensor::Match::name, text, reason};
}

/// Renames tensors that start with one of `prefixes` (the first that
/// matches is removed) and drops those that `unused` lists. Every other
/// tensor is kept for the model, which must take it (WeightUploader::finish).
[[nodiscard]] inline WeightMap normalize_tensor_names(WeightMap in, const std::vector<std::string_view>& prefixes,
                                                      const UnusedTensors& unused) {
  WeightMap out;
  for (const auto& name : in.names()) {
    std::string_view n = name;
    for (const auto prefix : prefixes) {
      if (n.starts_with(prefix)) {
        n.remove_prefix(prefix.size());
        break;
      }
    }
    bool drop = false;
    for (const auto& u : unused) drop = drop || u.matches(n);
    if (drop) continue;
    in.move_to(name, out, std::string(n));
  }
  return out;
}

/// A checkpoint folder's tensors under the names a model takes (see
/// normalize_tensor_names).
[[nodiscard]] inline WeightMap checkpoint_tensors(const std::filesystem::path& dir,
                                                  const std::vector<std::string_view>& prefixes,
                                                  const UnusedTensors& unused) {
  return normalize_tensor_names(read_checkpoint_tensors(dir), prefixes, unused);
}

namespace detail {

/// A 4-D convolution weight [out, channels, k, k] arrives from safetensors
/// as [out * channels * k, k]; the same values as [out, channels * k * k],
/// the layout conv2d takes. A tensor already in that layout is kept.
inline void reshape_conv2d_weight(WeightMap& w, const std::string& name, Eigen::Index out, Eigen::Index channels,
                                  Eigen::Index k) {
  if (!w.contains(name)) return;
  const HostMatrix& t = w.at(name);
  if (t.rows() == out * channels * k && t.cols() == k && !(t.rows() == out && t.cols() == channels * k * k)) {
    HostMatrix m = w.take(name, t.rows(), t.cols());
    HostMatrix r = Eigen::Map<const HostMatrix>(m.data(), out, channels * k * k);
    w.insert(name, std::move(r));
  }
}

}  // namespace detail

}  // namespace accelbench
