// RAII owners for libvpx handles and error-text helpers, shared by the libvpx encoder and
// decoder. Internal to codec/: nothing outside this folder includes libvpx headers.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <vpx/vpx_codec.h>
#include <vpx/vpx_image.h>

namespace lifeline::internal {

// Owns a vpx_codec_ctx_t. Only hold contexts that vpx_codec_enc_init / vpx_codec_dec_init
// initialized successfully: the deleter calls vpx_codec_destroy before freeing.
struct VpxCodecDeleter {
  void operator()(vpx_codec_ctx_t* codec) const {
    vpx_codec_destroy(codec);
    delete codec;
  }
};
using ScopedVpxCodec = std::unique_ptr<vpx_codec_ctx_t, VpxCodecDeleter>;

// Owns a vpx_image_t from vpx_img_alloc.
struct VpxImageDeleter {
  void operator()(vpx_image_t* image) const { vpx_img_free(image); }
};
using ScopedVpxImage = std::unique_ptr<vpx_image_t, VpxImageDeleter>;

// "what: <libvpx error string> (<detail>)", for Error messages and logs.
inline std::string VpxErrorText(std::string_view what,
                                vpx_codec_err_t err,
                                vpx_codec_ctx_t* codec) {
  std::string text(what);
  text += ": ";
  text += vpx_codec_err_to_string(err);
  const char* detail = codec ? vpx_codec_error_detail(codec) : nullptr;
  if (detail && *detail) {
    text += " (";
    text += detail;
    text += ")";
  }
  return text;
}

}  // namespace lifeline::internal
