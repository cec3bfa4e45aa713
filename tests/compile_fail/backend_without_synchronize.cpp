// A backend without synchronize(): Benchmark must reject it, naming Backend.
#include <accelbench/accelbench.hpp>

struct NoSync : accelbench::Cpu {
  void synchronize() = delete;
};

int main() {
  accelbench::Benchmark<NoSync, accelbench::Embedding> bench{accelbench::Config{}};
  (void)bench;
}
