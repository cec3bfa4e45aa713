#pragma once

// `accelbench run --group NAME --shard I/N`: the group of runs a run
// belongs to and its shard of the suite (suite/shard.hpp), as the options
// give them, checked, and as a journal records them.

#include <fmt/format.h>

#include <optional>
#include <string>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../core/result.hpp"
#include "../suite/shard.hpp"
#include "parse.hpp"

namespace accelbench::cli {

/// A group's name: 1 to 200 characters of letters, digits and . _ - : @ +
/// (it appears in file names, job names and SQL parameters).
inline void check_group_name(const std::string& field, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 200;
  for (const char ch : name) {
    ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                ch == '_' || ch == '-' || ch == ':' || ch == '@' || ch == '+');
  }
  if (!ok) {
    throw ConfigError(field, "\"" + name + "\"",
                      "a group name is 1 to 200 letters, digits and . _ - : @ +, the same for every shard");
  }
}

/// The group and shard that `group` and `shard` (the options' text) name;
/// a shard needs a group, so that the shards of one suite can be joined.
[[nodiscard]] inline RunGroup run_group_of(const std::string& group, const std::string& shard) {
  RunGroup g;
  if (!group.empty()) check_group_name("--group", group);
  g.name = group;
  if (!shard.empty()) {
    const Shard s = parse_shard(shard);
    if (group.empty()) {
      throw UsageError("--shard " + shard +
                       " needs --group NAME, the same for every shard of the suite, so that their results can be "
                       "joined (accelbench report --group NAME)");
    }
    g.shard_index = s.index;
    g.shard_count = s.count;
  }
  return g;
}

/// The group as a journal's header records it (null for none).
[[nodiscard]] inline Json group_to_json(const RunGroup& g) {
  if (g.name.empty()) return nullptr;
  Json j{{"name", g.name}};
  if (g.shard_index) j["shard"] = fmt::format("{}/{}", *g.shard_index, *g.shard_count);
  return j;
}

/// The group a journal's header records (group_to_json's).
[[nodiscard]] inline RunGroup group_from_json(const Json& j) {
  if (!j.is_object()) return {};
  const std::string name = j.value("name", "");
  const std::string shard = j.contains("shard") && j["shard"].is_string() ? j["shard"].get<std::string>() : "";
  return run_group_of(name, shard);
}

/// "-shard2of4" for shard 2/4 (a results file's name), "" for none.
[[nodiscard]] inline std::string shard_suffix(const RunGroup& g) {
  if (!g.shard_index) return "";
  return fmt::format("-shard{}of{}", *g.shard_index, *g.shard_count);
}

}  // namespace accelbench::cli
