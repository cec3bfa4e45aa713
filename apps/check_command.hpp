#pragma once

// accelbench check [--json]: the hardware of this machine (CPU, OpenCL
// platforms and devices, CUDA devices; for what is missing, why) and, for
// every backend the runner knows, whether it can run here. docs/hardware.md
// describes the output.

#include <accelbench/backend/hardware.hpp>
#include <accelbench/suite/suite.hpp>

#include <fmt/format.h>

#include <exception>
#include <iostream>
#include <string>
#include <type_traits>
#include <vector>

namespace accelbench::detail {

/// What `check` says about one backend of KnownBackends.
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

/// `accelbench check [--json]`; returns the exit status (0, or 2 for an
/// unknown option).
inline int check_command(const std::vector<std::string>& args) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json") {
      json = true;
    } else {
      std::cerr << "accelbench check: unknown option '" << a << "'\n\nusage: accelbench check [--json]\n";
      return 2;
    }
  }
  const auto report = accelbench::detect_hardware();
  const auto backends = accelbench::detail::check_backends(accelbench::KnownBackends{});
  if (json) {
    auto j = accelbench::to_json(report);
    auto list = accelbench::Json::array();
    for (const auto& b : backends) {
      list.push_back(accelbench::Json{{"name", b.name},
                                      {"available", b.available},
                                      {"reason", accelbench::detail::optional_text(b.reason)},
                                      {"device", accelbench::detail::optional_text(b.device)}});
    }
    j["backends"] = list;
    std::cout << j.dump(2) << '\n';
    return 0;
  }
  std::cout << accelbench::format_hardware(report) << "\nBackends\n";
  for (const auto& b : backends) {
    std::cout << fmt::format("  {:<20} {}\n", b.name,
                             b.available ? "available: " + b.device : "not available: " + b.reason);
  }
  return 0;
}
