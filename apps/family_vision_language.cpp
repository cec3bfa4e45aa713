// The runner's work for the vision-language family on every backend (runner_families.hpp).

#include "runner_families.hpp"

ACCELBENCH_RUNNER_FAMILY(, accelbench::VisionLanguage);
