# Security rules that a grep can hold (security.md requirements 7 and 9):
#   - SSL_VERIFY_NONE only in net/tls/tls_transport.cc (the documented inner-TLS client,
#     whose peer is authenticated by SPAKE2 before any data is accepted);
#   - SSL_OP_IGNORE_UNEXPECTED_EOF is never set (only cleared: truncation is an error);
#   - no "insecure", "no_verify" or "allow_plain" switch anywhere;
#   - the SPAKE2 code compares MACs with CRYPTO_memcmp and never with memcmp;
#   - proxy logins reach libcurl only through the separate user/password options, and
#     curl's verbose/debug output (which shows Proxy-Authorization) is never switched on.
#   cmake -DROOT=<source root> [-DEXPECT_VIOLATIONS=N] -P check_security_rules.cmake
if(NOT ROOT)
  message(FATAL_ERROR "pass -DROOT=<folder>")
endif()
set(violations 0)
set(report "")
file(GLOB_RECURSE files RELATIVE ${ROOT} ${ROOT}/base/*.cc ${ROOT}/base/*.h
     ${ROOT}/capture/*.cc ${ROOT}/capture/*.h ${ROOT}/codec/*.cc ${ROOT}/codec/*.h
     ${ROOT}/net/*.cc ${ROOT}/net/*.h ${ROOT}/app/*.cc ${ROOT}/app/*.h)
foreach(file IN LISTS files)
  file(STRINGS ${ROOT}/${file} lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    string(REGEX REPLACE "//.*$" "" code "${line}")
    set(bad "")
    if(code MATCHES "SSL_VERIFY_NONE" AND NOT file STREQUAL "net/tls/tls_transport.cc")
      set(bad "SSL_VERIFY_NONE outside the documented inner-TLS client")
    elseif(code MATCHES "SSL_OP_IGNORE_UNEXPECTED_EOF" AND NOT code MATCHES "clear_options")
      set(bad "SSL_OP_IGNORE_UNEXPECTED_EOF must never be set")
    elseif(code MATCHES "[Ii]nsecure|[Nn]o_?[Vv]erify|[Aa]llow_?[Pp]lain")
      set(bad "no switch may weaken security")
    elseif(code MATCHES "CURLOPT_PROXYUSERPWD|CURLOPT_USERPWD")
      set(bad "proxy logins go through CURLOPT_PROXYUSERNAME/PROXYPASSWORD (no user:password parsing)")
    elseif(code MATCHES "CURLOPT_VERBOSE|CURLOPT_DEBUGFUNCTION")
      set(bad "curl debug output would log the Proxy-Authorization header")
    elseif(file MATCHES "^net/auth/" AND code MATCHES "[^_]memcmp\\(")
      set(bad "secret comparisons use CRYPTO_memcmp")
    endif()
    if(bad)
      math(EXPR violations "${violations} + 1")
      string(APPEND report "  ${file}:${number}: ${bad}\n")
    endif()
  endforeach()
endforeach()
if(DEFINED EXPECT_VIOLATIONS)
  if(NOT violations EQUAL EXPECT_VIOLATIONS)
    message(FATAL_ERROR "expected ${EXPECT_VIOLATIONS} violations, found ${violations}:\n${report}")
  endif()
  message(STATUS "security check found the ${violations} planted violations")
elseif(violations GREATER 0)
  message(FATAL_ERROR "${violations} security rule violation(s):\n${report}")
else()
  list(LENGTH files count)
  message(STATUS "security rules hold in ${count} files")
endif()
