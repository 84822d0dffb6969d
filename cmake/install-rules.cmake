include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(maskscan_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/maskscan)

write_basic_package_version_file(${PROJECT_BINARY_DIR}/maskscanConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)

# Installs one maskscan package: TARGET (a library made by maskscan_add_library) with the headers,
# maskscanTargets.cmake and a maskscanConfig.cmake that finds what that library's link interface
# names: the public dependencies always; a static library's private ones too (they appear as
# $<LINK_ONLY:...>: linked, never compiled against), a shared library's never.
# maskscan_install_package(TARGET <target> [COMPONENT <c>])
function(maskscan_install_package)
  cmake_parse_arguments(arg "" "TARGET;COMPONENT" "" ${ARGN})
  set(component_args)
  set(dir ${PROJECT_BINARY_DIR}/package)
  if(arg_COMPONENT)
    set(component_args COMPONENT ${arg_COMPONENT} EXCLUDE_FROM_ALL)
    set(dir ${PROJECT_BINARY_DIR}/package-${arg_COMPONENT})
  endif()
  get_target_property(type ${arg_TARGET} TYPE)
  if(type STREQUAL "STATIC_LIBRARY")
    set(MASKSCAN_PACKAGE_STATIC ON)
  else()
    set(MASKSCAN_PACKAGE_STATIC OFF)
  endif()
  install(TARGETS ${arg_TARGET} EXPORT maskscanTargets${arg_COMPONENT} ${component_args}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(DIRECTORY include/maskscan DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${component_args})
  # One file name per export set: CMake stages every export of a destination in one folder.
  set(MASKSCAN_TARGETS_FILE maskscanTargets${arg_COMPONENT}.cmake)
  install(EXPORT maskscanTargets${arg_COMPONENT} FILE ${MASKSCAN_TARGETS_FILE} NAMESPACE maskscan::
    DESTINATION ${maskscan_cmake_dir} ${component_args})
  configure_package_config_file(cmake/maskscanConfig.cmake.in ${dir}/maskscanConfig.cmake
    INSTALL_DESTINATION ${maskscan_cmake_dir})
  install(FILES ${dir}/maskscanConfig.cmake ${PROJECT_BINARY_DIR}/maskscanConfigVersion.cmake
    cmake/FindLibUring.cmake cmake/FindSPNG.cmake DESTINATION ${maskscan_cmake_dir} ${component_args})
endfunction()

install(TARGETS maskscan_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
maskscan_install_package(TARGET maskscan_lib)
# The shared variant of a static build, for the installed-package test only (src/CMakeLists.txt).
if(TARGET maskscan_lib_shared_variant)
  maskscan_install_package(TARGET maskscan_lib_shared_variant COMPONENT maskscan_shared_variant)
endif()
