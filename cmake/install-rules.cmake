include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(maskscan_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/maskscan)

install(TARGETS maskscan_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS maskscan_lib EXPORT maskscanTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/maskscan DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT maskscanTargets NAMESPACE maskscan:: DESTINATION ${maskscan_cmake_dir})

configure_package_config_file(cmake/maskscanConfig.cmake.in
  ${PROJECT_BINARY_DIR}/maskscanConfig.cmake INSTALL_DESTINATION ${maskscan_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/maskscanConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/maskscanConfig.cmake ${PROJECT_BINARY_DIR}/maskscanConfigVersion.cmake
  cmake/FindLibUring.cmake cmake/FindSPNG.cmake DESTINATION ${maskscan_cmake_dir})
