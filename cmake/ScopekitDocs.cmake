# ScopekitDocs.cmake - every C++ block in the Markdown docs compiles, every program in them runs.
#
#   scopekit_add_doc_checks(SOURCE_DIR <dir> PRELUDE_HEADERS <header>... LINK_LIBRARIES <lib>...
#                           [SKIP_PAGES <page>...] [PROGRAMS_ONLY | LEAKS_ONLY])
#
# SKIP_PAGES names pages (paths below SOURCE_DIR) whose blocks are not checked in this build:
# those of an optional dependency that was not found. PROGRAMS_ONLY builds and runs the programs
# but does not compile the other blocks (scopekit_doc_blocks is not defined then): for a second
# build that runs the programs under a sanitizer, where compiling the rest again proves nothing.
# LEAKS_ONLY builds and runs only the 'leaks' programs (below): for a second build with
# AddressSanitizer, the only kind of build that can check them, next to one that checks the rest.
#
# At configure time, each *.md file under SOURCE_DIR is read and each fenced C++ block in it
# (```cpp, ```c++ or ```cxx) is written to its own translation unit,
# ${CMAKE_CURRENT_BINARY_DIR}/blocks/<page>_<n>.cpp, where <page> is the page's path below
# SOURCE_DIR without ".md" (as an identifier: reference/scope_exit -> reference_scope_exit) and
# <n> numbers the page's C++ blocks from 1, skipped ones included. A #line directive points
# every diagnostic at the Markdown file and line. The .md files are configure dependencies, so
# editing one re-extracts its blocks on the next build.
#
# The HTML comment on the line before a block's fence says what the block is:
#
#   (no comment)               a complete translation unit with its own #includes. If it
#                              defines `int main(`, it becomes the executable doc_<page>_<n>
#                              and the ctest test doc.<page>.<n> (slashes become dots);
#                              otherwise it is compiled into the object library
#                              scopekit_doc_blocks.
#   <!-- compile: wrap -->     statements: the body of an unused function, compiled after
#                              every PRELUDE_HEADERS include. #include lines at the top of the
#                              block are moved out of the function.
#   <!-- compile: synopsis --> declarations restating the library's interface, compiled after
#                              the PRELUDE_HEADERS inside a namespace of their own that sees
#                              every scopekit name. This proves the synopsis is valid C++ naming
#                              real things; it does not prove that it matches the headers.
#   <!-- compile: skip -->     not compiled: only for a deliberately wrong block, and the page
#                              must say why it shows it.
#   <!-- compile: leaks -->    a complete program that leaks memory on purpose (a "don't do
#                              this" example), followed by its <!-- output --> block. In a build
#                              with AddressSanitizer (-fsanitize=...address... in the C++ or
#                              linker flags), the test doc.<page>.<n> passes only if
#                              LeakSanitizer reports the leak ("detected memory leaks"; the exit
#                              status is then ignored), and doc.<page>.<n>.output runs it again
#                              with leak detection off and compares its output. In other builds
#                              doc.<page>.<n> compares its output, like any program.
#
# A fenced block marked <!-- output --> that follows a program (with no other C++ block in
# between) is the program's whole output: the test passes only if the program prints exactly
# that text.
#
# Every target links LINK_LIBRARIES; the custom target scopekit_docs builds them all.
include_guard(GLOBAL)

# Placeholders for the characters that CMake's list handling would otherwise interpret.
string(ASCII 1 _scopekit_doc_semicolon)
string(ASCII 2 _scopekit_doc_open_bracket)
string(ASCII 3 _scopekit_doc_close_bracket)
string(ASCII 4 _scopekit_doc_backslash)

# The #line directives make GCC take each block for a header (the .md file) rather than the main
# file, so it warns (-Wsubobject-linkage) when a coroutine frame holds a lambda, as a program in
# the main file may; blocks are main files, so the warning is off for them.
if(NOT TARGET _scopekit_doc_flags)
  add_library(_scopekit_doc_flags INTERFACE)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(_scopekit_doc_flags INTERFACE -Wno-subobject-linkage)
  endif()
endif()

