#include "app/viewer_sdl/sdl_viewer.h"

#include <SDL.h>

#include <chrono>
#include <memory>

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
        input.Handle(event, texture_size);
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
        // Letterboxing: the picture keeps its aspect ratio in any window size.
        SDL_RenderSetLogicalSize(renderer.get(), image.size.width, image.size.height);
      }
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
    if (need_redraw) {
      SDL_SetRenderDrawColor(renderer.get(), 0, 0, 0, 255);
      SDL_RenderClear(renderer.get());
      if (texture)
        SDL_RenderCopy(renderer.get(), texture.get(), nullptr, nullptr);
      if (texture && cursor_texture && cursor.visible && cursor.shape) {
        const SDL_Rect at{cursor.x - cursor.shape->hotspot_x, cursor.y - cursor.shape->hotspot_y,
                          cursor.shape->size.width, cursor.shape->size.height};
        SDL_RenderCopy(renderer.get(), cursor_texture.get(), nullptr, &at);
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
