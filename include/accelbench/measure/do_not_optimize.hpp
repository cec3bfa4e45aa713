#pragma once

// Keeps the compiler from optimising away a value or the work that produced
// it, for workloads whose result is otherwise unused.

namespace accelbench {

#if defined(__GNUC__) || defined(__clang__)

/// The value is treated as read by code the compiler cannot see.
template <class T>
inline void do_not_optimize(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

/// The value is treated as read and possibly written by code the compiler cannot see.
template <class T>
inline void do_not_optimize(T& value) {
  asm volatile("" : "+r,m"(value) : : "memory");
}

#else

template <class T>
inline void do_not_optimize(const T& value) {
  const volatile void* volatile sink = &value;
  (void)sink;
}

#endif

}  // namespace accelbench
