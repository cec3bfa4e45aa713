#pragma once

// Large buffers on transparent huge pages. A matrix-vector product (a decode
// step) streams its weights from memory once per call; on 4 KiB pages every
// page is a TLB miss and the hardware prefetchers stop at each page's end,
// so one core reads markedly slower than on 2 MiB pages (bench/gemm_cpu.cpp
// measures both). Where transparent huge pages are enabled only on request
// (the "madvise" setting), a buffer has to ask before its pages are first
// touched: HugePageAllocator aligns allocations of 2 MiB or
// more to 2 MiB and advises the kernel (madvise MADV_HUGEPAGE) before the
// container writes them. Advice only: where the kernel declines, or off
// Linux, the memory is ordinary memory.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace accelbench::detail {

inline constexpr std::size_t huge_page_bytes = std::size_t{1} << 21;

/// Asks for [p, p + bytes) to be backed by transparent huge pages where it
/// covers whole 2 MiB pages; does nothing where that is not supported.
inline void advise_huge_pages(void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t begin = (at + huge_page_bytes - 1) & ~std::uintptr_t{huge_page_bytes - 1};
  const std::uintptr_t end = (at + bytes) & ~std::uintptr_t{huge_page_bytes - 1};
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/// A standard allocator whose allocations of 2 MiB or more are 2 MiB-aligned
/// and advised onto huge pages (smaller ones are 64-byte aligned).
template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    void* p = ::operator new(bytes, alignment(bytes));
    if (bytes >= huge_page_bytes) advise_huge_pages(p, bytes);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept { ::operator delete(p, alignment(n * sizeof(T))); }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) noexcept { return true; }

 private:
  static std::align_val_t alignment(std::size_t bytes) noexcept {
    return std::align_val_t{bytes >= huge_page_bytes ? huge_page_bytes : std::size_t{64}};
  }
};

}  // namespace accelbench::detail
