#include <wx/wx.h>
#include "app/core/settings.h"
