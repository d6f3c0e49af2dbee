# Finds every third-party library from Debian 12 packages (packaging/install-deps.sh).
# Nothing is downloaded at build time. Names verified in shared/design/environment.md.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(X11 REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Protobuf REQUIRED)
find_package(spdlog REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(tomlplusplus REQUIRED CONFIG)
find_package(PNG REQUIRED)
pkg_check_modules(VPX REQUIRED IMPORTED_TARGET vpx)
pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
find_package(CURL REQUIRED)
pkg_check_modules(LIBPROXY REQUIRED IMPORTED_TARGET libproxy-1.0)
find_package(SQLite3 REQUIRED)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavcodec libavutil libswscale)

# asio (standalone) ships neither a .pc file nor a CMake config.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(asio::asio INTERFACE IMPORTED)
target_include_directories(asio::asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(asio::asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(asio::asio INTERFACE Threads::Threads)

# libyuv ships neither a .pc file nor a CMake config.
find_path(LIBYUV_INCLUDE_DIR libyuv.h REQUIRED)
find_library(LIBYUV_LIBRARY yuv REQUIRED)
add_library(libyuv::libyuv UNKNOWN IMPORTED)
set_target_properties(libyuv::libyuv PROPERTIES IMPORTED_LOCATION "${LIBYUV_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${LIBYUV_INCLUDE_DIR}")

if(LIFELINE_BUILD_FRONTENDS)
  find_package(SDL2 REQUIRED CONFIG)
  find_package(wxWidgets 3.2 REQUIRED COMPONENTS core base)
  pkg_check_modules(LIBSECRET REQUIRED IMPORTED_TARGET libsecret-1)
  # CMake 3.25 has no wxWidgets::wxWidgets target; build one from the variables.
  add_library(lifeline_wx INTERFACE)
  target_include_directories(lifeline_wx SYSTEM INTERFACE ${wxWidgets_INCLUDE_DIRS})
  target_compile_definitions(lifeline_wx INTERFACE ${wxWidgets_DEFINITIONS})
  target_compile_options(lifeline_wx INTERFACE ${wxWidgets_CXX_FLAGS})
  target_link_libraries(lifeline_wx INTERFACE ${wxWidgets_LIBRARIES})
endif()

if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  find_package(Catch2 2 REQUIRED CONFIG)
  include(Catch)
endif()
