// <regex> for the netlink module. g++ 12 with -fsanitize=address reports
// -Wmaybe-uninitialized inside libstdc++'s regex compiler, a false positive (GCC bug
// 105562); the warning is silenced for the library's code only, so -Werror sanitizer
// builds work.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
