// A repeated forward pass allocates nothing: the heap allocations of this
// test program (malloc, which Eigen's matrices and operator new both use)
// are counted while asked to. glibc lets a program interpose malloc and
// reach its own through __libc_malloc. The sanitizers replace malloc
// themselves, so this test is a program of its own, never sanitized
// (accelbench_allocation_tests).

#include <doctest/doctest.h>

#include <accelbench/backend/cpu.hpp>
#include <accelbench/model/bert.hpp>

#include <atomic>
#include <cstddef>

using namespace accelbench;

namespace {
std::atomic<bool> counting_allocations{false};
std::atomic<long> allocations{0};
}  // namespace

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define ACCELBENCH_COUNTS_MALLOC true
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* malloc(std::size_t n) {
  if (counting_allocations.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
#else
#define ACCELBENCH_COUNTS_MALLOC false
#endif

TEST_CASE("a repeated forward pass allocates nothing" * doctest::skip(!ACCELBENCH_COUNTS_MALLOC)) {
  BertConfig c;
  c.name = "test-bert";
  c.layers = 2;
  c.hidden = 32;
  c.heads = 4;
  c.intermediate = 64;
  c.vocab_size = 100;
  c.max_positions = 24;
  Cpu cpu{Cpu::Options{.threads = 2}};
  const Bert<Cpu> model(cpu, c, synthetic_bert_weights(c, 2));
  auto ws = model.prepare(cpu, make_bert_input(c, 2, 16, 1, {16, 9}));
  model.forward(cpu, ws);  // sizes the workspace
  allocations = 0;
  counting_allocations = true;
  model.forward(cpu, ws);
  model.forward(cpu, ws);
  counting_allocations = false;
  CHECK(allocations.load() == 0);

  // The counter works: a workspace of a new shape must allocate.
  counting_allocations = true;
  auto other = model.prepare(cpu, make_bert_input(c, 1, 8, 1));
  model.forward(cpu, other);
  counting_allocations = false;
  CHECK(allocations.load() > 0);
}
