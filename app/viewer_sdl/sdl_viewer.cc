#include "app/viewer_sdl/sdl_viewer.h"

#include <SDL.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "app/core/viewer_view.h"
#include "app/viewer_sdl/sdl_input.h"
#include "base/log.h"

namespace lifeline {
namespace {

struct SdlDeleter {
  void operator()(SDL_Window* w) const { SDL_DestroyWindow(w); }
  void operator()(SDL_Renderer* r) const { SDL_DestroyRenderer(r); }
  void operator()(SDL_Texture* t) const { SDL_DestroyTexture(t); }
};
using WindowPtr = std::unique_ptr<SDL_Window, SdlDeleter>;
using RendererPtr = std::unique_ptr<SDL_Renderer, SdlDeleter>;
using TexturePtr = std::unique_ptr<SDL_Texture, SdlDeleter>;

// SDL_Init / SDL_Quit for the video subsystem.
class SdlVideo {
 public:
  SdlVideo() : ok_(SDL_InitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS) == 0) {}
  ~SdlVideo() {
    if (ok_)
      SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
  }
  bool ok() const { return ok_; }

 private:
  bool ok_;
};

SDL_Rect ToSdl(const ViewRect& r) {
  return SDL_Rect{r.x, r.y, r.width, r.height};
}

// Draws `lines` with the 5x7 panel font, top left, on a dark box. `scale` pixels per dot.
void DrawStatsPanel(SDL_Renderer* renderer, const std::vector<std::string>& lines, int scale) {
  size_t longest = 0;
  for (const auto& line : lines)
    longest = std::max(longest, line.size());
  const int margin = 4 * scale;
  const int advance_x = 6 * scale;
  const int advance_y = 9 * scale;
  const SDL_Rect box{0, 0, static_cast<int>(longest) * advance_x + 2 * margin,
                     static_cast<int>(lines.size()) * advance_y + 2 * margin - 2 * scale};
  SDL_SetRenderDrawBlendMode(renderer, SDL_BLENDMODE_BLEND);
  SDL_SetRenderDrawColor(renderer, 0, 0, 0, 190);
  SDL_RenderFillRect(renderer, &box);
  SDL_SetRenderDrawColor(renderer, 255, 255, 255, 255);
  for (size_t row = 0; row < lines.size(); ++row) {
    for (size_t col = 0; col < lines[row].size(); ++col) {
      const unsigned char* glyph = PanelFontGlyph(lines[row][col]);
      if (glyph == nullptr)
        continue;
      for (int gy = 0; gy < 7; ++gy) {
        for (int gx = 0; gx < 5; ++gx) {
          if ((glyph[gy] >> (4 - gx)) & 1) {
            const SDL_Rect dot{margin + static_cast<int>(col) * advance_x + gx * scale,
                               margin + static_cast<int>(row) * advance_y + gy * scale, scale,
                               scale};
            SDL_RenderFillRect(renderer, &dot);
          }
        }
      }
    }
  }
  SDL_SetRenderDrawBlendMode(renderer, SDL_BLENDMODE_NONE);
}

}  // namespace

