// fmt's compiled part, built once into guardian (GUARDIAN_STATIC_CXX: see
// GuardianLibraries.cmake). Debian ships fmt as libfmt.so only, which pulls libstdc++.so into
// the executable; fmt's header-only mode instead re-compiles its implementation in every
// file that formats (+40 % compile time per file). Here the out-of-line functions that
// <fmt/format-inl.h> defines are compiled once.
#include <fmt/format-inl.h>

// The templates <fmt/format.h> declares `extern` for the library to provide, for char (the
// only character type guardian formats; a missing one is a link error, never a silent gap).
FMT_BEGIN_NAMESPACE
namespace detail {
template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl<char>(locale_ref) -> char;
}  // namespace detail
FMT_END_NAMESPACE
