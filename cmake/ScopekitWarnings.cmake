# scopekit_warnings: the warning flags for scopekit's own tests, examples and benchmarks.
# Never linked into an exported target, so consumers never inherit them.
add_library(scopekit_warnings INTERFACE)
add_library(scopekit::warnings ALIAS scopekit_warnings)

if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(scopekit_warnings INTERFACE -Wall -Wextra -Wpedantic -Wconversion
                                                     -Wshadow)
  # Names reserved to the implementation (__x, _X, a global _x): clang finds them as it compiles
  # (it stands in for clang-tidy's bugprone-reserved-identifier, see .clang-tidy).
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(scopekit_warnings INTERFACE -Wreserved-identifier)
  endif()
  if(SCOPEKIT_WERROR)
    target_compile_options(scopekit_warnings INTERFACE -Werror)
  endif()
elseif(MSVC)
  target_compile_options(scopekit_warnings INTERFACE /W4 /permissive-)
  if(SCOPEKIT_WERROR)
    target_compile_options(scopekit_warnings INTERFACE /WX)
  endif()
endif()