# _scopekit_doc_encode(<out> <text>) / _scopekit_doc_decode(<out> <text>)
function(_scopekit_doc_encode out text)
  string(REPLACE "\\" "${_scopekit_doc_backslash}" text "${text}")
  string(REPLACE ";" "${_scopekit_doc_semicolon}" text "${text}")
  string(REPLACE "[" "${_scopekit_doc_open_bracket}" text "${text}")
  string(REPLACE "]" "${_scopekit_doc_close_bracket}" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(_scopekit_doc_decode out text)
  string(REPLACE "${_scopekit_doc_semicolon}" ";" text "${text}")
  string(REPLACE "${_scopekit_doc_open_bracket}" "[" text "${text}")
  string(REPLACE "${_scopekit_doc_close_bracket}" "]" text "${text}")
  string(REPLACE "${_scopekit_doc_backslash}" "\\" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Writes only when the content changes, so that re-configuring rebuilds only edited blocks.
function(_scopekit_doc_write path content)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()

# _scopekit_doc_split_includes(<includes-out> <rest-out> <rest-line-out> <body> <line>):
# separates the #include lines (and blank lines) at the top of an encoded block from the rest,
# and gives the Markdown line on which the rest starts.
function(_scopekit_doc_split_includes includes_out rest_out rest_line_out body line)
  string(REPLACE "\n" ";" lines "${body}")
  set(includes "")
  set(rest "")
  set(in_head TRUE)
  foreach(l IN LISTS lines)
    if(in_head AND l MATCHES "^[ \t]*(#[ \t]*include[ \t].*)?$")
      string(APPEND includes "${l}\n")
      math(EXPR line "${line} + 1")
    else()
      set(in_head FALSE)
      string(APPEND rest "${l}\n")
    endif()
  endforeach()
  set(${includes_out} "${includes}" PARENT_SCOPE)
  set(${rest_out} "${rest}" PARENT_SCOPE)
  set(${rest_line_out} "${line}" PARENT_SCOPE)
endfunction()

# _scopekit_doc_sanitizer_option(<test> <variable> <option>): appends a sanitizer option
# (<variable> is ASAN_OPTIONS or LSAN_OPTIONS) for one test, keeping the ones the environment
# already sets (a later option overrides an earlier one).
function(_scopekit_doc_sanitizer_option test variable option)
  if(CMAKE_VERSION VERSION_LESS 3.22)
    set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT "${variable}=${option}")
  else()
    set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT_MODIFICATION
                                              "${variable}=string_append::${option}")
  endif()
endfunction()

