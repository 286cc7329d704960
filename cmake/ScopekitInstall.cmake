# Install rules: headers, the exported targets (namespace scopekit::), a package config file
# and a version file, so that find_package(scopekit CONFIG) works from an install prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SCOPEKIT_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/scopekit"
    CACHE STRING "Where scopekit's package config files are installed")

# The targets this build defines: the core always, the CQL layers when they are built.
set(scopekit_installed_targets scopekit_scope)
foreach(target IN ITEMS scopekit_cql_protocol scopekit_cql scopekit_cql_server scopekit-cql-server)
  if(TARGET ${target})
    list(APPEND scopekit_installed_targets ${target})
  endif()
endforeach()
install(
  TARGETS ${scopekit_installed_targets}
  EXPORT scopekit-targets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
# The exporter, next to scopekit-cql-server. A program only: it is not part of the exported
# targets (its internal library is linked in and not installed).
if(TARGET scopekit-cql-export)
  install(TARGETS scopekit-cql-export RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()
# Each layer's headers: scopekit/*.hpp, scopekit/cql/protocol/, scopekit/cql/client/,
# scopekit/cql/server/.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/scope/include/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
foreach(layer IN ITEMS protocol client server)
  set(target_of_protocol scopekit_cql_protocol)
  set(target_of_client scopekit_cql)
  set(target_of_server scopekit_cql_server)
  if(TARGET ${target_of_${layer}})
    install(DIRECTORY "${PROJECT_SOURCE_DIR}/driver-adapter/${layer}/include/"
            DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
endforeach()

install(
  EXPORT scopekit-targets
  NAMESPACE scopekit::
  FILE scopekit-targets.cmake
  DESTINATION "${SCOPEKIT_CMAKE_INSTALL_DIR}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/scopekit-config.cmake.in"
  "${PROJECT_BINARY_DIR}/scopekit-config.cmake"
  INSTALL_DESTINATION "${SCOPEKIT_CMAKE_INSTALL_DIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/scopekit-config-version.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)

install(FILES "${PROJECT_BINARY_DIR}/scopekit-config.cmake"
              "${PROJECT_BINARY_DIR}/scopekit-config-version.cmake"
        DESTINATION "${SCOPEKIT_CMAKE_INSTALL_DIR}")
