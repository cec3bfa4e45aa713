// Weights at half precision: the conversions of detail/half.hpp (every
// 16-bit value, the ties, the edges of the range), CpuWeight, and Cpu::linear
// on bf16 and fp16 weights against a double-precision product of the same
// (rounded) weights, and against fp32 weights within the precision's bound;
// a checkpoint's bf16 and fp16 tensors through WeightMap and WeightUploader
// to weights at their own precision, unconverted.

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/model/common/safetensors.hpp>
#include <accelbench/model/common/upload.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "linear_check.hpp"

using namespace accelbench;

namespace {

HostMatrix random_matrix(long rows, long cols, unsigned seed) {
  std::srand(seed);
  return HostMatrix::Random(rows, cols);
}

float from_bits(std::uint32_t bits) { return std::bit_cast<float>(bits); }

/// A CpuWeight's 16 bits as a matrix of its shape.
HalfBitsMatrix weight_bits(const CpuWeight& w) {
  return w.to_bits();
}

/// `m` rounded to the 16-bit `precision`, as its bits.
HalfBitsMatrix half_bits(const HostMatrix& m, Precision precision) { return weight_bits(CpuWeight(m, precision)); }

}  // namespace

TEST_CASE("half: every fp16 and bf16 value survives the round trip through float") {
  for (std::uint32_t h = 0; h <= 0xffffu; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    const float f16 = detail::f16_bits_to_float(bits);
    const float bf16 = detail::bf16_bits_to_float(bits);
    if (std::isnan(f16)) {
      CHECK(std::isnan(detail::f16_bits_to_float(detail::float_to_f16_bits(f16))));
    } else if (detail::float_to_f16_bits(f16) != bits) {
      FAIL("fp16 bits " << h << " came back as " << detail::float_to_f16_bits(f16));
    }
    if (std::isnan(bf16)) {
      CHECK(std::isnan(detail::bf16_bits_to_float(detail::float_to_bf16_bits(bf16))));
    } else if (detail::float_to_bf16_bits(bf16) != bits) {
      FAIL("bf16 bits " << h << " came back as " << detail::float_to_bf16_bits(bf16));
    }
  }
}

TEST_CASE("half: float to fp16 rounds to nearest, ties to even, past the largest to infinity") {
  using detail::float_to_f16_bits;
  CHECK(float_to_f16_bits(1.0f) == 0x3c00);
  CHECK(float_to_f16_bits(1.0f + 0x1p-11f) == 0x3c00);            // tie: to the even 1.0
  CHECK(float_to_f16_bits(1.0f + 3 * 0x1p-11f) == 0x3c02);        // tie: to the even 1 + 2^-9
  CHECK(float_to_f16_bits(1.0f + 0x1p-11f + 0x1p-20f) == 0x3c01);  // past the tie: up
  CHECK(float_to_f16_bits(-2.0f) == 0xc000);
  CHECK(float_to_f16_bits(65504.0f) == 0x7bff);
  CHECK(float_to_f16_bits(65519.996f) == 0x7bff);
  CHECK(float_to_f16_bits(65520.0f) == 0x7c00);  // tie between 65504 and 65536: infinity
  CHECK(float_to_f16_bits(-1e6f) == 0xfc00);
  CHECK(float_to_f16_bits(0x1p-14f) == 0x0400);              // smallest normal
  CHECK(float_to_f16_bits(0x1p-14f - 0x1p-25f) == 0x0400);   // subnormal rounding up into it
  CHECK(float_to_f16_bits(0x1p-24f) == 0x0001);              // smallest subnormal
  CHECK(float_to_f16_bits(0x1p-25f) == 0x0000);              // tie: to the even 0
  CHECK(float_to_f16_bits(3 * 0x1p-25f) == 0x0002);          // tie: to the even 2
  CHECK(float_to_f16_bits(-0.0f) == 0x8000);
  CHECK(float_to_f16_bits(INFINITY) == 0x7c00);
  CHECK(std::isnan(detail::f16_bits_to_float(float_to_f16_bits(NAN))));
#if defined(__F16C__)
  // The CPU's own conversion, on a million random float bit patterns.
  std::mt19937 rng(7);
  for (int i = 0; i < 1000000; ++i) {
    const float f = from_bits(static_cast<std::uint32_t>(rng()));
    if (std::isnan(f)) continue;
    const auto hardware = static_cast<std::uint16_t>(
        _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
    if (float_to_f16_bits(f) != hardware) FAIL("float " << f << ": " << float_to_f16_bits(f) << ", F16C " << hardware);
  }
#endif
}

TEST_CASE("half: float to bf16 rounds to nearest, ties to even") {
  using detail::float_to_bf16_bits;
  CHECK(float_to_bf16_bits(from_bits(0x3f808000u)) == 0x3f80);  // tie: to the even 1.0
  CHECK(float_to_bf16_bits(from_bits(0x3f818000u)) == 0x3f82);  // tie: to the even side, up
  CHECK(float_to_bf16_bits(from_bits(0x3f808001u)) == 0x3f81);  // past the tie: up
  CHECK(float_to_bf16_bits(from_bits(0x3f807fffu)) == 0x3f80);  // below the tie: down
  CHECK(float_to_bf16_bits(from_bits(0x7f7fffffu)) == 0x7f80);  // the largest float rounds to infinity
  CHECK(float_to_bf16_bits(-INFINITY) == 0xff80);
  CHECK(std::isnan(detail::bf16_bits_to_float(float_to_bf16_bits(from_bits(0x7f800001u)))));  // a NaN stays one
}

TEST_CASE("half: the rounding error is within the precision's stated unit roundoff") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> magnitude(-10.0f, 10.0f);
  for (int i = 0; i < 100000; ++i) {
    const float f = std::ldexp(1.0f + std::abs(magnitude(rng)) / 10.0f, static_cast<int>(magnitude(rng))) *
                    (i % 2 != 0 ? -1.0f : 1.0f);
    const double bf = detail::bf16_bits_to_float(detail::float_to_bf16_bits(f));
    const double hf = detail::f16_bits_to_float(detail::float_to_f16_bits(f));
    REQUIRE(std::abs(bf - f) <= unit_roundoff(Precision::bf16) * std::abs(f));
    REQUIRE(std::abs(hf - f) <= unit_roundoff(Precision::fp16) * std::abs(f));
  }
}

