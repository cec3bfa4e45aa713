// A family that cannot list the cells of a sweep: Benchmark must reject it,
// naming ModelFamily.
#include <accelbench/accelbench.hpp>

struct NoCells : accelbench::Embedding {
  static void cells() = delete;
};

int main() {
  accelbench::Benchmark<accelbench::Cpu, NoCells> bench{accelbench::Config{}};
  (void)bench;
}
