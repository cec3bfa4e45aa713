// The runner's work for the audio-text family on every backend (runner_families.hpp).

#include "runner_families.hpp"

ACCELBENCH_RUNNER_FAMILY(, accelbench::AudioText);
