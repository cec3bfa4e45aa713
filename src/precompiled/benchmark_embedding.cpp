// The precompiled Benchmark<Cpu, Embedding> of accelbench::precompiled.

#include <accelbench/run/precompiled.hpp>

template class accelbench::Benchmark<accelbench::Cpu, accelbench::Embedding>;
