// Small POSIX helpers shared by net/*.cc (internal to the net module).
#pragma once

#include <string.h>

#include <string>

namespace lifeline::net_internal {

// strerror() text for `error_number`, thread-safe.
inline std::string ErrnoText(int error_number) {
  char buffer[256];
  // GNU strerror_r returns a pointer to the text (maybe not `buffer`).
  return std::string(strerror_r(error_number, buffer, sizeof(buffer)));
}

}  // namespace lifeline::net_internal
