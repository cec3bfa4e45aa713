#pragma once

// Compile-time lists of types: the registries of policies (suite/registry.hpp)
// and the lists of architectures a family runs (model/generative.hpp).

namespace accelbench {

/// A compile-time list of types.
template <class... Ts>
struct TypeList {};

namespace detail {
template <class List, class... Ts>
struct append;
template <class... Ls, class... Ts>
struct append<TypeList<Ls...>, Ts...> {
  using type = TypeList<Ls..., Ts...>;
};
}  // namespace detail

/// `List` with `Ts...` added at its end: append_t<KnownBackends, MyBackend>.
template <class List, class... Ts>
using append_t = typename detail::append<List, Ts...>::type;

}  // namespace accelbench