TEST_CASE("precision: names parse, anything else is refused by field and value") {
  for (const Precision p : all_precisions) CHECK(parse_precision(precision_name(p)) == p);
  CHECK(parse_precision("bfloat16") == Precision::bf16);
  CHECK(parse_precision("float16") == Precision::fp16);
  CHECK_THROWS_WITH_AS((void)parse_precision("int8", "config.precision"),
                       "config.precision = \"int8\": expected fp32, bf16 or fp16", ConfigError);
}

TEST_CASE("CpuWeight: stored at its precision, rounded to nearest") {
  const HostMatrix m = random_matrix(5, 7, 3);
  const CpuWeight bf(m, Precision::bf16);
  const CpuWeight hf(m, Precision::fp16);
  const CpuWeight f(m, Precision::fp32);
  CHECK(bf.bytes() == 5 * 7 * 2);
  CHECK(hf.bytes() == 5 * 7 * 2);
  CHECK(f.bytes() == 5 * 7 * 4);
  CHECK(f.to_float() == m);
  CHECK_THROWS_WITH_AS((void)f.to_bits(), "CpuWeight::bits_data: the weight is stored as fp32", std::logic_error);
  for (long i = 0; i < m.size(); ++i) {
    CHECK(bf.to_bits().data()[i] == detail::float_to_bf16_bits(m.data()[i]));
    CHECK(bf.to_float().data()[i] == detail::bf16_bits_to_float(detail::float_to_bf16_bits(m.data()[i])));
    CHECK(hf.to_float().data()[i] == detail::f16_bits_to_float(detail::float_to_f16_bits(m.data()[i])));
  }
  CHECK_THROWS_WITH_AS((void)bf.fp32_data(), "CpuWeight::fp32_data: the weight is stored as bf16", std::logic_error);
  CHECK_THROWS_WITH_AS((void)CpuWeight::from_bits(Precision::fp16, 2, 3, std::vector<std::uint16_t>(5)),
                       "CpuWeight::from_bits: 5 values for [2, 3]", std::invalid_argument);
  CHECK_THROWS_AS((void)CpuWeight::from_bits(Precision::fp32, 1, 1, std::vector<std::uint16_t>{0}), std::invalid_argument);
  const HalfBitsMatrix bits = bf.to_bits();
  const CpuWeight kept = CpuWeight::from_bits(Precision::bf16, 5, 7, {bits.data(), static_cast<std::size_t>(bits.size())});
  CHECK(kept.to_float() == bf.to_float());
}

