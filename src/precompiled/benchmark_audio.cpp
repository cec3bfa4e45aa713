// The precompiled Benchmark<Cpu, Audio> of accelbench::precompiled.

#include <accelbench/run/precompiled.hpp>

template class accelbench::Benchmark<accelbench::Cpu, accelbench::Audio>;
