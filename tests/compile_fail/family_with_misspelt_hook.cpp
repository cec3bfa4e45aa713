// A family that means to report tokens per second but spells the hook
// token(cell): stating the hook through its concept catches the misspelling,
// and the message names HasTokens and tokens.
#include <accelbench/family/hooks.hpp>

struct MisspeltTokens {
  struct Cell {
    int batch_size = 1;
  };
  using Preset = int;
  static double token(const Cell& c) { return c.batch_size; }
};

template <accelbench::HasTokens F>
constexpr bool provides_tokens = true;

static_assert(provides_tokens<MisspeltTokens>);

int main() {}