TEST_CASE("CpuWeight: packed once, every value where the product reads it") {
  // Outputs around the panel width (16 or 32), so that the last panel's
  // padding is exercised; to_float and to_bits read the panels back.
  for (const long n : {1L, 15L, 16L, 17L, 31L, 32L, 33L, 70L}) {
    const HostMatrix m = random_matrix(n, 9, static_cast<unsigned>(n));
    CHECK(CpuWeight(m).to_float() == m);
    for (const Precision p : {Precision::bf16, Precision::fp16}) {
      const CpuWeight w(m, p);
      const HalfBitsMatrix bits = w.to_bits();
      for (long i = 0; i < m.size(); ++i) {
        CHECK(bits.data()[i] == (p == Precision::bf16 ? detail::float_to_bf16_bits(m.data()[i])
                                                      : detail::float_to_f16_bits(m.data()[i])));
      }
      CHECK(CpuWeight::from_bits(p, n, 9, {bits.data(), static_cast<std::size_t>(bits.size())}).to_bits() == bits);
    }
#if ACCELBENCH_CPU_GEMM
    // The layout itself: output j, input position p of a panel of fp32 values.
    const CpuWeight f(m);
    for (long j = 0; j < n; ++j) {
      for (long p = 0; p < 9; ++p) {
        CHECK(f.fp32_data()[(j / detail::panel_width) * 9 * detail::panel_width + p * detail::panel_width +
                            j % detail::panel_width] == m(j, p));
      }
    }
#endif
  }
}

