// A backend without rms_norm cannot run the TextGeneration family: Benchmark
// must say so in plain English, naming the op set GenerationOps, and the
// compiler's notes name the backend, the family and the op.
#include <accelbench/accelbench.hpp>

struct NoRmsNorm : accelbench::Cpu {
  void rms_norm() = delete;
};

int main() {
  accelbench::Benchmark<NoRmsNorm, accelbench::TextGeneration> bench{accelbench::Config{}};
  (void)bench;
}
