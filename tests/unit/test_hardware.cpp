// Hardware detection: the CPU from fake /proc and /sys trees and from the
// real ones, OpenCL and CUDA as they are on this machine (present or not),
// the text and JSON forms.

#include <accelbench/backend/hardware.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace accelbench;

namespace {

/// A folder under the system's temporary folder, removed at the end of the test.
struct TempTree {
  fs::path root;
  TempTree() {
    static std::atomic<int> counter{0};
    root = fs::temp_directory_path() /
           ("accelbench-hw-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-" +
            std::to_string(counter++));
    fs::create_directories(root);
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  void write(const std::string& relative, const std::string& text) const {
    const fs::path p = root / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  [[nodiscard]] HardwareRoots roots() const { return {(root / "proc").string(), (root / "sys").string()}; }
};

/// Two sockets of two cores of two threads: eight logical CPUs.
std::string x86_cpuinfo() {
  std::string text;
  int processor = 0;
  for (int socket = 0; socket < 2; ++socket) {
    for (int thread = 0; thread < 2; ++thread) {
      for (int core = 0; core < 2; ++core) {
        text += "processor\t: " + std::to_string(processor++) +
                "\n"
                "vendor_id\t: GenuineIntel\n"
                "model name\t: Intel(R) Xeon(R) Platinum 8480+\n"
                "cpu MHz\t\t: 2000.000\n"
                "physical id\t: " +
                std::to_string(socket) + "\ncore id\t\t: " + std::to_string(core) +
                "\n"
                "flags\t\t: fpu sse sse2 sse4_1 sse4_2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni "
                "amx_tile amx_bf16 amx_int8\n\n";
      }
    }
  }
  return text;
}

void write_cache(const TempTree& t, int index, const std::string& level, const std::string& type,
                 const std::string& size, const std::string& shared_list) {
  const std::string dir = "sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
  t.write(dir + "level", level + "\n");
  t.write(dir + "type", type + "\n");
  t.write(dir + "size", size + "\n");
  t.write(dir + "shared_cpu_list", shared_list + "\n");
}

}  // namespace

TEST_CASE("sizes, CPU lists and masks of /sys") {
  CHECK(detail::parse_size("32K") == 32768u);
  CHECK(detail::parse_size("1M") == 1048576u);
  CHECK(detail::parse_size("32768K\n") == 33554432u);
  CHECK(detail::parse_size("2G") == (2ull << 30));
  CHECK(detail::parse_size("512") == 512u);
  CHECK_FALSE(detail::parse_size("big").has_value());
  CHECK_FALSE(detail::parse_size("12X").has_value());
  CHECK(detail::count_cpu_list("0") == 1);
  CHECK(detail::count_cpu_list("0-1") == 2);
  CHECK(detail::count_cpu_list("0-3,8-11") == 8);
  CHECK(detail::count_cpu_list("0,4") == 2);
  CHECK(detail::count_cpu_list("") == 0);
  CHECK(detail::count_cpu_list("3-1") == 0);
  CHECK(detail::count_cpu_mask("00000000,0000000f") == 4);
  CHECK(detail::count_cpu_mask("11") == 2);
}

TEST_CASE("detect_cpu reads a fake x86 /proc and /sys") {
  TempTree t;
  t.write("proc/cpuinfo", x86_cpuinfo());
  t.write("proc/meminfo",
          "MemTotal:       16384000 kB\n"
          "MemFree:         1000000 kB\n"
          "MemAvailable:    8192000 kB\n");
  write_cache(t, 0, "1", "Data", "48K", "0,4");
  write_cache(t, 1, "1", "Instruction", "32K", "0,4");
  write_cache(t, 2, "2", "Unified", "2M", "0,4");
  write_cache(t, 3, "3", "Unified", "1M", "0-7");
  // A cache that says who shares it by a mask instead of a list.
  t.write("sys/devices/system/cpu/cpu0/cache/index4/level", "4\n");
  t.write("sys/devices/system/cpu/cpu0/cache/index4/type", "Unified\n");
  t.write("sys/devices/system/cpu/cpu0/cache/index4/size", "65536K\n");
  t.write("sys/devices/system/cpu/cpu0/cache/index4/shared_cpu_map", "000000ff\n");
  t.write("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "3800000\n");

  const CpuHardware cpu = detect_cpu(t.roots());
  CHECK(cpu.model == "Intel(R) Xeon(R) Platinum 8480+");
  CHECK(cpu.vendor == "GenuineIntel");
  CHECK(cpu.logical_cores == 8);
  CHECK(cpu.physical_cores == 4);
  CHECK(cpu.sockets == 2);
  CHECK(cpu.simd == std::vector<std::string>{"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
                                             "avx512_vnni", "amx_tile", "amx_bf16", "amx_int8"});
  REQUIRE(cpu.caches.size() == 5);
  CHECK(cpu.caches[0].name() == "L1d");
  CHECK(cpu.caches[0].size_bytes == 48u * 1024u);
  CHECK(cpu.caches[0].shared_by == 2);
  CHECK(cpu.caches[1].name() == "L1i");
  CHECK(cpu.caches[1].size_bytes == 32768u);
  CHECK(cpu.caches[2].name() == "L2");
  CHECK(cpu.caches[2].size_bytes == 2u * 1048576u);
  CHECK(cpu.caches[3].name() == "L3");
  CHECK(cpu.caches[3].size_bytes == 1048576u);
  CHECK(cpu.caches[3].shared_by == 8);
  CHECK(cpu.caches[4].name() == "L4");
  CHECK(cpu.caches[4].shared_by == 8);
  CHECK(cpu.memory_total_bytes == 16384000ull * 1024u);
  CHECK(cpu.memory_available_bytes == 8192000ull * 1024u);
  REQUIRE(cpu.mhz.has_value());
  CHECK(*cpu.mhz == doctest::Approx(2000.0));
  REQUIRE(cpu.max_mhz.has_value());
  CHECK(*cpu.max_mhz == doctest::Approx(3800.0));

  const std::string text = format_hardware({cpu, {}, {}});
  CHECK(text.find("8 logical, 4 physical, 2 sockets") != std::string::npos);
  CHECK(text.find("L3 cache") != std::string::npos);
  CHECK(text.find("1 MiB, shared by 8 CPUs") != std::string::npos);
  CHECK(text.find("avx512_vnni amx_tile") != std::string::npos);
}

TEST_CASE("detect_cpu reads a fake ARM /proc and /sys") {
  TempTree t;
  std::string cpuinfo;
  for (int i = 0; i < 4; ++i) {
    cpuinfo += "processor\t: " + std::to_string(i) +
               "\n"
               "BogoMIPS\t: 2000.00\n"
               "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid sve sve2 i8mm bf16\n"
               "CPU implementer\t: 0x41\n"
               "CPU architecture: 8\n"
               "CPU part\t: 0xd4f\n\n";
    t.write("sys/devices/system/cpu/cpu" + std::to_string(i) + "/topology/physical_package_id", "0\n");
    t.write("sys/devices/system/cpu/cpu" + std::to_string(i) + "/topology/core_id", std::to_string(i) + "\n");
  }
  t.write("proc/cpuinfo", cpuinfo);
  t.write("proc/meminfo", "MemTotal:  1024 kB\nMemFree:  512 kB\n");
  t.write("sys/devices/system/cpu/online", "0-3\n");
  write_cache(t, 0, "1", "Data", "64K", "0");

  const CpuHardware cpu = detect_cpu(t.roots());
  CHECK(cpu.model == "ARM Neoverse-V2");
  CHECK(cpu.vendor == "ARM");
  CHECK(cpu.logical_cores == 4);
  CHECK(cpu.physical_cores == 4);
  CHECK(cpu.sockets == 1);
  CHECK(cpu.simd == std::vector<std::string>{"asimd", "asimdhp", "sve", "sve2", "i8mm", "bf16"});
  REQUIRE(cpu.caches.size() == 1);
  CHECK(cpu.caches[0].size_bytes == 65536u);
  CHECK(cpu.memory_total_bytes == 1024u * 1024u);
  CHECK(cpu.memory_available_bytes == 512u * 1024u);  // MemFree where MemAvailable is missing
  CHECK_FALSE(cpu.mhz.has_value());
}

TEST_CASE("detect_cpu with nothing to read still counts the cores it runs on") {
  TempTree t;
  const CpuHardware cpu = detect_cpu(t.roots());
  CHECK(cpu.model == "unknown CPU");
  CHECK(cpu.logical_cores >= 1);
  CHECK(cpu.physical_cores == cpu.logical_cores);
  CHECK(cpu.sockets == 0);
  CHECK(cpu.caches.empty());
  CHECK(cpu.memory_total_bytes == 0);
  const std::string text = format_hardware({cpu, {}, {}});
  CHECK(text.find("caches") != std::string::npos);
  CHECK(text.find("unknown") != std::string::npos);
}

TEST_CASE("detect_cpu on this machine") {
  const CpuHardware cpu = detect_cpu();
  CHECK(cpu.logical_cores >= 1);
  CHECK(cpu.physical_cores >= 1);
  CHECK(cpu.physical_cores <= cpu.logical_cores);
  CHECK_FALSE(cpu.model.empty());
#if defined(__linux__)
  CHECK(cpu.memory_total_bytes > 0);
  CHECK(cpu.memory_available_bytes <= cpu.memory_total_bytes);
  for (const auto& c : cpu.caches) {
    CAPTURE(c.name());
    CHECK(c.level >= 1);
    CHECK(c.size_bytes > 0);
  }
#endif
}

TEST_CASE("detect_opencl lists devices or says why there are none") {
  const OpenClHardware cl = detect_opencl();
  std::size_t devices = 0;
  for (const auto& p : cl.platforms) devices += p.devices.size();
  CHECK((devices > 0 || !cl.reason.empty()));
  CHECK(cl.available == (devices > 0));
  for (const auto& p : cl.platforms) {
    CAPTURE(p.name);
    for (const auto& d : p.devices) {
      CAPTURE(d.name);
      CHECK_FALSE(d.name.empty());
      CHECK_FALSE(d.type.empty());
      CHECK(d.compute_units >= 1);
      CHECK(d.global_memory_bytes > 0);
      CHECK(d.max_work_group_size >= 1);
    }
  }
}

TEST_CASE("detect_opencl without a loader says so") {
  const OpenClHardware cl = detail::detect_opencl_from({"libaccelbench-no-such-opencl.so"});
  CHECK_FALSE(cl.available);
  CHECK(cl.platforms.empty());
#if defined(ACCELBENCH_HAS_OPENCL_HEADERS)
  CHECK(cl.reason.find("OpenCL ICD loader not found") == 0);
  CHECK(cl.reason.find("libaccelbench-no-such-opencl.so") != std::string::npos);
#else
  CHECK(cl.reason.find("built without OpenCL headers") == 0);
#endif
  CHECK(detail::opencl_call_error("clGetPlatformIDs", -1001) ==
        "clGetPlatformIDs returned -1001 (CL_PLATFORM_NOT_FOUND_KHR): no OpenCL platform (ICD) installed");
  CHECK(detail::opencl_call_error("clGetDeviceIDs", -77) == "clGetDeviceIDs returned -77 (unknown OpenCL error)");
}

TEST_CASE("detect_cuda lists devices or says why there are none") {
  const CudaHardware cu = detect_cuda();
  CHECK((!cu.devices.empty() || !cu.reason.empty()));
  CHECK(cu.available == !cu.devices.empty());
  for (const auto& d : cu.devices) {
    CAPTURE(d.name);
    CHECK_FALSE(d.name.empty());
    CHECK(d.multiprocessors >= 1);
    CHECK(d.memory_bytes > 0);
    CHECK(d.compute_capability.find('.') != std::string::npos);
  }
  if (!cu.driver_version.empty()) CHECK(cu.driver_version.find('.') != std::string::npos);
}

TEST_CASE("detect_cuda without a driver says so") {
  const CudaHardware cu = detail::detect_cuda_from({"libaccelbench-no-such-cuda.so"});
  CHECK_FALSE(cu.available);
  CHECK(cu.reason.find("CUDA driver library not found") == 0);
  CHECK(detail::cuda_version_text(13000) == "13.0");
  CHECK(detail::cuda_version_text(12040) == "12.4");
  CHECK(detail::cuda_version_text(11080) == "11.8");
  for (const int code : {100, 35, 999, 3, 34}) {
    CAPTURE(code);
    CHECK(detail::cuda_error_text(code).rfind("CUDA_ERROR_", 0) == 0);
  }
  CHECK(detail::cuda_error_text(100).find("CUDA_ERROR_NO_DEVICE") == 0);
}

TEST_CASE("the hardware report as text and JSON") {
  HardwareReport r;
  r.cpu = CpuHardware{.model = "Test CPU",
                      .vendor = "TestVendor",
                      .architecture = "x86_64",
                      .logical_cores = 16,
                      .physical_cores = 8,
                      .sockets = 1,
                      .simd = {"avx2", "fma"},
                      .caches = {{1, "data", 32768, 2}, {2, "unified", 1048576, 2}, {3, "unified", 33554432, 16}},
                      .memory_total_bytes = 1ull << 34,
                      .memory_available_bytes = 1ull << 33,
                      .mhz = 3000.5,
                      .max_mhz = std::nullopt};
  r.opencl.available = true;
  r.opencl.library = "libOpenCL.so.1";
  r.opencl.platforms.push_back(OpenClPlatformInfo{
      .name = "Test Platform",
      .vendor = "Test Inc.",
      .version = "OpenCL 3.0",
      .devices = {OpenClDeviceInfo{.name = "Test GPU",
                               .vendor = "Test Inc.",
                               .type = "gpu",
                               .version = "OpenCL 3.0",
                               .driver_version = "1.2.3",
                               .opencl_c_version = "OpenCL C 1.2",
                               .compute_units = 64,
                               .max_clock_mhz = 1800,
                               .global_memory_bytes = 1ull << 34,
                               .local_memory_bytes = 65536,
                               .max_work_group_size = 1024,
                               .fp64 = true,
                               .fp16 = true}},
      .error = {}});
  r.opencl.platforms.push_back(OpenClPlatformInfo{.name = "Empty", .vendor = "V", .version = "OpenCL 1.2",
                                              .devices = {}, .error = "the platform has no device"});
  r.cuda.library = "libcuda.so.1";
  r.cuda.driver_version = "13.0";
  r.cuda.available = true;
  r.cuda.devices.push_back(CudaDeviceInfo{.index = 0,
                                      .name = "NVIDIA Test",
                                      .compute_capability = "9.0",
                                      .multiprocessors = 132,
                                      .memory_bytes = 85ull << 30,
                                      .clock_mhz = 1980,
                                      .memory_clock_mhz = 2619,
                                      .memory_bus_width_bits = 5120,
                                      .l2_cache_bytes = 50ull << 20,
                                      .pci_bus_id = "0000:01:00.0"});

  const Json j = to_json(r);
  CHECK(j["cpu"]["model"] == "Test CPU");
  CHECK(j["cpu"]["logical_cores"] == 16);
  CHECK(j["cpu"]["sockets"] == 1);
  CHECK(j["cpu"]["simd"] == Json::array({"avx2", "fma"}));
  CHECK(j["cpu"]["caches"][0]["name"] == "L1d");
  CHECK(j["cpu"]["caches"][0]["size_bytes"] == 32768);
  CHECK(j["cpu"]["caches"][2]["shared_by"] == 16);
  CHECK(j["cpu"]["memory_total_bytes"] == (1ull << 34));
  CHECK(j["cpu"]["max_mhz"].is_null());
  CHECK(j["opencl"]["available"] == true);
  CHECK(j["opencl"]["reason"].is_null());
  CHECK(j["opencl"]["platforms"][0]["devices"][0]["compute_units"] == 64);
  CHECK(j["opencl"]["platforms"][0]["devices"][0]["fp16"] == true);
  CHECK(j["opencl"]["platforms"][1]["error"] == "the platform has no device");
  CHECK(j["cuda"]["driver_version"] == "13.0");
  CHECK(j["cuda"]["devices"][0]["compute_capability"] == "9.0");
  CHECK(j["cuda"]["devices"][0]["multiprocessors"] == 132);

  // Through text and back.
  const HardwareReport back = hardware_from_json(Json::parse(j.dump()));
  CHECK(back == r);

  const std::string text = format_hardware(r);
  CHECK(text.rfind("CPU\n", 0) == 0);
  CHECK(text.find("\nOpenCL\n") != std::string::npos);
  CHECK(text.find("\nCUDA\n") != std::string::npos);
  CHECK(text.find("Test GPU") != std::string::npos);
  CHECK(text.find("none: the platform has no device") != std::string::npos);
  CHECK(text.find("compute capability 9.0") != std::string::npos);
  CHECK(text.find("not available") == std::string::npos);

  HardwareReport none;
  none.opencl.reason = "OpenCL ICD loader not found (x)";
  none.cuda.reason = "cuInit returned 100 (CUDA_ERROR_NO_DEVICE): no CUDA-capable device is detected";
  const std::string missing = format_hardware(none);
  CHECK(missing.find("not available        OpenCL ICD loader not found (x)") != std::string::npos);
  CHECK(missing.find("cuInit returned 100 (CUDA_ERROR_NO_DEVICE)") != std::string::npos);
  const Json jn = to_json(none);
  CHECK(jn["cuda"]["available"] == false);
  CHECK(jn["cuda"]["reason"] == none.cuda.reason);
  CHECK(hardware_from_json(jn) == none);
}

TEST_CASE("the real report survives JSON") {
  const HardwareReport r = detect_hardware();
  CHECK(hardware_from_json(Json::parse(to_json(r).dump())) == r);
  const std::string text = format_hardware(r);
  CHECK(text.rfind("CPU\n", 0) == 0);
  CHECK(text.find("\nOpenCL\n") != std::string::npos);
  CHECK(text.find("\nCUDA\n") != std::string::npos);
}

namespace {
template <class...>
struct BackendList {};

// A vendor's backend that brings the enumeration of its own devices.
struct NpuBackend {
  static DeviceReport describe_devices() {
    return DeviceReport{.title = "NPU",
                        .key = "npu",
                        .available = false,
                        .reason = "no NPU driver",
                        .text = "  not available        no NPU driver\n",
                        .json = Json{{"available", false}, {"reason", "no NPU driver"}}};
  }
};
// A second backend on the host: its section is the CPU one, listed once.
struct HostBackend {
  static DeviceReport describe_devices() { return describe_cpu_devices(); }
};
// One that misspells the hook: it brings no section.
struct MisspeltNpuBackend {
  static DeviceReport describe_device() { return NpuBackend::describe_devices(); }
};
static_assert(HasDescribeDevices<HostBackend> && HasDescribeDevices<NpuBackend>);
static_assert(!HasDescribeDevices<MisspeltNpuBackend>);
}  // namespace

TEST_CASE("check asks each backend of the list for its devices") {
  const auto reports = describe_machine(BackendList<HostBackend, NpuBackend, MisspeltNpuBackend>{});
  std::vector<std::string> titles;
  for (const auto& r : reports) titles.push_back(r.title);
  // CPU, OpenCL and CUDA need no backend compiled in; the host backend's section is the CPU one.
  CHECK(titles == std::vector<std::string>{"CPU", "OpenCL", "CUDA", "NPU"});
  const std::string text = format_device_reports(reports);
  CHECK(text.rfind("CPU\n", 0) == 0);
  CHECK(text.find("\nOpenCL\n") != std::string::npos);
  CHECK(text.find("\nNPU\n  not available        no NPU driver\n") != std::string::npos);
  const Json j = to_json(reports);
  CHECK(j["npu"]["reason"] == "no NPU driver");
  CHECK(j["cpu"]["logical_cores"].get<int>() > 0);
  CHECK(j.contains("opencl"));
  CHECK(j.contains("cuda"));
}
