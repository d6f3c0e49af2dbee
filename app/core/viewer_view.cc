#include "app/core/viewer_view.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace lifeline {

ViewRect FitRect(Size frame, Size window) {
  if (frame.empty() || window.empty())
    return {};
  // Compare aspect ratios in 64-bit integers: exact, no rounding drift.
  const int64_t lhs = int64_t{window.width} * frame.height;
  const int64_t rhs = int64_t{window.height} * frame.width;
  ViewRect r;
  if (lhs > rhs) {  // Window wider than the frame: bars left and right.
    r.height = window.height;
    r.width = static_cast<int>(rhs / frame.height);
  } else {
    r.width = window.width;
    r.height = static_cast<int>(lhs / frame.width);
  }
  r.width = std::max(r.width, 1);
  r.height = std::max(r.height, 1);
  r.x = (window.width - r.width) / 2;
  r.y = (window.height - r.height) / 2;
  return r;
}

void ClampScroll(ViewState* state, Size frame, Size window) {
  state->scroll_x = std::clamp(state->scroll_x, 0, std::max(0, frame.width - window.width));
  state->scroll_y = std::clamp(state->scroll_y, 0, std::max(0, frame.height - window.height));
}

ViewLayout ComputeLayout(const ViewState& state, Size frame, Size window) {
  ViewLayout layout;
  if (frame.empty() || window.empty())
    return layout;
  if (state.scale == ViewScale::kFit) {
    layout.source = {0, 0, frame.width, frame.height};
    layout.destination = FitRect(frame, window);
    return layout;
  }
  const int w = std::min(frame.width, window.width);
  const int h = std::min(frame.height, window.height);
  layout.source = {state.scroll_x, state.scroll_y, w, h};
  layout.destination = {(window.width - w) / 2, (window.height - h) / 2, w, h};
  return layout;
}

bool WindowToHost(const ViewLayout& layout, int window_x, int window_y, int* host_x, int* host_y) {
  const ViewRect& s = layout.source;
  const ViewRect& d = layout.destination;
  if (s.width <= 0 || s.height <= 0 || d.width <= 0 || d.height <= 0)
    return false;
  // Pixel centres: window pixel i covers [i, i+1); map its centre and floor.
  const double fx = (window_x - d.x + 0.5) * s.width / d.width;
  const double fy = (window_y - d.y + 0.5) * s.height / d.height;
  *host_x = std::clamp(s.x + static_cast<int>(std::floor(fx)), s.x, s.x + s.width - 1);
  *host_y = std::clamp(s.y + static_cast<int>(std::floor(fy)), s.y, s.y + s.height - 1);
  return true;
}

namespace {

std::string Number(double value, int decimals) {
  if (value < 0 || !std::isfinite(value))
    return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

}  // namespace

std::vector<std::string> FormatStatsPanel(const StatsSnapshot& stats, const std::string& codec) {
  std::vector<std::string> lines;
  lines.push_back("fps " + Number(stats.fps, 1));
  lines.push_back("kbit/s " + Number(stats.kbps, 0));
  const std::string latency = Number(stats.latency_median_ms, 0);
  lines.push_back("latency " + latency + (latency == "-" ? "" : " ms"));
  std::string shown_codec;
  for (char c : codec.substr(0, 12)) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '/')
      shown_codec += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  lines.push_back("codec " + (shown_codec.empty() ? std::string("-") : shown_codec));
  const std::string rtt = Number(stats.rtt_ms, 0);
  lines.push_back("rtt " + rtt + (rtt == "-" ? "" : " ms"));
  return lines;
}

namespace {

// 5x7 glyphs, one byte a row, bit 4 = left column.
struct Glyph {
  char c;
  unsigned char rows[7];
};
constexpr Glyph kGlyphs[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {'/', {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
};

}  // namespace

const unsigned char* PanelFontGlyph(char c) {
  if (c == ' ')
    return nullptr;
  const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const Glyph& g : kGlyphs) {
    if (g.c == upper)
      return g.rows;
  }
  return PanelFontGlyph('?');
}

}  // namespace lifeline