# _scopekit_doc_page(<md> <relative path>): extracts and registers the blocks of one page.
# Reads arg_PRELUDE_HEADERS, arg_LINK_LIBRARIES and arg_LEAKS_ONLY from scopekit_add_doc_checks,
# its caller; appends to the caller's _scopekit_doc_sources (compile-only blocks),
# _scopekit_doc_programs (executables) and _scopekit_doc_generated (every file written).
function(_scopekit_doc_page md rel)
  string(REGEX REPLACE "\\.md$" "" stem "${rel}")
  string(MAKE_C_IDENTIFIER "${stem}" id)
  string(REPLACE "/" "." test_stem "${stem}")
  set(block_dir "${CMAKE_CURRENT_BINARY_DIR}/blocks")
  file(RELATIVE_PATH shown_path "${PROJECT_SOURCE_DIR}" "${md}")
  # The #line directives name the page relative to the build tree, where the compiler runs, so
  # that diagnostics lead to it and the generated text is the same in every clone (a compiler
  # cache then finds a block another clone compiled).
  file(RELATIVE_PATH line_path "${PROJECT_BINARY_DIR}" "${md}")

  set(prelude "")
  foreach(header IN LISTS arg_PRELUDE_HEADERS)
    string(APPEND prelude "#include <${header}>\n")
  endforeach()

  file(READ "${md}" text)
  string(REPLACE "\r" "" text "${text}")
  _scopekit_doc_encode(text "${text}")
  string(REPLACE "\n" ";" lines "${text}")

  set(sources "${_scopekit_doc_sources}")
  set(programs "${_scopekit_doc_programs}")
  set(generated "${_scopekit_doc_generated}")
  set(line_number 0)
  set(fence "")         # inside a fence: cpp, output or other
  set(marker "")        # the pending comment: wrap, synopsis, skip or output
  set(marker_line 0)
  set(count 0)          # C++ blocks seen on this page
  set(awaiting_output "") # the test of the program just extracted, until another block comes
  set(leaks_line "")      # the line of a leaks program whose output block has not come yet

  foreach(line IN LISTS lines)
    math(EXPR line_number "${line_number} + 1")

    if(NOT fence STREQUAL "")
      if(NOT line MATCHES "^[ \t]*```[ \t]*$")
        if(NOT fence STREQUAL "other")
          string(APPEND body "${line}\n")
        endif()
        continue()
      endif()

      # The closing fence.
      if(fence STREQUAL "output")
        _scopekit_doc_decode(expected "${body}")
        string(REGEX REPLACE "([][.*+?^$()|\\\\])" "\\\\\\1" expected "${expected}")
        # A ';' would split the property into several regular expressions; "[;]" keeps it one.
        string(REPLACE ";" "[;]" expected "${expected}")
        if(NOT awaiting_output STREQUAL "<not built>")
          set_tests_properties("${awaiting_output}" PROPERTIES PASS_REGULAR_EXPRESSION
                                                               "^${expected}$")
        endif()
        set(awaiting_output "")
        set(leaks_line "")
      elseif(fence STREQUAL "cpp")
        set(name "${id}_${count}")
        set(source "${block_dir}/${name}.cpp")
        string(CONCAT header "// Generated by cmake/ScopekitDocs.cmake from ${shown_path}, "
                      "C++ block ${count} (line ${body_line}).\n"
                      "// Edit the Markdown page, not this file.\n")
        if(NOT mode STREQUAL "skip")
          list(APPEND generated "${source}")
        endif()

        if(mode STREQUAL "skip")
          set(awaiting_output "")
        elseif(mode STREQUAL "leaks")
          if(NOT body MATCHES "(^|\n)[ \t]*int[ \t]+main[ \t]*\\(")
            message(FATAL_ERROR "${md}:${body_line}: a 'leaks' block must be a complete program "
                                "that defines main()")
          endif()
          _scopekit_doc_decode(content "${header}#line ${body_line} \"${line_path}\"\n${body}")
          _scopekit_doc_write("${source}" "${content}")
          set(test doc.${test_stem}.${count})
          add_executable(doc_${name} "${source}")
          target_link_libraries(doc_${name} PRIVATE ${arg_LINK_LIBRARIES} _scopekit_doc_flags)
          add_test(NAME ${test} COMMAND doc_${name})
          set_tests_properties(${test} PROPERTIES LABELS docs)
          list(APPEND programs doc_${name})
          if(_scopekit_doc_lsan)
            # LeakSanitizer must report the leak; it exits with a nonzero status then, which
            # PASS_REGULAR_EXPRESSION ignores. A second run with leak detection off checks the
            # output (LeakSanitizer ends the process before stdout's buffer is flushed).
            set_tests_properties(${test} PROPERTIES PASS_REGULAR_EXPRESSION
                                                    "detected memory leaks")
            add_test(NAME ${test}.output COMMAND doc_${name})
            set_tests_properties(${test}.output PROPERTIES LABELS docs)
            _scopekit_doc_sanitizer_option(${test} ASAN_OPTIONS "detect_leaks=1")
            # The check runs after main() returned, when no stack holds a live object; the stack
            # still holds stale copies of pointers (more of them in an unoptimised build), and
            # LeakSanitizer, which scans conservatively, would count them as references.
            _scopekit_doc_sanitizer_option(${test} LSAN_OPTIONS "use_stacks=0")
            _scopekit_doc_sanitizer_option(${test}.output ASAN_OPTIONS "detect_leaks=0")
            set(awaiting_output ${test}.output)
          else()
            set(awaiting_output ${test})
          endif()
          set(leaks_line ${body_line})
        elseif(mode STREQUAL "wrap" OR mode STREQUAL "synopsis")
          _scopekit_doc_split_includes(includes rest rest_line "${body}" "${body_line}")
          if(rest MATCHES "(^|\n)[ \t]*int[ \t]+main[ \t]*\\(")
            message(FATAL_ERROR "${md}:${body_line}: a '${mode}' block cannot define main(); "
                                "drop the comment to make it a program")
          endif()
          if(mode STREQUAL "wrap")
            set(open "namespace {\n[[maybe_unused]] void scopekit_doc_block() {\n")
            set(close "}\n}  // namespace\n")
          else()
            set(open "namespace scopekit_doc_synopsis {\nusing namespace ::scopekit;\n")
            set(close "}  // namespace scopekit_doc_synopsis\n")
          endif()
          set(content "${header}${prelude}#line ${body_line} \"${line_path}\"\n${includes}${open}")
          string(APPEND content "#line ${rest_line} \"${line_path}\"\n${rest}${close}")
          _scopekit_doc_decode(content "${content}")
          _scopekit_doc_write("${source}" "${content}")
          list(APPEND sources "${source}")
          set(awaiting_output "")
        else()
          _scopekit_doc_decode(content "${header}#line ${body_line} \"${line_path}\"\n${body}")
          _scopekit_doc_write("${source}" "${content}")
          if(NOT body MATCHES "(^|\n)[ \t]*int[ \t]+main[ \t]*\\(")
            list(APPEND sources "${source}")
            set(awaiting_output "")
          elseif(arg_LEAKS_ONLY)
            set(awaiting_output "<not built>")  # its <!-- output --> block is still read
          else()
            add_executable(doc_${name} "${source}")
            target_link_libraries(doc_${name} PRIVATE ${arg_LINK_LIBRARIES} _scopekit_doc_flags)
            add_test(NAME doc.${test_stem}.${count} COMMAND doc_${name})
            set_tests_properties(doc.${test_stem}.${count} PROPERTIES LABELS docs)
            list(APPEND programs doc_${name})
            set(awaiting_output doc.${test_stem}.${count})
          endif()
        endif()
      endif()
      set(fence "")
      continue()
    endif()

    # Outside a fence: an opening fence, a marker comment or prose.
    if(line MATCHES "^[ \t]*```")
      string(REGEX MATCH "^[ \t]*```[ \t]*([^ \t]*)" ignored "${line}")
      string(TOLOWER "${CMAKE_MATCH_1}" language)
      set(body "")
      set(fence_line ${line_number})
      math(EXPR body_line "${line_number} + 1")
      if(language MATCHES "^(cpp|c\\+\\+|cxx)$")
        if(NOT leaks_line STREQUAL "")
          message(FATAL_ERROR "${md}:${leaks_line}: a 'leaks' program must be followed by its "
                              "<!-- output --> block before the next C++ block")
        endif()
        set(fence "cpp")
        math(EXPR count "${count} + 1")
        if(marker STREQUAL "output")
          message(FATAL_ERROR "${md}:${marker_line}: <!-- output --> marks the output of a "
                              "program, not a C++ block")
        endif()
        set(mode "${marker}")
      elseif(marker STREQUAL "output")
        if(awaiting_output STREQUAL "")
          message(FATAL_ERROR "${md}:${marker_line}: <!-- output --> must follow a C++ block "
                              "that defines main(), with no other C++ block in between")
        endif()
        set(fence "output")
      else()
        if(NOT marker STREQUAL "")
          message(FATAL_ERROR "${md}:${marker_line}: <!-- compile: ${marker} --> must precede "
                              "a ```cpp block")
        endif()
        set(fence "other")
      endif()
      set(marker "")
    elseif(line MATCHES "^[ \t]*<!--[ \t]*compile:[ \t]*([a-z]+)[ \t]*-->[ \t]*$")
      set(marker "${CMAKE_MATCH_1}")
      set(marker_line ${line_number})
      if(NOT marker MATCHES "^(wrap|synopsis|skip|leaks)$")
        message(FATAL_ERROR "${md}:${line_number}: unknown <!-- compile: ${marker} -->; "
                            "use wrap, synopsis, skip or leaks")
      endif()
    elseif(line MATCHES "^[ \t]*<!--[ \t]*output[ \t]*-->[ \t]*$")
      set(marker "output")
      set(marker_line ${line_number})
    elseif(line MATCHES "^[ \t]*<!--[ \t]*(compile|output)")
      message(FATAL_ERROR "${md}:${line_number}: malformed marker; write "
                          "<!-- compile: wrap|synopsis|skip|leaks --> or <!-- output --> alone on "
                          "a line")
    elseif(NOT marker STREQUAL "" AND NOT line MATCHES "^[ \t]*$")
      message(FATAL_ERROR "${md}:${marker_line}: a marker comment must be followed by a fence")
    endif()
  endforeach()

  if(NOT fence STREQUAL "")
    message(FATAL_ERROR "${md}:${fence_line}: this fenced block is never closed")
  endif()
  if(NOT marker STREQUAL "")
    message(FATAL_ERROR "${md}:${marker_line}: a marker comment must be followed by a fence")
  endif()
  if(NOT leaks_line STREQUAL "")
    message(FATAL_ERROR "${md}:${leaks_line}: a 'leaks' program must be followed by its "
                        "<!-- output --> block")
  endif()

  set(_scopekit_doc_sources "${sources}" PARENT_SCOPE)
  set(_scopekit_doc_programs "${programs}" PARENT_SCOPE)
  set(_scopekit_doc_generated "${generated}" PARENT_SCOPE)
