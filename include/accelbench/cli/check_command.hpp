#pragma once

// accelbench check [--json]: the hardware of this machine (CPU, OpenCL
// platforms and devices, CUDA devices; for what is missing, why) and, for
// every backend the runner knows, whether it can run here. docs/hardware.md
// describes the output.

#include "../backend/hardware.hpp"
#include "../suite/registry.hpp"
#include "parse.hpp"

#include <fmt/format.h>

#include <exception>
#include <iostream>
#include <string>
#include <type_traits>
#include <vector>

namespace accelbench::detail {

/// What `check` says about one backend of the registry.
struct BackendCheck {
  std::string name;
  bool available = false;
  std::string reason;  ///< why not, when not available
  std::string device;  ///< describe().name, when available
};

template <class... Bs>
std::vector<BackendCheck> check_backends(TypeList<Bs...>) {
  std::vector<BackendCheck> out;
  const auto check = [&]<class B>(std::type_identity<B>) {
    BackendCheck c;
    c.name = std::string(B::name);
    try {
      const Availability a = B::available();
      c.available = a.available;
      c.reason = a.reason;
      if (c.available) c.device = B{}.describe().name;
    } catch (const std::exception& e) {
      c.available = false;
      c.reason = std::string("available, but starting it failed: ") + e.what();
    }
    out.push_back(std::move(c));
  };
  (check(std::type_identity<Bs>{}), ...);
  return out;
}

}  // namespace accelbench::detail

namespace accelbench::cli {

/// `accelbench check [--json]`: the hardware here (the CPU, then each
/// backend's own enumeration of its devices, backend/hardware.hpp's
/// describe_machine) and, for each backend of `Backends`, whether it can run.
template <class Backends>
int check_command(bool json) {
  const std::vector<DeviceReport> sections = describe_machine(Backends{});
  const auto backends = detail::check_backends(Backends{});
  if (json) {
    auto j = to_json(sections);
    auto list = Json::array();
    for (const auto& b : backends) {
      list.push_back(Json{{"name", b.name},
                          {"available", b.available},
                          {"reason", detail::optional_text(b.reason)},
                          {"device", detail::optional_text(b.device)}});
    }
    j["backends"] = list;
    std::cout << detail::dump_json(j, 2) << '\n';
    return exit_ok;
  }
  std::cout << format_device_reports(sections) << "\nBackends\n";
  for (const auto& b : backends) {
    std::cout << fmt::format("  {:<20} {}\n", b.name,
                             b.available ? "available: " + b.device : "not available: " + b.reason);
  }
  return exit_ok;
}

}  // namespace accelbench::cli
