#pragma once

// The conformance checks of DetectionOps and WindowOps, part of
// <accelbench/testing/conformance.hpp> (which includes this header and runs
// them from check_ops): conv2d_rows, max_pool2d, sigmoid, reshape and mul on
// random inputs against the same ops on Cpu (WindowOps' attention with a
// bias per window is checked with the other attention cases).

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../backend/concepts.hpp"
#include "../backend/cpu.hpp"
#include "checker.hpp"

namespace accelbench::testing {

/// reshape (WindowOps): [6, 10] to [4, 15], to [60, 1] and back to [6, 10]; its rejection of
/// [4, 16]. mul: y *= x on [7, 13] (91 elements, a multiple of no work-group size) and [1, 1]; its
/// rejection of shapes that differ ([13, 7] and [7, 13]).
template <class B>
void check_windows(B& b, Checker& chk) {
  if constexpr (WindowOps<B>) {
    Cpu cpu{Cpu::Options{.threads = 1}};
    using T = typename B::Tensor;
    const HostMatrix x = random_matrix(6, 10, 90);
    const T xt = b.upload(x);
    for (const auto& [rows, cols] : std::vector<std::array<int, 2>>{{4, 15}, {60, 1}, {6, 10}}) {
      HostMatrix ref;
      T y;
      cpu.reshape(x, rows, cols, ref);
      b.reshape(xt, rows, cols, y);
      chk.matches("reshape [6, 10] to [" + std::to_string(rows) + ", " + std::to_string(cols) + "]", b.download(y), ref);
    }
    T y;
    chk.template throws<std::invalid_argument>("reshape rejects [6, 10] to [4, 16]", [&] { b.reshape(xt, 4, 16, y); });
    for (const auto& [rows, cols] : std::vector<std::array<int, 2>>{{7, 13}, {1, 1}}) {
      const HostMatrix f = random_matrix(rows, cols, 91, 2.0f);
      HostMatrix ref = random_matrix(rows, cols, 92, 2.0f);
      T prod = b.upload(ref);
      cpu.mul(f, ref);
      b.mul(b.upload(f), prod);
      chk.matches("mul [" + std::to_string(rows) + ", " + std::to_string(cols) + "]", b.download(prod), ref);
    }
    T wide = b.upload(random_matrix(7, 13, 93));
    const T tall = b.upload(random_matrix(13, 7, 94));
    chk.template throws<std::invalid_argument>("mul rejects [13, 7] times [7, 13]", [&] { b.mul(tall, wide); });
  }
}

/// conv2d_rows (ResNet's 7x7 stem with stride 2 on an odd-sized image, 3x3
/// with stride 1 and 2, 1x1 with stride 1 with and without bias, 1x1 with
/// stride 2), max_pool2d (3x3 stride 2 padding 1 on odd and even sizes, on
/// negative inputs, where zero padding would show; 2x2 stride 2) and sigmoid
/// (DetectionOps; relu too where B lacks GenerationOps, whose check has it); then
/// check_windows, where B has WindowOps (which include DetectionOps).
template <class B>
void check_detection(B& b, Checker& chk) {
  if constexpr (DetectionOps<B>) {
    Cpu cpu{Cpu::Options{.threads = 1}};
    using T = typename B::Tensor;
    auto up = [&](const HostMatrix& m) { return b.upload(m); };
    auto down = [&](const T& t) { return b.download(t); };
    struct ConvCase {
      const char* name;
      Conv2dDims d;  // batch, channels, height, width, out_channels, kernel, stride, padding
      bool bias;
    };
    const std::vector<ConvCase> convs = {
        {"conv2d_rows 7x7 stride 2 padding 3, odd sizes", Conv2dDims{1, 3, 13, 11, 5, 7, 2, 3}, true},
        {"conv2d_rows 3x3 stride 1 padding 1", Conv2dDims{2, 6, 9, 10, 7, 3, 1, 1}, true},
        {"conv2d_rows 3x3 stride 1 padding 1, 64 channels", Conv2dDims{1, 64, 6, 7, 40, 3, 1, 1}, false},
        {"conv2d_rows 3x3 stride 2 padding 1", Conv2dDims{2, 6, 9, 10, 7, 3, 2, 1}, false},
        {"conv2d_rows 1x1 stride 1 with bias", Conv2dDims{2, 19, 5, 7, 11, 1, 1, 0}, true},
        {"conv2d_rows 1x1 stride 1 without bias", Conv2dDims{2, 19, 5, 7, 11, 1, 1, 0}, false},
        {"conv2d_rows 1x1 stride 2", Conv2dDims{2, 19, 9, 8, 11, 1, 2, 0}, true},
    };
    std::uint32_t seed = 60;
    for (const ConvCase& c : convs) {
      const Conv2dDims& d = c.d;
      const HostMatrix x = random_matrix(long(d.batch) * d.height * d.width, d.channels, seed++);
      const HostMatrix w = random_matrix(d.out_channels, long(d.kernel) * d.kernel * d.channels, seed++, 0.3f);
      const HostMatrix bias = c.bias ? random_matrix(1, d.out_channels, seed++) : HostMatrix{};
      HostMatrix ref;
      T y;
      cpu.conv2d_rows(x, w, bias, d, ref);
      b.conv2d_rows(up(x), up(w), c.bias ? up(bias) : T{}, d, y);
      chk.matches(c.name, down(y), ref);
    }

    struct PoolCase {
      const char* name;
      Pool2dDims d;  // batch, channels, height, width, kernel, stride, padding
    };
    const std::vector<PoolCase> pools = {
        {"max_pool2d 3x3 stride 2 padding 1, odd sizes, negative inputs", Pool2dDims{2, 5, 13, 11, 3, 2, 1}},
        {"max_pool2d 3x3 stride 2 padding 1, even sizes, negative inputs", Pool2dDims{1, 4, 12, 10, 3, 2, 1}},
        {"max_pool2d 2x2 stride 2", Pool2dDims{2, 3, 8, 7, 2, 2, 0}},
    };
    for (const PoolCase& p : pools) {
      const HostMatrix x =
          (random_matrix(long(p.d.batch) * p.d.height * p.d.width, p.d.channels, seed++).array() - 1.0f).matrix();
      HostMatrix ref;
      T y;
      cpu.max_pool2d(x, p.d, ref);
      b.max_pool2d(up(x), p.d, y);
      chk.matches(p.name, down(y), ref);
    }

    const HostMatrix x = random_matrix(13, 77, seed++, 8.0f);
    HostMatrix ref = x;
    cpu.sigmoid(ref);
    T t = up(x);
    b.sigmoid(t);
    chk.matches("sigmoid", down(t), ref);
    if constexpr (!GenerationOps<B>) {
      ref = x;
      cpu.relu(ref);
      t = up(x);
      b.relu(t);
      chk.matches("relu", down(t), ref);
    }
    check_windows(b, chk);
  }
}

}  // namespace accelbench::testing
