// The precompiled Benchmark<Cpu, VideoText> of accelbench::precompiled.

#include <accelbench/run/precompiled.hpp>

template class accelbench::Benchmark<accelbench::Cpu, accelbench::VideoText>;
