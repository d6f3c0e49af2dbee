# Checks the module include rules of ARCHITECTURE.md.
#   cmake -DROOT=<source root> [-DEXPECT_VIOLATIONS=N] -P check_includes.cmake
# Without EXPECT_VIOLATIONS it fails on any violation; with it, it fails unless exactly N
# violations are found (used on a fixture tree to prove the check can fail).
#
# Rules (a file's folder decides which apply):
#   base/        includes nothing from capture/, codec/, net/, app/
#   capture/     includes nothing from codec/, net/, app/
#   codec/       includes nothing from net/, app/; from capture/ only capture/frame.h
#   net/         includes nothing from capture/, codec/, app/ (it knows no pixels)
#   app/core/    no GUI headers
#   everywhere   <wx/...> only in app/ui_wx/, <SDL...> only in app/viewer_sdl/,
#                <X11/...> only in capture/x11/*.cc
if(NOT ROOT)
  message(FATAL_ERROR "pass -DROOT=<folder>")
endif()

set(violations 0)
set(report "")
file(GLOB_RECURSE files RELATIVE ${ROOT}
     ${ROOT}/base/*.h ${ROOT}/base/*.cc ${ROOT}/capture/*.h ${ROOT}/capture/*.cc
     ${ROOT}/codec/*.h ${ROOT}/codec/*.cc ${ROOT}/net/*.h ${ROOT}/net/*.cc
     ${ROOT}/app/*.h ${ROOT}/app/*.cc)

foreach(file IN LISTS files)
  file(STRINGS ${ROOT}/${file} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"].*$" "\\1" inc "${line}")
    set(bad "")
    if(file MATCHES "^base/" AND inc MATCHES "^(capture|codec|net|app)/")
      set(bad "base must not depend on other modules")
    elseif(file MATCHES "^capture/" AND inc MATCHES "^(codec|net|app)/")
      set(bad "capture knows no codec, network or app")
    elseif(file MATCHES "^codec/" AND inc MATCHES "^(net|app)/")
      set(bad "codec knows no network or app")
    elseif(file MATCHES "^codec/" AND inc MATCHES "^capture/" AND NOT inc STREQUAL "capture/frame.h")
      set(bad "codec may use only capture/frame.h")
    elseif(file MATCHES "^net/" AND inc MATCHES "^(capture|codec|app)/")
      set(bad "net knows no pixels")
    elseif(inc MATCHES "^wx/" AND NOT file MATCHES "^app/ui_wx/")
      set(bad "<wx/...> only in app/ui_wx/")
    elseif(inc MATCHES "^SDL" AND NOT file MATCHES "^app/viewer_sdl/")
      set(bad "<SDL...> only in app/viewer_sdl/")
    elseif(inc MATCHES "^X11/" AND NOT file MATCHES "^capture/x11/.*\\.cc$")
      set(bad "<X11/...> only in capture/x11/*.cc")
    endif()
    if(bad)
      math(EXPR violations "${violations} + 1")
      string(APPEND report "  ${file}: #include ${inc}: ${bad}\n")
    endif()
  endforeach()
endforeach()

if(DEFINED EXPECT_VIOLATIONS)
  if(NOT violations EQUAL EXPECT_VIOLATIONS)
    message(FATAL_ERROR "expected ${EXPECT_VIOLATIONS} violations in the fixture, found ${violations}:\n${report}")
  endif()
  message(STATUS "include check found the ${violations} planted violations")
elseif(violations GREATER 0)
  message(FATAL_ERROR "${violations} include rule violation(s):\n${report}")
else()
  list(LENGTH files count)
  message(STATUS "include rules hold in ${count} files")
endif()
