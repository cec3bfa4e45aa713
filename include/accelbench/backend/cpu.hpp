#pragma once

// The Cpu backend: Eigen kernels that are both the reference every other
// backend is verified against and what the CPU is timed with. The class is
// in cpu/backend.hpp, its ops by op set in cpu/encoder_ops.hpp,
// cpu/generation_ops.hpp, cpu/perception_ops.hpp and cpu/detection_ops.hpp.

#include "cpu/backend.hpp"
#include "cpu/encoder_ops.hpp"
#include "cpu/generation_ops.hpp"
#include "cpu/perception_ops.hpp"
#include "cpu/detection_ops.hpp"
