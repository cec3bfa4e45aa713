// A backend with no attention op cannot run the Embedding family: Benchmark
// must reject it, naming RunsOn (and, below it, EncoderOps).
#include <accelbench/accelbench.hpp>

struct NoAttention : accelbench::Cpu {
  void attention() = delete;
};

int main() {
  accelbench::Benchmark<NoAttention, accelbench::Embedding> bench{accelbench::Config{}};
  (void)bench;
}
