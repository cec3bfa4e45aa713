// accelbench: the command-line suite runner (accelbench --help). The work of
// each family is compiled in a translation unit of its own (family_*.cpp,
// declared in runner_families.hpp), so that the build uses every core.

#include <accelbench/cli/main.hpp>

#include "runner_families.hpp"

int main(int argc, char** argv) { return accelbench::cli::main(argc, argv); }
