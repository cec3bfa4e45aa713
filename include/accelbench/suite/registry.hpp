#pragma once

// Registries: compile-time lists of the policies that a suite, the
// compatibility matrix and the `accelbench` command can name at run time
// (by each policy's `name`). They are template parameters of run_suite,
// compatibility_matrix and cli::main, with the lists below as defaults; a
// program adds its own backend or family by passing a longer list:
//
//   using MyBackends = accelbench::append_t<accelbench::KnownBackends, MyBackend>;
//   accelbench::run_suite<MyBackends>(suite);

#include <string>
#include <string_view>
#include <type_traits>

#include "../backend/cpu.hpp"
#include "../core/type_list.hpp"
#if defined(ACCELBENCH_WITH_OPENCL)
#include "../backend/opencl.hpp"
#endif
#if defined(ACCELBENCH_WITH_CUDA) && defined(__CUDACC__)
#include "../backend/cuda.cuh"
#endif
#include "../family/audio.hpp"
#include "../family/embedding.hpp"
#include "../family/multimodal.hpp"
#include "../family/text_generation.hpp"
#include "../family/vision.hpp"
#include "../family/audio_text.hpp"
#include "../family/video_text.hpp"
#include "../family/vision_language.hpp"
#include "../measure/stats/mean_stats.hpp"
#include "../measure/stats/percentile_stats.hpp"
#include "../measure/timer/cpu_timer.hpp"
#include "../measure/timer/perf_counter_timer.hpp"
#include "../measure/timer/steady_timer.hpp"
#include "../measure/timer/tsc_timer.hpp"

namespace accelbench {

/// The backends of this library. OpenCL is known where the program links
/// accelbench::opencl (ACCELBENCH_WITH_OPENCL), Cuda where it is compiled by
/// nvcc with accelbench::cuda.
using KnownBackends = TypeList<Cpu
#if defined(ACCELBENCH_WITH_OPENCL)
                               ,
                               OpenCL
#endif
#if defined(ACCELBENCH_WITH_CUDA) && defined(__CUDACC__)
                               ,
                               Cuda
#endif
                               >;
/// The model families of this library.
using KnownFamilies = TypeList<Embedding, TextGeneration, Vision, Audio, Multimodal, VisionLanguage, VideoText,
                              AudioText>;
using KnownStats = TypeList<PercentileStats, MeanStats>;
using KnownTimers = TypeList<SteadyTimer, ProcessCpuTimer, ThreadCpuTimer, TscTimer, PerfCounterTimer>;

namespace detail {

/// Calls f(std::type_identity<T>{}) for the T of the list whose `name` is
/// `name`; false when there is none.
template <class... Ts, class F>
bool find_by_name(TypeList<Ts...>, std::string_view name, F&& f) {
  return ((Ts::name == name ? (f(std::type_identity<Ts>{}), true) : false) || ...);
}

/// "cpu, opencl": the names of the list, in its order.
template <class... Ts>
std::string names_of(TypeList<Ts...>) {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + std::string(Ts::name)), ...);
  return out;
}

}  // namespace detail
}  // namespace accelbench
