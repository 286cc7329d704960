# check_layers.cmake - the include and link rule of docs/architecture.md, checked over the sources.
#
#   cmake -DSOURCE_DIR=<scopekit> [-DLINKS_<layer>=<a|b|...>]... -P check_layers.cmake
#
# Every #include "..." in a layer's sources must name a header of a layer it may depend on:
#
#   scope     scope                                 (the header-only core)
#   protocol  protocol                              (no scopekit core, no threads, no sockets)
#   net       net                                   (unique_fd, socket calls; internal)
#   client    protocol, net, client, scope
#   server    protocol, net, server, scope          (never the client)
#   export    protocol, client, server, scope, export
#
# A header is placed by its path: scopekit/cql/protocol/ is the protocol layer, scopekit/cql/net/
# the shared socket piece, scopekit/cql/client/ the client, scopekit/cql/server/ the server, cql_export/ the exporter, any other scopekit/ the
# core; a name without a folder is a private header of the including layer. The protocol layer
# also may not include the standard library's or POSIX's thread and socket headers. LINKS_<layer>
# lists the libraries a layer's target links (CMake's LINK_LIBRARIES); each scopekit:: library
# named there must be one of the layers it may depend on. Prints every violation with file:line
# and fails if there is one.
cmake_minimum_required(VERSION 3.21)

set(layers scope protocol net client server export)
set(dir_scope "scope/include")
set(dir_protocol "driver-adapter/protocol")
set(dir_net "driver-adapter/net")
set(dir_client "driver-adapter/client")
set(dir_server "driver-adapter/server")
set(dir_export "driver-adapter/export")
set(allowed_scope scope)
set(allowed_protocol protocol)
set(allowed_net net)
set(allowed_client protocol net client scope)
set(allowed_server protocol net server scope)
set(allowed_export protocol client server scope export)
set(forbidden_system_protocol thread mutex shared_mutex condition_variable atomic future
                              stop_token semaphore sys/socket.h netdb.h poll.h pthread.h)
set(target_of_scope "scopekit::scope")
set(target_of_protocol "scopekit::cql_protocol")
set(target_of_client "scopekit::cql")
set(target_of_server "scopekit::cql_server")
set(target_of_net "scopekit_cql_net")

# layer_of_header(<out> <include path> <including layer>)
function(layer_of_header out path own)
  if(path MATCHES "^scopekit/cql/protocol/")
    set(layer protocol)
  elseif(path MATCHES "^scopekit/cql/net/")
    set(layer net)
  elseif(path MATCHES "^scopekit/cql/client/")
    set(layer client)
  elseif(path MATCHES "^scopekit/cql/server/")
    set(layer server)
  elseif(path MATCHES "^scopekit/cql/")
    set(layer "none (scopekit/cql/ without a layer folder)")
  elseif(path MATCHES "^scopekit/")
    set(layer scope)
  elseif(path MATCHES "^cql_export/")
    set(layer export)
  elseif(NOT path MATCHES "/")
    set(layer ${own})
  else()
    set(layer "none (unknown path)")
  endif()
  set(${out} "${layer}" PARENT_SCOPE)
endfunction()

set(violations 0)
set(files_checked 0)
foreach(layer IN LISTS layers)
  file(GLOB_RECURSE sources "${SOURCE_DIR}/${dir_${layer}}/*.hpp" "${SOURCE_DIR}/${dir_${layer}}/*.cpp")
  foreach(source IN LISTS sources)
    math(EXPR files_checked "${files_checked} + 1")
    file(RELATIVE_PATH shown "${SOURCE_DIR}" "${source}")
    file(STRINGS "${source}" lines)
    set(number 0)
    foreach(line IN LISTS lines)
      math(EXPR number "${number} + 1")
      if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"")
        layer_of_header(target "${CMAKE_MATCH_1}" ${layer})
        if(NOT target IN_LIST allowed_${layer})
          message("${shown}:${number}: the ${layer} layer includes \"${CMAKE_MATCH_1}\", "
                  "of the ${target} layer; it may include only: ${allowed_${layer}}")
          math(EXPR violations "${violations} + 1")
        endif()
      elseif(line MATCHES "^[ \t]*#[ \t]*include[ \t]*<([^>]+)>")
        if(CMAKE_MATCH_1 IN_LIST forbidden_system_${layer})
          message("${shown}:${number}: the ${layer} layer includes <${CMAKE_MATCH_1}>, "
                  "which it may not (no threads, no sockets)")
          math(EXPR violations "${violations} + 1")
        endif()
      endif()
    endforeach()
  endforeach()
endforeach()

foreach(layer IN LISTS layers)
  if(NOT DEFINED LINKS_${layer})
    continue()
  endif()
  string(REPLACE "|" ";" links "${LINKS_${layer}}")
  foreach(link IN LISTS links)
    # A private link is written $<BUILD_INTERFACE:...> (or $<LINK_ONLY:...>): judge what it wraps.
    string(REGEX REPLACE "^\\$<(BUILD_INTERFACE|LINK_ONLY):(.*)>$" "\\2" link "${link}")
    if(NOT link MATCHES "^scopekit(::|_cql_net)" OR link STREQUAL "scopekit::warnings")
      continue()
    endif()
    set(ok FALSE)
    foreach(other IN LISTS allowed_${layer})
      if(link STREQUAL "${target_of_${other}}")
        set(ok TRUE)
      endif()
    endforeach()
    if(NOT ok)
      message("${target_of_${layer}} links ${link}; the ${layer} layer may depend only on: "
              "${allowed_${layer}}")
      math(EXPR violations "${violations} + 1")
    endif()
  endforeach()
endforeach()

if(files_checked EQUAL 0)
  message(FATAL_ERROR "no sources found under ${SOURCE_DIR}: wrong SOURCE_DIR?")
endif()
if(violations GREATER 0)
  message(FATAL_ERROR "${violations} dependencies against the layers of docs/architecture.md")
endif()
message("layers: ${files_checked} files checked, every include and link follows the rule")
