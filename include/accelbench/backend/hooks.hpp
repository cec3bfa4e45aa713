#pragma once

// The optional hooks of a backend, each a named concept. accelbench calls a
// hook only where the backend satisfies its concept; a backend that means to
// provide one states it with a static_assert, so a misspelt or mistyped hook
// fails to compile instead of being skipped:
//
//   static_assert(accelbench::HasDeviceKey<MyBackend>);
//
// docs/writing-a-backend.md lists them with what each changes in a report.

#include <concepts>
#include <string>
#include <type_traits>

#include "../core/precision.hpp"
#include "../core/result.hpp"
#include "../core/tensor.hpp"
#include "../machine/device_report.hpp"
#include "../measure/timer/concept.hpp"

namespace accelbench {

/// `B::DefaultTimer`: the Timer a Benchmark on B uses unless told otherwise
/// (a device event timer); SteadyTimer without it.
template <class B>
concept HasDefaultTimer = requires { typename B::DefaultTimer; } && Timer<typename B::DefaultTimer>;

/// `device_key()`: the memory space the backend's tensors live in (Cpu:
/// "host"; a GPU backend: its device). Two backend objects with the same key
/// share the models of a ResourcePool; without it each object has its own.
template <class B>
concept HasDeviceKey = requires(const B& b) {
  { b.device_key() } -> std::convertible_to<std::string>;
};

/// `device_memory()`: the device memory figures of the last cell (peak,
/// average, used and total bytes), reported beside the host's.
template <class B>
concept HasDeviceMemory = requires(B& b) {
  { b.device_memory() } -> std::same_as<DeviceMemory>;
};

/// `reset_device_memory()`: starts the device memory figures afresh; called
/// before each cell.
template <class B>
concept HasResetDeviceMemory = requires(B& b) { b.reset_device_memory(); };

/// `static describe_devices()`: every device of this backend's kind on the
/// machine, for `accelbench check`, found without opening the backend (see
/// backend/hardware.hpp's describe_machine).
template <class B>
concept HasDescribeDevices = requires {
  { B::describe_devices() } -> std::same_as<DeviceReport>;
};

/// `B::Weight` and `upload_weight(m, precision)`: a linear layer's weight
/// stored at a Precision (Cpu: CpuWeight), which `linear` takes in place of
/// a Tensor. Without it the backend stores weights as fp32 only, and a
/// precision other than fp32 is refused by name.
template <class B>
concept HasWeightPrecision = requires { typename B::Weight; } &&
                             requires(B& b, const HostMatrix& m, Precision p, const typename B::Tensor& x,
                                      const typename B::Weight& w, typename B::Tensor& y) {
                               { b.upload_weight(m, p) } -> std::same_as<typename B::Weight>;
                               b.linear(x, w, x, y);
                             };

/// A backend that keeps a linear layer's weight given as 16-bit values (a
/// checkpoint's bf16 or fp16 tensor, at that precision) as they are.
template <class B>
concept HasHalfWeights = HasWeightPrecision<B> && requires(B& b, Precision p, const HalfBitsMatrix& m) {
  { b.upload_weight_bits(p, m) } -> std::same_as<typename B::Weight>;
};

/// Whether B lays its Weight out for its own product, unlike a Tensor
/// (Cpu's packed panels, CpuWeight::packed): a linear layer given a Tensor
/// there is packed on every call, so a head tied to the token table is kept
/// as a Weight copy of it.
template <class B>
concept PacksWeights = HasWeightPrecision<B> && requires { requires B::Weight::packed; };

/// The type of a linear layer's weight on B: B::Weight with
/// HasWeightPrecision, else B::Tensor.
template <class B>
struct weight_type {
  using type = typename B::Tensor;
};
template <HasWeightPrecision B>
struct weight_type<B> {
  using type = typename B::Weight;
};
template <class B>
using weight_t = typename weight_type<B>::type;

}  // namespace accelbench
