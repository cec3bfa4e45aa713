// A backend that means to provide device_key() but spells it device_keys():
// stating the hook through its concept catches the misspelling, and the
// message names HasDeviceKey and device_key.
#include <accelbench/backend/hooks.hpp>

#include <string>

struct MisspeltKey {
  std::string device_keys() const { return "0"; }
};

template <accelbench::HasDeviceKey B>
constexpr bool provides_device_key = true;

static_assert(provides_device_key<MisspeltKey>);

int main() {}
