#pragma once

// Opening a shared library at run time (dlopen) and finding its functions,
// so that code can use a vendor's driver where one is installed and say why
// not where it is missing, without linking against it.

#include <string>
#include <vector>

#if __has_include(<dlfcn.h>)
#include <dlfcn.h>
#define ACCELBENCH_HAS_DLOPEN 1
#endif

namespace accelbench::detail {

/// A shared library opened with dlopen. It stays loaded for the life of the
/// process, on purpose: GPU drivers start threads and register exit handlers
/// whose code must not be unmapped while the program runs.
class DynamicLibrary {
 public:
  /// Opens the first of `names` that loads; when none does, error() says why
  /// for each of them.
  explicit DynamicLibrary(const std::vector<std::string>& names) {
#if defined(ACCELBENCH_HAS_DLOPEN)
    for (const auto& n : names) {
      handle_ = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle_ != nullptr) {
        name_ = n;
        error_.clear();
        return;
      }
      const char* why = dlerror();
      error_ += (error_.empty() ? "" : "; ") + (why != nullptr ? std::string(why) : n + ": cannot be opened");
    }
    if (names.empty()) error_ = "no library name given";
#else
    (void)names;
    error_ = "loading libraries at run time is not supported on this system";
#endif
  }

  [[nodiscard]] explicit operator bool() const noexcept { return handle_ != nullptr; }
  /// The name that was opened; "" when none was.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Why no library was opened; "" when one was.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

  /// The function `symbol` as a pointer of type F, or nullptr when the
  /// library does not export it.
  template <class F>
  [[nodiscard]] F function(const char* symbol) const noexcept {
#if defined(ACCELBENCH_HAS_DLOPEN)
    if (handle_ == nullptr) return nullptr;
    return reinterpret_cast<F>(dlsym(handle_, symbol));
#else
    (void)symbol;
    return nullptr;
#endif
  }

 private:
  void* handle_ = nullptr;
  std::string name_;
  std::string error_;
};

}  // namespace accelbench::detail
