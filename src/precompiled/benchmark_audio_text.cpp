// The precompiled Benchmark<Cpu, AudioText> of accelbench::precompiled.

#include <accelbench/run/precompiled.hpp>

template class accelbench::Benchmark<accelbench::Cpu, accelbench::AudioText>;
