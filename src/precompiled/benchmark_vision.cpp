// The precompiled Benchmark<Cpu, Vision> of accelbench::precompiled.

#include <accelbench/run/precompiled.hpp>

template class accelbench::Benchmark<accelbench::Cpu, accelbench::Vision>;
