#pragma once

// Explicit instantiation declarations of the common benchmarks:
// Benchmark<Cpu, F> with the default Stats, Timer and Reporter, for each of
// the library's families. A program that links accelbench::precompiled
// (which defines ACCELBENCH_PRECOMPILED) takes these from that library and
// does not compile the models, the Cpu kernels and the measuring loop again;
// its edit-compile loop is then mostly parsing. Without it nothing changes:
// the header-only library instantiates what a program uses.
//
// The umbrella header includes this one; a program that includes headers one
// by one includes it after them (docs/layout.md).

#if defined(ACCELBENCH_PRECOMPILED)

#include "../backend/cpu.hpp"
#include "../family/audio.hpp"
#include "../family/embedding.hpp"
#include "../family/multimodal.hpp"
#include "../family/text_generation.hpp"
#include "../family/vision.hpp"
#include "../family/audio_text.hpp"
#include "../family/video_text.hpp"
#include "../family/vision_language.hpp"
#include "benchmark.hpp"

namespace accelbench {

extern template class Benchmark<Cpu, Embedding>;
extern template class Benchmark<Cpu, TextGeneration>;
extern template class Benchmark<Cpu, Vision>;
extern template class Benchmark<Cpu, Audio>;
extern template class Benchmark<Cpu, Multimodal>;
extern template class Benchmark<Cpu, VisionLanguage>;
extern template class Benchmark<Cpu, VideoText>;
extern template class Benchmark<Cpu, AudioText>;

}  // namespace accelbench

#endif
