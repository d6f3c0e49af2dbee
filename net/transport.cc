#include "net/transport.h"

#include <poll.h>

namespace lifeline {

short Transport::PollEvents(bool want_write) const {
  return static_cast<short>(want_write ? (POLLIN | POLLOUT) : POLLIN);
}

}  // namespace lifeline
