// The precompiled Benchmark<Cpu, VisionLanguage> of accelbench::precompiled.

#include <accelbench/run/precompiled.hpp>

template class accelbench::Benchmark<accelbench::Cpu, accelbench::VisionLanguage>;
