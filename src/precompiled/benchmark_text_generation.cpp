// The precompiled Benchmark<Cpu, TextGeneration> of accelbench::precompiled.

#include <accelbench/run/precompiled.hpp>

template class accelbench::Benchmark<accelbench::Cpu, accelbench::TextGeneration>;
