#pragma once

// The device memory count of the device backends (OpenCL, Cuda): bytes held
// in the backend's buffers now, the most held and the time-weighted mean
// since the last reset. One counter per device, shared by every backend
// object on it; buffers add their size when allocated and remove it when
// freed. Thread-safe.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "../../core/result.hpp"

namespace accelbench::detail {

class DeviceMemoryCounter {
 public:
  DeviceMemoryCounter() = default;
  DeviceMemoryCounter(const DeviceMemoryCounter&) = delete;
  DeviceMemoryCounter& operator=(const DeviceMemoryCounter&) = delete;

  void add(std::uint64_t bytes) { change(static_cast<std::int64_t>(bytes)); }
  void remove(std::uint64_t bytes) { change(-static_cast<std::int64_t>(bytes)); }

  /// Memory held now, the most and the time-weighted mean since reset();
  /// total_bytes is left to the backend.
  [[nodiscard]] DeviceMemory memory() {
    const std::lock_guard lock(mutex_);
    advance();
    const double span = std::chrono::duration<double>(last_change_ - since_).count();
    DeviceMemory m;
    m.used_bytes = allocated_;
    m.peak_bytes = peak_;
    m.average_bytes = span > 0 ? static_cast<std::uint64_t>(byte_seconds_ / span) : allocated_;
    return m;
  }

  /// Starts a new peak and mean from the memory held now.
  void reset() {
    const std::lock_guard lock(mutex_);
    advance();
    peak_ = allocated_;
    byte_seconds_ = 0;
    since_ = last_change_;
  }

 private:
  void change(std::int64_t delta) {
    const std::lock_guard lock(mutex_);
    advance();
    allocated_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(allocated_) + delta);
    peak_ = std::max(peak_, allocated_);
  }
  void advance() {
    const auto now = std::chrono::steady_clock::now();
    byte_seconds_ += static_cast<double>(allocated_) * std::chrono::duration<double>(now - last_change_).count();
    last_change_ = now;
  }

  std::mutex mutex_;
  std::uint64_t allocated_ = 0;
  std::uint64_t peak_ = 0;
  double byte_seconds_ = 0;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_change_ = since_;
};

/// One allocation of a device backend: frees itself with Device::release
/// and keeps the device's count (Device is a DeviceMemoryCounter with a
/// `Handle` type, e.g. cl_mem or void*). Movable, not copyable.
template <class Device>
class CountedBuffer {
 public:
  using Handle = typename Device::Handle;

  CountedBuffer() = default;
  CountedBuffer(Handle handle, std::size_t bytes, std::shared_ptr<Device> device)
      : handle_(handle), bytes_(bytes), device_(std::move(device)) {
    device_->add(bytes_);
  }
  CountedBuffer(CountedBuffer&& o) noexcept
      : handle_(std::exchange(o.handle_, Handle{})), bytes_(std::exchange(o.bytes_, 0)), device_(std::move(o.device_)) {}
  CountedBuffer& operator=(CountedBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      handle_ = std::exchange(o.handle_, Handle{});
      bytes_ = std::exchange(o.bytes_, 0);
      device_ = std::move(o.device_);
    }
    return *this;
  }
  CountedBuffer(const CountedBuffer&) = delete;
  CountedBuffer& operator=(const CountedBuffer&) = delete;
  ~CountedBuffer() { reset(); }

  [[nodiscard]] Handle get() const noexcept { return handle_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  explicit operator bool() const noexcept { return handle_ != Handle{}; }

 private:
  void reset() noexcept {
    if (handle_ != Handle{}) {
      device_->release(handle_);
      device_->remove(bytes_);
      handle_ = Handle{};
    }
  }
  Handle handle_{};
  std::size_t bytes_ = 0;
  std::shared_ptr<Device> device_;
};

}  // namespace accelbench::detail
