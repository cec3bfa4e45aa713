// The precompiled Benchmark<Cpu, Multimodal> of accelbench::precompiled.

#include <accelbench/run/precompiled.hpp>

template class accelbench::Benchmark<accelbench::Cpu, accelbench::Multimodal>;
