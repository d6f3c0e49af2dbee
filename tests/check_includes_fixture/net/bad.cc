#include "capture/frame.h"
#include "net/framing.h"
