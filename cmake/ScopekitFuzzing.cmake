# ScopekitFuzzing.cmake - SCOPEKIT_BUILD_FUZZERS=ON: every target of this build is instrumented
# for libFuzzer (coverage) with AddressSanitizer and UndefinedBehaviorSanitizer, and the fuzz
# targets in tests/fuzz link libFuzzer's main. Included from the top-level CMakeLists.txt before
# any target is defined. Run the fuzzers with tests/fuzz/run_fuzzers.sh (preset `fuzz`).
include_guard(GLOBAL)

if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR
    "SCOPEKIT_BUILD_FUZZERS=ON needs Clang (libFuzzer is part of Clang's compiler-rt); "
    "this build uses ${CMAKE_CXX_COMPILER_ID} (${CMAKE_CXX_COMPILER}). "
    "Configure with -DCMAKE_CXX_COMPILER=clang++-14, or use the preset: cmake --preset fuzz")
endif()

# -fno-sanitize=function: with coverage instrumentation, clang 14 fails to assemble the function
# type checks' prologue data of driver-adapter/client/src/connection.cpp ("Cannot represent a
# difference across sections"); the rest of UBSan stays on. The asan preset does the same.
# Line tables are what the crash reports' stack traces need (libFuzzer's own advice is -O1 with
# them); full debug info would cost a tenth more compile time for nothing the reports show.
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                    -fno-sanitize-recover=all -fno-omit-frame-pointer -gline-tables-only)
add_link_options(-fsanitize=address,undefined)
