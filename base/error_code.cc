#include "base/error_code.h"

namespace lifeline {

std::string_view ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInternal:
      return "internal error";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kSettingsInvalid:
      return "invalid setting";
    case ErrorCode::kSettingsIo:
      return "settings file could not be read or written";
    case ErrorCode::kFileIo:
      return "file could not be read or written";
    case ErrorCode::kUsage:
      return "command-line usage error";
    case ErrorCode::kAddressInvalid:
      return "invalid network address";
    case ErrorCode::kConnectionRefused:
      return "connection refused";
    case ErrorCode::kConnectionTimedOut:
      return "connection timed out";
    case ErrorCode::kConnectionClosed:
      return "connection closed by peer";
    case ErrorCode::kNetworkIo:
      return "network error";
    case ErrorCode::kListenFailed:
      return "could not listen on address";
    case ErrorCode::kProtocolVersionMismatch:
      return "protocol version mismatch";
    case ErrorCode::kMessageTooLarge:
      return "message too large";
    case ErrorCode::kMalformedMessage:
      return "malformed message";
    case ErrorCode::kUnknownMessageType:
      return "unknown message type";
    case ErrorCode::kUnexpectedMessage:
      return "unexpected message";
    case ErrorCode::kSendQueueFull:
      return "send queue full";
    case ErrorCode::kPeerError:
      return "peer reported an error";
    case ErrorCode::kProxyUnreachable:
      return "proxy server unreachable";
    case ErrorCode::kProxyAuthFailed:
      return "proxy login failed";
    case ErrorCode::kProxyTunnelRefused:
      return "proxy refused the tunnel";
    case ErrorCode::kProxyConfigInvalid:
      return "invalid proxy setting";
    case ErrorCode::kPacUnavailable:
      return "proxy auto-configuration could not be loaded";
    case ErrorCode::kProxyDetectionTimedOut:
      return "proxy detection timed out";
    case ErrorCode::kRelayUnreachable:
      return "relay server unreachable";
    case ErrorCode::kRelayCertificateInvalid:
      return "relay server certificate is not the expected one";
    case ErrorCode::kPeerUnknownOrOffline:
      return "partner ID unknown or offline";
    case ErrorCode::kRelayProtocol:
      return "relay server protocol error";
    case ErrorCode::kRelayBindingInvalid:
      return "relay ID binding signature invalid";
    case ErrorCode::kRelayRegistrationFailed:
      return "relay server refused registration";
    case ErrorCode::kDisplayUnavailable:
      return "display unavailable";
    case ErrorCode::kCaptureFailed:
      return "screen capture failed";
    case ErrorCode::kCaptureUnsupported:
      return "screen capture not supported here";
    case ErrorCode::kEncoderInitFailed:
      return "video encoder could not start";
    case ErrorCode::kEncodeFailed:
      return "video encoding failed";
    case ErrorCode::kDecoderInitFailed:
      return "video decoder could not start";
    case ErrorCode::kDecodeFailed:
      return "video decoding failed";
    case ErrorCode::kCodecUnsupported:
      return "video codec not supported";
    case ErrorCode::kCursorShapeInvalid:
      return "cursor shape invalid";
    case ErrorCode::kAuthFailed:
      return "authentication failed";
    case ErrorCode::kAuthInvalidInput:
      return "malformed password, code or enrolment data";
    case ErrorCode::kConsentDenied:
      return "connection declined at the host";
    case ErrorCode::kSessionIndicatorUnavailable:
      return "the host cannot show that a session is active";
    case ErrorCode::kTlsHandshakeFailed:
      return "secure connection could not be set up";
    case ErrorCode::kTlsProtocolTooOld:
      return "peer does not support TLS 1.3";
    case ErrorCode::kTlsTruncated:
      return "secure connection was cut off";
    case ErrorCode::kTlsError:
      return "secure connection failed";
    case ErrorCode::kIdentityIo:
      return "device identity could not be read or written";
    case ErrorCode::kIdentityInvalid:
      return "device identity is invalid";
    case ErrorCode::kAuditLogCorrupt:
      return "audit log corrupt";
    case ErrorCode::kPolicyIo:
      return "host policy file could not be read or written";
    case ErrorCode::kPolicyInvalid:
      return "invalid access list";
    case ErrorCode::kThrottleStateCorrupt:
      return "throttle state corrupt";
    case ErrorCode::kInputUnavailable:
      return "input injection unavailable";
    case ErrorCode::kInputInjectionFailed:
      return "input injection failed";
    case ErrorCode::kClipboardUnavailable:
      return "clipboard unavailable";
    case ErrorCode::kClipboardTooLarge:
      return "clipboard text too large";
    case ErrorCode::kRemoteControlRefused:
      return "remote control not allowed";
    case ErrorCode::kFileNameRefused:
      return "unsafe file name refused";
    case ErrorCode::kFileExists:
      return "file already exists";
    case ErrorCode::kDiskFull:
      return "disk full";
    case ErrorCode::kFileChecksumMismatch:
      return "file damaged in transfer (checksum mismatch)";
    case ErrorCode::kFileTransferRefused:
      return "file transfer declined at the host";
    case ErrorCode::kSecretStoreUnavailable:
      return "no keyring available";
    case ErrorCode::kSecretStoreFailed:
      return "secret could not be stored or read";
    case ErrorCode::kSecretStoreCorrupt:
      return "encrypted secrets file is damaged";
    case ErrorCode::kUiUnavailable:
      return "window could not be shown";
  }
  return "unknown error";
}

bool IsKnownErrorCode(uint32_t value) {
  if (value > 0xffff)
    return false;
  return ToString(static_cast<ErrorCode>(value)) != "unknown error";
}

}  // namespace lifeline
