// A runner that knows one more backend than accelbench's own: every command
// of `accelbench` (run, compare, matrix, check, ...) with "plain" among the
// backends.
#include <accelbench/cli/main.hpp>

#include "plain_backend.hpp"

int main(int argc, char** argv) {
  using Backends = accelbench::append_t<accelbench::KnownBackends, plain::PlainBackend>;
  return accelbench::cli::main<Backends>(argc, argv);
}
