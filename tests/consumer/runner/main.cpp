// A runner that knows one more backend than accelbench's own: every command
// of `accelbench` (run, compare, matrix, check, ...) with "plain" among the
// backends, over the families this vendor benchmarks (the second argument;
// every family of the library, KnownFamilies, when it is left out).
#include <accelbench/cli/main.hpp>

#include "plain_backend.hpp"

int main(int argc, char** argv) {
  using Backends = accelbench::append_t<accelbench::KnownBackends, plain::PlainBackend>;
  using Families = accelbench::TypeList<accelbench::Embedding, accelbench::Vision>;
  return accelbench::cli::main<Backends, Families>(argc, argv);
}