TEST_CASE("HugePageArena: buffers one after the other in 2 MiB-aligned chunks, each freed with its last buffer") {
  using detail::HugePageArena;
  HugePageArena arena;
  const auto at = [](void* p) { return reinterpret_cast<std::uintptr_t>(p); };
  void* a = arena.allocate(768 * 768 * 4);
  void* b = arena.allocate(100'000);  // rounded up to a cache line
  void* c = arena.allocate(1000);
  CHECK(at(a) % detail::huge_page_bytes == 0);
  CHECK(at(b) == at(a) + 768 * 768 * 4);
  CHECK(at(c) == at(b) + 100'032);
  CHECK(arena.chunks() == 1);
  // A buffer over half a chunk has one of its own; freed with it.
  void* big = arena.allocate(HugePageArena::chunk_bytes / 2 + 1);
  CHECK(at(big) % detail::huge_page_bytes == 0);
  CHECK(arena.chunks() == 2);
  arena.deallocate(big);
  CHECK(arena.chunks() == 1);
  // The chunk being filled starts over once its buffers are all given back.
  arena.deallocate(a);
  arena.deallocate(b);
  CHECK(arena.allocate(64) == static_cast<void*>(static_cast<std::byte*>(c) + 1024));
  arena.deallocate(c);
  void* again = arena.allocate(64);  // one buffer (64 bytes) is still in it
  CHECK(at(again) == at(c) + 1024 + 64);
  // A chunk that is full is left for a new one, and freed with its last buffer.
  void* rest = arena.allocate(HugePageArena::chunk_bytes / 2);
  void* next = arena.allocate(HugePageArena::chunk_bytes / 2);
  CHECK(arena.chunks() == 2);
  CHECK(at(next) % detail::huge_page_bytes == 0);
  arena.deallocate(again);
  arena.deallocate(static_cast<std::byte*>(c) + 1024);
  CHECK(arena.chunks() == 2);
  arena.deallocate(rest);
  CHECK(arena.chunks() == 1);
  arena.deallocate(next);
  CHECK(arena.chunks() == 1);  // the chunk being filled stays, empty
  // CpuWeight's values come from the process's arena: two weights of one
  // model lie one after the other (or the second starts a new chunk).
  const CpuWeight w1(HostMatrix::Zero(256, 256)), w2(HostMatrix::Zero(256, 256));
  const std::uintptr_t first = at(const_cast<float*>(w1.fp32_data())), second = at(const_cast<float*>(w2.fp32_data()));
  CHECK((second == first + 4 * 256 * 256 || second % detail::huge_page_bytes == 0));
}

#if defined(__linux__) && defined(__GLIBC__)
TEST_CASE("HugePageArena: a chunk is a mapping of its own, never heap memory written before") {
  // Leave the C library a large free stretch of heap, already written (so on
  // 4 KiB pages), which an aligned operator new of a chunk's size would take.
  // Under a sanitizer, whose allocator takes no mallopt, the chunk is checked
  // without that stretch.
  const bool glibc_heap = mallopt(M_MMAP_MAX, 0) == 1;
  if (glibc_heap) {
    REQUIRE(mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1);
    const std::size_t heap_bytes = std::size_t{200} << 20;
    void* used = std::malloc(heap_bytes);
    REQUIRE(used != nullptr);
    std::memset(used, 1, heap_bytes);
    std::free(used);
    REQUIRE(mallopt(M_MMAP_MAX, 65536) == 1);
  }
  detail::HugePageArena arena;
  void* a = arena.allocate(std::size_t{1} << 20);
  const auto at = reinterpret_cast<std::uintptr_t>(a);
  CHECK(at % detail::huge_page_bytes == 0);
  // The mapping that holds it: its own, a whole chunk, not the heap.
  std::ifstream maps("/proc/self/maps");
  std::string line;
  bool found = false;
  while (std::getline(maps, line)) {
    const std::uintptr_t begin = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    const std::uintptr_t end = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
    if (at < begin || at >= end) continue;
    found = true;
    CAPTURE(line);
    CHECK(line.find("[heap]") == std::string::npos);
    CHECK(end - at >= detail::HugePageArena::chunk_bytes);
  }
  CHECK(found);
  arena.deallocate(a);
  if (glibc_heap) {
    REQUIRE(mallopt(M_TRIM_THRESHOLD, 128 * 1024) == 1);
    (void)malloc_trim(0);
  }
}
#endif

TEST_CASE("linear on bf16 and fp16 weights: every tile shape, against the rounded weights and against fp32") {
  // Rows around the tile heights (6 and 12) and the 192 of a block, outputs
  // around the panel widths (16 and 32), depths around the 8 and 16 lanes of
  // a vector and the 256 of a block of k.
  Cpu one{Cpu::Options{.threads = 1}};
  for (const Precision p : {Precision::bf16, Precision::fp16}) {
    for (const long m : {1L, 2L, 5L, 6L, 7L, 11L, 12L, 13L, 40L, 193L, 600L}) {
      for (const long n : {1L, 5L, 15L, 16L, 17L, 31L, 32L, 33L, 131L}) {
        for (const long k : {0L, 1L, 7L, 8L, 9L, 16L, 17L, 33L, 255L, 256L, 257L, 600L}) {
          const HostMatrix x = random_matrix(m, k, static_cast<unsigned>(m * 1000 + n * 10 + k));
          const HostMatrix w = random_matrix(n, k, static_cast<unsigned>(m + n * 7 + k * 13 + 1));
          const HostMatrix b = random_matrix(1, n, static_cast<unsigned>(n + 5));
          const CpuWeight stored = Cpu::upload_weight(w, p);
          const Eigen::MatrixXd rounded = stored.to_float().cast<double>();
          const Eigen::MatrixXd expected = (x.cast<double>() * rounded.transpose()).rowwise() + b.cast<double>().row(0);
          HostMatrix y1, y2, y0, full;
          one.linear(x, stored, b, y1);
          test::linear_on_two_threads(x, stored, b, y2);
          one.linear(x, stored, HostMatrix{}, y0);
          one.linear(x, w, b, full);
          INFO(precision_name(p) << ": m = " << m << ", n = " << n << ", k = " << k);
          const double tolerance = test::check_linear_outputs(expected, y1, y2, y0, b, k);
          // Against fp32 weights: each weight is off by at most the unit
          // roundoff of its value, so each output by at most that of
          // sum |x| |w|.
          const Eigen::MatrixXd bound =
              (x.cast<double>().cwiseAbs() * w.cast<double>().cwiseAbs().transpose()) * unit_roundoff(p);
          CHECK(((y1.cast<double>() - full.cast<double>()).cwiseAbs() - bound).maxCoeff() <= tolerance);
        }
      }
    }
  }
}

TEST_CASE("linear on bf16 and fp16 weights: a single row, deep") {
  // A decode step's row streams each panel over all of k in pairs of steps:
  // odd and even depths, and TinyLlama's 5632.
  Cpu cpu{Cpu::Options{.threads = 1}};
  for (const Precision p : {Precision::bf16, Precision::fp16}) {
    for (const long k : {4095L, 4096L, 4097L, 5632L}) {
      for (const long n : {5L, 33L, 64L}) {
        const HostMatrix x = random_matrix(1, k, static_cast<unsigned>(k));
        const HostMatrix w = random_matrix(n, k, static_cast<unsigned>(k + n));
        const HostMatrix b = random_matrix(1, n, static_cast<unsigned>(n));
        const CpuWeight stored = Cpu::upload_weight(w, p);
        const Eigen::MatrixXd expected =
            (x.cast<double>() * stored.to_float().cast<double>().transpose()).rowwise() + b.cast<double>().row(0);
        HostMatrix y;
        cpu.linear(x, stored, b, y);
        INFO(precision_name(p) << ": n = " << n << ", k = " << k);
        // fp32 sums of k products: within k units of float roundoff of sum |x| |w|.
        const Eigen::MatrixXd scale = x.cast<double>().cwiseAbs() * stored.to_float().cast<double>().cwiseAbs().transpose();
        CHECK(((y.cast<double>() - expected).cwiseAbs() - scale * (double(k) * 0x1p-24)).maxCoeff() <= 1e-6);
      }
    }
  }
}

TEST_CASE("linear on an fp32 CpuWeight is linear on the matrix") {
  Cpu cpu{Cpu::Options{.threads = 2}};
  for (const long m : {1L, 5L, 700L}) {
    const HostMatrix x = random_matrix(m, 40, 1);
    const HostMatrix w = random_matrix(70, 40, 2);
    const HostMatrix b = random_matrix(1, 70, 3);
    HostMatrix a, c;
    cpu.linear(x, w, b, a);
    cpu.linear(x, Cpu::upload_weight(w, Precision::fp32), b, c);
    // From detail::pack_per_call_rows rows a Tensor's weight is packed for
    // the call and meets the same product; fewer rows take Eigen's, whose
    // sums are ordered differently: within float roundoff of sum |x| |w|.
    const Eigen::MatrixXd scale = x.cast<double>().cwiseAbs() * w.cast<double>().cwiseAbs().transpose();
    CHECK(((a - c).cast<double>().cwiseAbs() - scale * (40 * 0x1p-24)).maxCoeff() <= 1e-6);
    if (m >= 64) CHECK(a == c);
  }
}

TEST_CASE("linear on a half-precision weight checks its shapes") {
  Cpu cpu{Cpu::Options{.threads = 1}};
  const CpuWeight w(HostMatrix::Zero(4, 3), Precision::bf16);
  HostMatrix y;
  CHECK_THROWS_WITH_AS(cpu.linear(HostMatrix::Zero(2, 5), w, HostMatrix{}, y),
                       "linear: input has 5 columns, weight expects 3", std::invalid_argument);
  CHECK_THROWS_WITH_AS(cpu.linear(HostMatrix::Zero(2, 3), w, HostMatrix::Zero(1, 5), y),
                       "linear: bias must be [1, 4]", std::invalid_argument);
}

TEST_CASE("WeightMap: 16-bit tensors kept as stored until taken, then widened exactly or given as they are") {
  const HalfBitsMatrix bits = half_bits(random_matrix(3, 4, 5), Precision::bf16);
  WeightMap w;
  w.insert("b", random_matrix(2, 2, 6));
  w.insert("a", HalfTensor{Precision::bf16, bits});
  w.insert("c", HalfTensor{Precision::bf16, bits});
  CHECK(w.names() == std::vector<std::string>{"a", "b", "c"});
  CHECK(w.size() == 3);
  CHECK(w.parameter_count() == 2 * 12 + 4);
  CHECK_THROWS_WITH_AS(w.insert("a", random_matrix(1, 1, 7)), "weights: tensor 'a' given twice", std::invalid_argument);
  CHECK_THROWS_AS(w.insert("e", HalfTensor{Precision::fp32, bits}), std::invalid_argument);
  // Taken at another precision: nothing, and the tensor stays.
  CHECK_FALSE(w.take_half("a", 3, 4, Precision::fp16).has_value());
  CHECK_THROWS_WITH_AS((void)w.take_half("a", 4, 3, Precision::bf16), "weights: tensor 'a' is [3, 4], expected [4, 3]",
                       std::invalid_argument);
  CHECK(w.same_values("a", "c"));
  w.move_to("c", w, "d");
  CHECK(w.names() == std::vector<std::string>{"a", "b", "d"});
  const auto kept = w.take_half("d", 3, 4, Precision::bf16);
  REQUIRE(kept.has_value());
  CHECK(*kept == bits);
  const HostMatrix widened = w.take("a", 3, 4);
  for (Eigen::Index i = 0; i < widened.size(); ++i) {
    CHECK(widened.data()[i] == detail::bf16_bits_to_float(bits.data()[i]));
  }
  CHECK(w.names() == std::vector<std::string>{"b"});
}

TEST_CASE("a safetensors file's BF16 and F16 tensors become Cpu weights at their precision without conversion") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("accelbench-test-half-" + std::to_string(::getpid()) + ".safetensors");
  const HostMatrix values = random_matrix(6, 4, 8);
  const HalfBitsMatrix b16 = half_bits(values, Precision::bf16);
  const HalfBitsMatrix f16 = half_bits(values, Precision::fp16);
  SafetensorsWriter writer;
  writer.add_half("bf16", Precision::bf16, b16);
  writer.add_half("fp16", Precision::fp16, f16);
  writer.add_half("gate", Precision::fp16, f16);
  writer.add_half("up", Precision::fp16, half_bits(random_matrix(6, 4, 9), Precision::fp16));
  writer.add_half("conv1d", Precision::fp16, f16);
  writer.add_float("fp32", values);
  CHECK_THROWS_AS(writer.add_half("bad", Precision::fp32, b16), std::invalid_argument);
  writer.write(path);
  const SafetensorsFile file = SafetensorsFile::open(path);
  CHECK(file.info("bf16").dtype == "BF16");
  CHECK(file.read_half("fp16") == f16);
  CHECK_THROWS_WITH_AS((void)file.read_half("fp32"), doctest::Contains("tensor 'fp32': dtype F32 is not a 16-bit float"),
                       SafetensorsError);
  WeightMap weights = read_weights(file);
  const HalfBitsMatrix up = weights.take_half("up", 6, 4, Precision::fp16).value();
  weights.insert("up", HalfTensor{Precision::fp16, up});
  std::filesystem::remove(path);
  Cpu cpu{Cpu::Options{.threads = 1}};

  SUBCASE("at bf16: the BF16 tensor as stored, the others rounded from their values") {
    WeightTally tally;
    WeightUploader<Cpu> take(cpu, weights, tally, Precision::bf16);
    const CpuWeight a = take.weight("bf16", 6, 4);
    CHECK(a.precision() == Precision::bf16);
    CHECK(weight_bits(a) == b16);
    const CpuWeight b = take.weight("fp16", 6, 4);
    CHECK(weight_bits(b) == half_bits(HalfTensor{Precision::fp16, f16}.to_float(), Precision::bf16));
    CHECK(weight_bits(take.weight("fp32", 6, 4)) == b16);
    CHECK(tally.parameters == 3 * 24);
    CHECK(tally.bytes == 3 * 24 * 2);
  }
  SUBCASE("at fp16: stacked and transposed weights keep the F16 bits") {
    WeightTally tally;
    WeightUploader<Cpu> take(cpu, weights, tally, Precision::fp16);
    const CpuWeight gate_up = take.stacked_weight({"gate", "up"}, 6, 4);
    HalfBitsMatrix stacked(12, 4);
    stacked << f16, up;
    CHECK(weight_bits(gate_up) == stacked);
    const auto parts = take.transposed_weights("conv1d", 6, 4, 2);
    REQUIRE(parts.size() == 2);
    CHECK(weight_bits(parts[0]) == HalfBitsMatrix(f16.leftCols(2).transpose()));
    CHECK(weight_bits(parts[1]) == HalfBitsMatrix(f16.rightCols(2).transpose()));
    CHECK(weight_bits(take.weight("fp16", 6, 4)) == f16);
    CHECK(tally.bytes == 4 * 24 * 2);
  }
  SUBCASE("at fp32: every tensor widened exactly") {
    WeightTally tally;
    WeightUploader<Cpu> take(cpu, weights, tally, Precision::fp32);
    CHECK(take.weight("bf16", 6, 4).to_float() == HalfTensor{Precision::bf16, b16}.to_float());
    CHECK(take.stacked_weight({"gate", "up"}, 6, 4).to_float().topRows(6) == HalfTensor{Precision::fp16, f16}.to_float());
    CHECK(tally.bytes == 3 * 24 * 4);
  }
}
