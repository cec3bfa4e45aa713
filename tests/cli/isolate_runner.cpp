// A runner whose one family is the test family Spin (tests/unit/spin_family.hpp),
// with presets that crash, hang or run out of memory on purpose, on the cpu
// backend: tests/cli/isolate.py runs `run --isolate` with it.

#include <accelbench/cli/main.hpp>

#include "../unit/spin_family.hpp"

int main(int argc, char** argv) {
  return accelbench::cli::main<accelbench::TypeList<accelbench::Cpu>, accelbench::TypeList<accelbench::test::Spin>>(
      argc, argv);
}
