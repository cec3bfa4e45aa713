// The build level of a program compiled with accelbench's own settings.

#include "build_level.hpp"

int main() {
  print_build_level();
  return 0;
}
