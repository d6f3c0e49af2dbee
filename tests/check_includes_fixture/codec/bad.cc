#include <SDL.h>
#include "capture/frame.h"