endfunction()

function(scopekit_add_doc_checks)
  cmake_parse_arguments(PARSE_ARGV 0 arg "PROGRAMS_ONLY;LEAKS_ONLY" "SOURCE_DIR"
                        "PRELUDE_HEADERS;LINK_LIBRARIES;EXTRA_PAGES;SKIP_PAGES")
  if(NOT arg_SOURCE_DIR)
    message(FATAL_ERROR "scopekit_add_doc_checks: SOURCE_DIR is required")
  endif()
  if(arg_PROGRAMS_ONLY AND arg_LEAKS_ONLY)
    message(FATAL_ERROR "scopekit_add_doc_checks: PROGRAMS_ONLY and LEAKS_ONLY exclude each other")
  endif()

  file(GLOB_RECURSE pages CONFIGURE_DEPENDS RELATIVE "${arg_SOURCE_DIR}" "${arg_SOURCE_DIR}/*.md")
  if(arg_SKIP_PAGES)
    list(REMOVE_ITEM pages ${arg_SKIP_PAGES})
  endif()
  list(SORT pages)
  file(MAKE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/blocks")

  # Whether this build runs programs under AddressSanitizer, whose LeakSanitizer checks the
  # 'leaks' blocks. (MSVC's /fsanitize=address has no leak checker and does not match.)
  string(TOUPPER "${CMAKE_BUILD_TYPE}" build_type)
  set(flags "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${build_type}} ${CMAKE_EXE_LINKER_FLAGS}")
  if(flags MATCHES "-fsanitize=([^ ]*,)?address")
    set(_scopekit_doc_lsan TRUE)
  else()
    set(_scopekit_doc_lsan FALSE)
  endif()

  set(_scopekit_doc_sources "")
  set(_scopekit_doc_programs "")
  set(_scopekit_doc_generated "")
  foreach(page IN LISTS pages)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${arg_SOURCE_DIR}/${page}")
    _scopekit_doc_page("${arg_SOURCE_DIR}/${page}" "${page}")
  endforeach()
  # Pages outside SOURCE_DIR (the top-level README.md), named by their file name.
  foreach(path IN LISTS arg_EXTRA_PAGES)
    get_filename_component(page "${path}" NAME)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${path}")
    _scopekit_doc_page("${path}" "${page}")
  endforeach()

  # Blocks that no longer exist (a page was edited or removed) leave no stale sources behind.
  file(GLOB existing "${CMAKE_CURRENT_BINARY_DIR}/blocks/*.cpp")
  foreach(stale IN LISTS existing)
    if(NOT stale IN_LIST _scopekit_doc_generated)
      file(REMOVE "${stale}")
    endif()
  endforeach()

  add_custom_target(scopekit_docs)
  if(_scopekit_doc_sources AND NOT arg_PROGRAMS_ONLY AND NOT arg_LEAKS_ONLY)
    add_library(scopekit_doc_blocks OBJECT ${_scopekit_doc_sources})
    target_link_libraries(scopekit_doc_blocks PRIVATE ${arg_LINK_LIBRARIES} _scopekit_doc_flags)
    add_dependencies(scopekit_docs scopekit_doc_blocks)
  endif()
  if(_scopekit_doc_programs)
    add_dependencies(scopekit_docs ${_scopekit_doc_programs})
  endif()
endfunction()
