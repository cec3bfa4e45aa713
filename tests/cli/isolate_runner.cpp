// A runner whose one family is the test family Spin (tests/unit/spin_family.hpp),
// with presets that crash, hang or run out of memory on purpose, on the cpu
// backend: tests/cli/isolate.py runs `run --isolate` with it. Its second
// backend, spin-device, is the cpu backend described as a device of its own,
// so that `run --parallel` measures on it beside the CPU (tests/cli/fleet.py).

#include <accelbench/cli/main.hpp>

#include "../unit/spin_family.hpp"

namespace {

struct SpinDevice : accelbench::Cpu {
  static constexpr std::string_view name = "spin-device";
  [[nodiscard]] accelbench::DeviceInfo describe() const {
    accelbench::DeviceInfo d = Cpu::describe();
    d.backend = std::string(name);
    d.kind = "accelerator";
    d.name = "spin test device";
    return d;
  }
};

}  // namespace

int main(int argc, char** argv) {
  return accelbench::cli::main<accelbench::TypeList<accelbench::Cpu, SpinDevice>,
                               accelbench::TypeList<accelbench::test::Spin>>(argc, argv);
}
