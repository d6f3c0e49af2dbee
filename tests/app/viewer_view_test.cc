#include "app/core/viewer_view.h"

#include <catch2/catch.hpp>

namespace lifeline {
namespace {

TEST_CASE("FitRect letterboxes and keeps the aspect ratio", "[viewer_view]") {
  // 16:9 frame in a 4:3 window: bars top and bottom.
  CHECK(FitRect({1920, 1080}, {800, 600}) == ViewRect{0, 75, 800, 450});
  // 4:3 frame in a wide window: bars left and right.
  CHECK(FitRect({640, 480}, {1280, 480}) == ViewRect{320, 0, 640, 480});
  // Same aspect: the whole window.
  CHECK(FitRect({1280, 720}, {640, 360}) == ViewRect{0, 0, 640, 360});
  CHECK(FitRect({0, 0}, {640, 360}) == ViewRect{});
  CHECK(FitRect({640, 360}, {0, 10}) == ViewRect{});
}

TEST_CASE("ClampScroll keeps the 1:1 viewport inside the frame", "[viewer_view]") {
  ViewState state{ViewScale::kOneToOne, 5000, -20};
  ClampScroll(&state, {1920, 1080}, {800, 600});
  CHECK(state.scroll_x == 1120);
  CHECK(state.scroll_y == 0);
  state.scroll_y = 900;
  ClampScroll(&state, {1920, 1080}, {800, 600});
  CHECK(state.scroll_y == 480);
  // Frame smaller than the window: no scrolling at all.
  state = {ViewScale::kOneToOne, 30, 30};
  ClampScroll(&state, {320, 200}, {800, 600});
  CHECK(state.scroll_x == 0);
  CHECK(state.scroll_y == 0);
}

TEST_CASE("ComputeLayout in 1:1 shows the scrolled part, centred when small", "[viewer_view]") {
  ViewState state{ViewScale::kOneToOne, 100, 50};
  ClampScroll(&state, {1920, 1080}, {800, 600});
  ViewLayout layout = ComputeLayout(state, {1920, 1080}, {800, 600});
  CHECK(layout.source == ViewRect{100, 50, 800, 600});
  CHECK(layout.destination == ViewRect{0, 0, 800, 600});

  state = {ViewScale::kOneToOne, 0, 0};
  layout = ComputeLayout(state, {320, 200}, {800, 600});
  CHECK(layout.source == ViewRect{0, 0, 320, 200});
  CHECK(layout.destination == ViewRect{240, 200, 320, 200});

  state.scale = ViewScale::kFit;
  layout = ComputeLayout(state, {1920, 1080}, {800, 600});
  CHECK(layout.source == ViewRect{0, 0, 1920, 1080});
  CHECK(layout.destination == ViewRect{0, 75, 800, 450});
}

TEST_CASE("WindowToHost maps window pixels to host-frame pixels", "[viewer_view]") {
  int x = -1;
  int y = -1;
  // Fit: 1920x1080 in 800x600 -> scale 2.4, 75 px bar on top.
  ViewLayout fit = ComputeLayout({}, {1920, 1080}, {800, 600});
  REQUIRE(WindowToHost(fit, 0, 75, &x, &y));
  CHECK(x == 1);  // Pixel centre 0.5 * 2.4 = 1.2.
  CHECK(y == 1);
  REQUIRE(WindowToHost(fit, 400, 300, &x, &y));
  CHECK(x == 961);
  CHECK(y == 541);
  REQUIRE(WindowToHost(fit, 799, 524, &x, &y));
  CHECK(x == 1918);  // Centre 449.5 * 2.4 = 1078.8 -> 1078 (799.5 * 2.4 = 1918.8).
  CHECK(y == 1078);
  // In the letterbox bars: clamped to the frame's edge.
  REQUIRE(WindowToHost(fit, 10, 0, &x, &y));
  CHECK(y == 0);
  REQUIRE(WindowToHost(fit, 10, 599, &x, &y));
  CHECK(y == 1079);

  // 1:1 scrolled: window (0,0) is host (scroll_x, scroll_y), exactly one to one.
  ViewState state{ViewScale::kOneToOne, 300, 200};
  ClampScroll(&state, {1920, 1080}, {800, 600});
  const ViewLayout one = ComputeLayout(state, {1920, 1080}, {800, 600});
  REQUIRE(WindowToHost(one, 0, 0, &x, &y));
  CHECK(x == 300);
  CHECK(y == 200);
  REQUIRE(WindowToHost(one, 799, 599, &x, &y));
  CHECK(x == 1099);
  CHECK(y == 799);
  // 1:1 centred small frame: outside the picture clamps to its edge.
  const ViewLayout small = ComputeLayout({ViewScale::kOneToOne, 0, 0}, {320, 200}, {800, 600});
  REQUIRE(WindowToHost(small, 240, 200, &x, &y));
  CHECK(x == 0);
  CHECK(y == 0);
  REQUIRE(WindowToHost(small, 0, 599, &x, &y));
  CHECK(x == 0);
  CHECK(y == 199);

  CHECK_FALSE(WindowToHost(ViewLayout{}, 1, 1, &x, &y));
}

TEST_CASE("FormatStatsPanel lines, unknowns shown as a dash", "[viewer_view]") {
  StatsSnapshot stats;
  stats.fps = 29.84;
  stats.kbps = 1234.4;
  stats.latency_median_ms = 35.2;
  stats.rtt_ms = 2.0;
  auto lines = FormatStatsPanel(stats, "H264");
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "fps 29.8");
  CHECK(lines[1] == "kbit/s 1234");
  CHECK(lines[2] == "latency 35 ms");
  CHECK(lines[3] == "codec h264");
  CHECK(lines[4] == "rtt 2 ms");

  lines = FormatStatsPanel(StatsSnapshot{}, "");
  CHECK(lines[2] == "latency -");
  CHECK(lines[3] == "codec -");
  CHECK(lines[4] == "rtt -");
  // Every character of the panel has a real glyph (not the "?" fallback).
  for (const auto& line : FormatStatsPanel(stats, "vp8")) {
    for (char c : line) {
      if (c != ' ')
        CHECK(PanelFontGlyph(c) != PanelFontGlyph('?'));
    }
  }
  CHECK(PanelFontGlyph(' ') == nullptr);
  CHECK(PanelFontGlyph('f') == PanelFontGlyph('F'));
}

}  // namespace
}  // namespace lifeline
