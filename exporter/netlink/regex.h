// <regex> for the netlink module. g++ 12 with -fsanitize=address reports
// -Wmaybe-uninitialized inside libstdc++'s regex compiler, a false positive (GCC bug
// 105562); the warning is silenced for the library's code only, so -Werror sanitizer
// builds work.
#pragma once

// clang (the fuzz build) has no such warning and would reject the pragma under -Werror.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#else
#include <regex>
#endif
