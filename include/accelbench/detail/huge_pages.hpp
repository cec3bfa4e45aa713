#pragma once

// Large buffers on transparent huge pages. A matrix-vector product (a decode
// step) streams its weights from memory once per call; on 4 KiB pages every
// page is a TLB miss and the hardware prefetchers stop at each page's end,
// so one core reads markedly slower than on 2 MiB pages (bench/gemm_cpu.cpp
// measures both). Where transparent huge pages are enabled only on request
// (the "madvise" setting), memory has to ask before its pages are first
// touched, and only whole 2 MiB pages can be granted.
//
// HugePageAllocator therefore takes buffers of 64 KiB or more from an arena
// of 2 MiB-aligned chunks (64 MiB, or one of its own for a buffer over half
// that), each advised (madvise MADV_HUGEPAGE) as a whole before anything is
// written: a model's weights lie one after the other, every byte of them on
// huge pages, where a buffer of its own would leave the part past its last
// whole 2 MiB page on 4 KiB pages (an eighth of a 768 x 768 fp32 matrix, all
// of a 1 MiB one). A chunk's pages that are never written take no memory; a
// chunk is freed when its last buffer is, and the chunk being filled is
// reused from its start once it is empty. On Linux a chunk is a mapping of
// its own (mmap), never memory the C library hands out again: heap memory
// that was written before stays on the 4 KiB pages it has whatever the
// advice (a worker that had timed a few products before loading GPT-2 got
// 75 MiB of its weights so, and decode steps 5-7% slower). Advice only:
// where the kernel declines, or off Linux, the memory is ordinary memory.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
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

/// The arena HugePageAllocator's large buffers come from (see above); one
/// per process, safe to use from any thread.
class HugePageArena {
 public:
  /// Buffers from this size on come from the arena.
  static constexpr std::size_t min_bytes = std::size_t{64} << 10;
  /// The size of a shared chunk; a buffer over half of it gets a chunk of its own.
  static constexpr std::size_t chunk_bytes = std::size_t{64} << 20;
  /// Every buffer starts on a cache line.
  static constexpr std::size_t alignment = 64;

  /// The process's arena, which HugePageAllocator uses.
  [[nodiscard]] static HugePageArena& instance() {
    static auto* arena = new HugePageArena;  // never destroyed: buffers may outlive static destructors
    return *arena;
  }

  HugePageArena() = default;
  HugePageArena(const HugePageArena&) = delete;
  HugePageArena& operator=(const HugePageArena&) = delete;
  /// Frees every chunk, with whatever buffers are still in it.
  ~HugePageArena() {
    for (auto& [key, c] : chunks_) unmap(c.base, c.size);
  }

  /// Chunks held now.
  [[nodiscard]] std::size_t chunks() {
    const std::lock_guard lock(mutex_);
    return chunks_.size();
  }

  /// `bytes` (rounded up to a cache line) from the chunk being filled, or
  /// from a new one.
  [[nodiscard]] void* allocate(std::size_t bytes) {
    bytes = (bytes + alignment - 1) / alignment * alignment;
    const std::lock_guard lock(mutex_);
    if (bytes > chunk_bytes / 2) return take(new_chunk(round_up(bytes)), bytes);
    auto current = chunks_.find(current_);
    if (current == chunks_.end() || current->second.size - current->second.used < bytes) {
      current = new_chunk(chunk_bytes);
      retire(current_);
      current_ = current->first;
    }
    return take(current, bytes);
  }

  /// Gives back a buffer from allocate.
  void deallocate(void* p) noexcept {
    const std::lock_guard lock(mutex_);
    auto it = chunks_.upper_bound(reinterpret_cast<std::uintptr_t>(p));
    if (it == chunks_.begin()) return;  // not from the arena: nothing to do
    --it;
    Chunk& c = it->second;
    if (static_cast<std::byte*>(p) >= static_cast<std::byte*>(c.base) + c.size) return;
    if (--c.live > 0) return;
    if (it->first == current_) {
      c.used = 0;  // the chunk being filled starts over
    } else {
      unmap(c.base, c.size);
      chunks_.erase(it);
    }
  }

 private:
  struct Chunk {
    void* base = nullptr;
    std::size_t size = 0;
    std::size_t used = 0;
    std::size_t live = 0;  // buffers not yet deallocated
  };
  using Chunks = std::map<std::uintptr_t, Chunk>;

  static std::size_t round_up(std::size_t bytes) {
    return (bytes + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
  }

  /// `size` (whole huge pages) of fresh memory at a 2 MiB boundary,
  /// advised for huge pages before anything is written to it.
  static void* map(std::size_t size) {
#if defined(__linux__)
    const std::size_t span = size + huge_page_bytes;
    void* m = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(m);
    const std::uintptr_t base = (at + huge_page_bytes - 1) & ~std::uintptr_t{huge_page_bytes - 1};
    if (base > at) (void)munmap(m, base - at);  // the unaligned head and tail go back
    if (at + span > base + size) (void)munmap(reinterpret_cast<void*>(base + size), at + span - (base + size));
    void* p = reinterpret_cast<void*>(base);
#else
    void* p = ::operator new(size, std::align_val_t{huge_page_bytes});
#endif
    advise_huge_pages(p, size);
    return p;
  }

  static void unmap(void* base, std::size_t size) noexcept {
#if defined(__linux__)
    (void)munmap(base, size);
#else
    (void)size;
    ::operator delete(base, std::align_val_t{huge_page_bytes});
#endif
  }

  Chunks::iterator new_chunk(std::size_t size) {
    void* base = map(size);
    return chunks_.emplace(reinterpret_cast<std::uintptr_t>(base), Chunk{base, size, 0, 0}).first;
  }

  static void* take(Chunks::iterator it, std::size_t bytes) {
    Chunk& c = it->second;
    void* p = static_cast<std::byte*>(c.base) + c.used;
    c.used += bytes;
    ++c.live;
    return p;
  }

  /// The chunk that was being filled, no longer: freed if no buffer is in it.
  void retire(std::uintptr_t key) noexcept {
    const auto it = chunks_.find(key);
    if (it == chunks_.end() || it->second.live > 0) return;
    unmap(it->second.base, it->second.size);
    chunks_.erase(it);
  }

  std::mutex mutex_;
  Chunks chunks_;  // by base address
  std::uintptr_t current_ = 0;  // the chunk small buffers are taken from; 0: none yet
};

/// A std::allocator for large buffers on huge pages (see above): buffers of
/// HugePageArena::min_bytes or more from the arena, smaller ones from the
/// heap, cache-line aligned either way.
template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= HugePageArena::min_bytes) return static_cast<T*>(HugePageArena::instance().allocate(bytes));
    return static_cast<T*>(::operator new(bytes, std::align_val_t{HugePageArena::alignment}));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) >= HugePageArena::min_bytes) return HugePageArena::instance().deallocate(p);
    ::operator delete(p, std::align_val_t{HugePageArena::alignment});
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) noexcept { return true; }
};

}  // namespace accelbench::detail
