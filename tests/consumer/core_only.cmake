# core_only.cmake - scopekit as a user who wants only the header-only core gets it:
#
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -DCXX_COMPILER=... -DCXX_FLAGS=...
#         -DLINKER_FLAGS=... -DCTEST_COMMAND=... -P core_only.cmake
#
# configures scopekit with SCOPEKIT_BUILD_CQL, _CQL_SERVER and _TOOLS off (and no tests or
# examples), checks that building it compiles nothing, installs it, and builds and runs the
# consumer project against the install, which must find scopekit::scope and no CQL target.
cmake_minimum_required(VERSION 3.21)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
run("configuring the core alone"
    "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DSCOPEKIT_BUILD_CQL=OFF
    -DSCOPEKIT_BUILD_CQL_SERVER=OFF -DSCOPEKIT_BUILD_TOOLS=OFF -DSCOPEKIT_BUILD_TESTS=OFF
    -DSCOPEKIT_BUILD_EXAMPLES=OFF -DSCOPEKIT_INSTALL=ON)
run("building the core alone" "${CMAKE_COMMAND}" --build "${WORK_DIR}/build" --verbose)
if(output MATCHES "Building CXX|Linking CXX|-c [^ ]+\\.cpp")
  message(FATAL_ERROR "building the core alone compiled something:\n${output}")
endif()
run("installing the core alone"
    "${CMAKE_COMMAND}" --install "${WORK_DIR}/build" --prefix "${WORK_DIR}/prefix")
file(GLOB_RECURSE installed RELATIVE "${WORK_DIR}/prefix" "${WORK_DIR}/prefix/*")
foreach(file IN LISTS installed)
  if(file MATCHES "/cql/|\\.a$|\\.so|/bin/")
    message(FATAL_ERROR "the core's install holds ${file}")
  endif()
endforeach()
run("the consumer against the core"
    "${CTEST_COMMAND}" --build-and-test "${SOURCE_DIR}/tests/consumer/project"
    "${WORK_DIR}/consumer" --build-generator "${GENERATOR}" --build-options
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}" "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix"
    -DMODE=find_package -DEXPECT_LAYERS=core --test-command "${WORK_DIR}/consumer/consumer")
message("${output}")
