#pragma once

// Benchmark<B, F>'s message when backend B lacks an op that family F needs:
// in plain English, naming the op set, with the compiler's notes naming the
// op. Which op sets a family needs is read from its Model template: a probe
// backend that lacks exactly one op set (the reference backend with one op
// hidden) cannot name F::Model of a family that needs that set.

#include <type_traits>

#include "../backend/concepts.hpp"
#include "../backend/cpu.hpp"
#include "../family/concepts.hpp"

namespace accelbench::detail {

namespace probe {
struct WithoutEncoderOps : Cpu {
  void attention() = delete;  // hides every attention overload: no op set holds
};
struct WithoutGenerationOps : Cpu {
  void rms_norm() = delete;
};
struct WithoutPerceptionOps : Cpu {
  void conv2d() = delete;
};
static_assert(Backend<WithoutEncoderOps> && !EncoderOps<WithoutEncoderOps>);
static_assert(EncoderOps<WithoutGenerationOps> && !GenerationOps<WithoutGenerationOps> &&
              PerceptionOps<WithoutGenerationOps>);
static_assert(EncoderOps<WithoutPerceptionOps> && GenerationOps<WithoutPerceptionOps> &&
              !PerceptionOps<WithoutPerceptionOps>);
}  // namespace probe

/// F's models need the op set that probe backend P lacks.
template <class F, class P>
inline constexpr bool family_needs_ops_missing_from = !requires { typename F::template Model<P>; };

template <class F, class B, bool needed>
struct require_encoder_ops : std::true_type {};
template <class F, class B>
struct require_encoder_ops<F, B, true> : std::bool_constant<EncoderOps<B>> {
  static_assert(EncoderOps<B>,
                "Benchmark<B, F>: backend B cannot run family F, which needs the op set EncoderOps. "
                "Give B the op that the notes below name (docs/writing-a-backend.md lists every op "
                "of EncoderOps with its arguments), or use a device backend (DeviceRuntime), which "
                "provides every op.");
};

template <class F, class B, bool needed>
struct require_generation_ops : std::true_type {};
template <class F, class B>
struct require_generation_ops<F, B, true> : std::bool_constant<GenerationOps<B>> {
  static_assert(GenerationOps<B>,
                "Benchmark<B, F>: backend B cannot run family F, which needs the op set GenerationOps. "
                "Give B the op that the notes below name (docs/writing-a-backend.md lists every op "
                "of GenerationOps with its arguments), or use a device backend (DeviceRuntime), which "
                "provides every op.");
};

template <class F, class B, bool needed>
struct require_perception_ops : std::true_type {};
template <class F, class B>
struct require_perception_ops<F, B, true> : std::bool_constant<PerceptionOps<B>> {
  static_assert(PerceptionOps<B>,
                "Benchmark<B, F>: backend B cannot run family F, which needs the op set PerceptionOps. "
                "Give B the op that the notes below name (docs/writing-a-backend.md lists every op "
                "of PerceptionOps with its arguments), or use a device backend (DeviceRuntime), which "
                "provides every op.");
};

/// RunsOn<F, B>, asserted where B has the op sets that F needs (it fails
/// then for another reason, which the compiler's notes name).
template <class F, class B, bool has_ops>
struct require_runs_on : std::false_type {};
template <class F, class B>
struct require_runs_on<F, B, true> : std::bool_constant<RunsOn<F, B>> {
  static_assert(RunsOn<F, B>,
                "Benchmark<B, F>: family F cannot run on backend B (RunsOn<F, B> is false): the notes "
                "below name the requirement of RunsOn that fails.");
};

/// True where B has every op set that F needs; otherwise false, after a
/// static_assert whose message names the op set (and the compiler's notes
/// the op).
template <class F, class B>
inline constexpr bool has_ops_for =
    require_encoder_ops<F, B, family_needs_ops_missing_from<F, probe::WithoutEncoderOps>>::value &&
    require_generation_ops<F, B, family_needs_ops_missing_from<F, probe::WithoutGenerationOps>>::value &&
    require_perception_ops<F, B, family_needs_ops_missing_from<F, probe::WithoutPerceptionOps>>::value;

/// Instantiating it checks RunsOn<F, B> through the static_asserts above, so
/// that each failure gets one message in plain English; `checked` is always
/// true.
template <class F, class B>
struct check_runs_on : require_runs_on<F, B, has_ops_for<F, B>> {
  static constexpr bool checked = true;
};

}  // namespace accelbench::detail