Status RunSdlViewer(ViewerSession* session,
                    const SdlViewerOptions& options,
                    const std::atomic<bool>& stop) {
  SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");  // Our own SIGINT/SIGTERM handling.
  SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
  SdlVideo video;
  if (!video.ok()) {
    return Status(ErrorCode::kDisplayUnavailable, std::string("cannot open a window (") +
                                                      SDL_GetError() +
                                                      "); use --headless without a display");
  }
  const Uint32 new_frame_event = SDL_RegisterEvents(1);
  Uint32 window_flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
  if (options.fullscreen)
    window_flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
  WindowPtr window(SDL_CreateWindow(options.title.c_str(), SDL_WINDOWPOS_CENTERED,
                                    SDL_WINDOWPOS_CENTERED, 1280, 720, window_flags));
  if (!window) {
    return Status(ErrorCode::kDisplayUnavailable,
                  std::string("cannot create the viewer window: ") + SDL_GetError());
  }
  SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
  RendererPtr renderer(SDL_CreateRenderer(window.get(), -1, SDL_RENDERER_ACCELERATED));
  if (!renderer)
    renderer.reset(SDL_CreateRenderer(window.get(), -1, SDL_RENDERER_SOFTWARE));
  if (!renderer) {
    return Status(ErrorCode::kDisplayUnavailable,
                  std::string("cannot create a renderer: ") + SDL_GetError());
  }
  SDL_RendererInfo info{};
  SDL_GetRendererInfo(renderer.get(), &info);
  log::Info("viewer: SDL renderer {}", info.name ? info.name : "?");

  // Wake the event loop from the decode thread when a picture is ready.
  session->set_frame_callback([new_frame_event] {
    SDL_Event event{};
    event.type = new_frame_event;
    SDL_PushEvent(&event);
  });

  SdlInputForwarder input(&session->remote_control());
  session->remote_control().set_clipboard_callback([new_frame_event] {
    SDL_Event event{};
    event.type = new_frame_event;
    SDL_PushEvent(&event);
  });
  SDL_StartTextInput();
  TexturePtr texture;
  Size texture_size;
  // The host's pointer: its own texture, drawn over the video (not part of the picture).
  TexturePtr cursor_texture;
  uint64_t cursor_updates = 0;
  RemoteCursor drawn_cursor;
  bool fullscreen = options.fullscreen;
  bool need_redraw = true;
  ViewState view;           // F10: fit <-> 1:1 with scrolling.
  bool show_stats = false;  // F12: the stats panel.
  VideoCodec codec = VideoCodec::kVp8;
  uint64_t drawn_stats_frames = ~uint64_t{0};
  ViewLayout layout;
  // Output pixels per window point (HiDPI); mouse events come in window points.
  auto output_size = [&] {
    Size out;
    SDL_GetRendererOutputSize(renderer.get(), &out.width, &out.height);
    return out;
  };
  auto to_host = [&](int wx, int wy, int* hx, int* hy) {
    int ww = 0;
    int wh = 0;
    SDL_GetWindowSize(window.get(), &ww, &wh);
    const Size out = output_size();
    const int px = ww > 0 ? static_cast<int>(int64_t{wx} * out.width / ww) : wx;
    const int py = wh > 0 ? static_cast<int>(int64_t{wy} * out.height / wh) : wy;
    return WindowToHost(layout, px, py, hx, hy);
  };
  auto scroll_by = [&](int dx, int dy) {
    view.scroll_x += dx;
    view.scroll_y += dy;
    ClampScroll(&view, texture_size, output_size());
    need_redraw = true;
  };
  const auto start = std::chrono::steady_clock::now();
  while (!stop.load() && !session->closed()) {
    if (options.duration_s > 0 && std::chrono::steady_clock::now() - start >=
                                      std::chrono::duration<double>(options.duration_s)) {
      break;
    }
    SDL_Event event;
    bool quit = false;
    // Short: the pointer moves without video frames (no event wakes us for it).
    if (SDL_WaitEventTimeout(&event, 15)) {
      do {
        if (event.type == SDL_QUIT)
          quit = true;
        const bool scroll_mod = (SDL_GetModState() & KMOD_CTRL) && (SDL_GetModState() & KMOD_SHIFT);
        const bool one_to_one = view.scale == ViewScale::kOneToOne;
        if (event.type == SDL_KEYDOWN &&
            (event.key.keysym.sym == SDLK_F10 || event.key.keysym.sym == SDLK_F12)) {
          if (event.key.keysym.sym == SDLK_F10)
            view.scale = one_to_one ? ViewScale::kFit : ViewScale::kOneToOne;
          else
            show_stats = !show_stats;
          need_redraw = true;
          continue;  // Viewer keys: not sent to the host.
        }
        if ((event.type == SDL_KEYUP) &&
            (event.key.keysym.sym == SDLK_F10 || event.key.keysym.sym == SDLK_F12)) {
          continue;
        }
        // Ctrl+Shift + arrows / wheel scroll the 1:1 view.
        if (one_to_one && scroll_mod && event.type == SDL_KEYDOWN) {
          const int step = 64;
          const SDL_Keycode key = event.key.keysym.sym;
          if (key == SDLK_LEFT || key == SDLK_RIGHT || key == SDLK_UP || key == SDLK_DOWN) {
            scroll_by(key == SDLK_LEFT    ? -step
                      : key == SDLK_RIGHT ? step
                                          : 0,
                      key == SDLK_UP     ? -step
                      : key == SDLK_DOWN ? step
                                         : 0);
            continue;
          }
        }
        if (one_to_one && scroll_mod && event.type == SDL_MOUSEWHEEL) {
          const int sign = event.wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -1 : 1;
          scroll_by(sign * event.wheel.x * 64, -sign * event.wheel.y * 64);
          continue;
        }
        // Pointer positions go to the host in host-frame pixels.
        SDL_Event mapped = event;
        if (event.type == SDL_MOUSEMOTION &&
            !to_host(event.motion.x, event.motion.y, &mapped.motion.x, &mapped.motion.y)) {
          continue;
        }
        if ((event.type == SDL_MOUSEBUTTONDOWN || event.type == SDL_MOUSEBUTTONUP) &&
            !to_host(event.button.x, event.button.y, &mapped.button.x, &mapped.button.y)) {
          continue;
        }
        input.Handle(mapped, texture_size);
        if (event.type == SDL_WINDOWEVENT)
          need_redraw = true;
        if (event.type == SDL_KEYDOWN && event.key.keysym.sym == SDLK_F11) {
          fullscreen = !fullscreen;
          SDL_SetWindowFullscreen(window.get(), fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        }
      } while (SDL_PollEvent(&event));
    }
    if (quit)
      break;
    input.PollClipboard();

    if (auto frame = session->frames().Take(); frame && *frame) {
      const I420Image& image = (*frame)->image;
      if (!texture || texture_size != image.size) {
        texture.reset(SDL_CreateTexture(renderer.get(), SDL_PIXELFORMAT_IYUV,
                                        SDL_TEXTUREACCESS_STREAMING, image.size.width,
                                        image.size.height));
        if (!texture) {
          return Status(ErrorCode::kInternal,
                        std::string("cannot create a video texture: ") + SDL_GetError());
        }
        texture_size = image.size;
      }
      codec = (*frame)->codec;
      SDL_UpdateYUVTexture(texture.get(), nullptr, image.y.data(), image.stride_y(), image.u.data(),
                           image.stride_uv(), image.v.data(), image.stride_uv());
      need_redraw = true;
    }
    const RemoteCursor cursor = session->cursor();
    if (cursor.shape && cursor.shape_updates != cursor_updates) {
      cursor_updates = cursor.shape_updates;
      const Size size = cursor.shape->size;
      cursor_texture.reset(SDL_CreateTexture(renderer.get(), SDL_PIXELFORMAT_RGBA32,
                                             SDL_TEXTUREACCESS_STATIC, size.width, size.height));
      if (cursor_texture) {
        SDL_SetTextureBlendMode(cursor_texture.get(), SDL_BLENDMODE_BLEND);
        SDL_UpdateTexture(cursor_texture.get(), nullptr, cursor.shape->rgba.data(), size.width * 4);
      }
      need_redraw = true;
    }
    if (cursor.x != drawn_cursor.x || cursor.y != drawn_cursor.y ||
        cursor.visible != drawn_cursor.visible) {
      need_redraw = true;
    }
    const StatsSnapshot stats = session->latest_stats();
    if (show_stats && stats.frames_total != drawn_stats_frames)
      need_redraw = true;
    if (need_redraw) {
      // Letterboxing (fit) or 1:1 with scrolling; computed in output pixels.
      const Size out = output_size();
      ClampScroll(&view, texture_size, out);
      layout = ComputeLayout(view, texture_size, out);
      SDL_SetRenderDrawColor(renderer.get(), 0, 0, 0, 255);
      SDL_RenderClear(renderer.get());
      const SDL_Rect src = ToSdl(layout.source);
      const SDL_Rect dst = ToSdl(layout.destination);
      if (texture)
        SDL_RenderCopy(renderer.get(), texture.get(), &src, &dst);
      if (texture && cursor_texture && cursor.visible && cursor.shape && src.w > 0 && src.h > 0) {
        // Host pixels -> output pixels, clipped to the picture.
        const double sx = static_cast<double>(dst.w) / src.w;
        const double sy = static_cast<double>(dst.h) / src.h;
        const SDL_Rect at{
            dst.x + static_cast<int>((cursor.x - cursor.shape->hotspot_x - src.x) * sx),
            dst.y + static_cast<int>((cursor.y - cursor.shape->hotspot_y - src.y) * sy),
            std::max(1, static_cast<int>(cursor.shape->size.width * sx)),
            std::max(1, static_cast<int>(cursor.shape->size.height * sy))};
        SDL_RenderSetClipRect(renderer.get(), &dst);
        SDL_RenderCopy(renderer.get(), cursor_texture.get(), nullptr, &at);
        SDL_RenderSetClipRect(renderer.get(), nullptr);
      }
      if (show_stats) {
        DrawStatsPanel(renderer.get(), FormatStatsPanel(stats, std::string(ToString(codec))),
                       out.height >= 1400 ? 4 : 2);
        drawn_stats_frames = stats.frames_total;
      }
      drawn_cursor = cursor;
      SDL_RenderPresent(renderer.get());
      need_redraw = false;
    }
  }
  input.ReleaseAll();
  session->remote_control().set_clipboard_callback(nullptr);
  session->set_frame_callback(nullptr);
  return Status::Ok();
}

}  // namespace lifeline
