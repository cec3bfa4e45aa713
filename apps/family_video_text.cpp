// The runner's work for the video-text family on every backend (runner_families.hpp).

#include "runner_families.hpp"

ACCELBENCH_RUNNER_FAMILY(, accelbench::VideoText);
