// Stable, numbered error codes shared by every module, the UI and the wire.
//
// The numbers travel in Error messages between peers and appear in logs and in the
// UI ("E203: ..."), so they never change meaning: add new codes, never renumber.
#pragma once

#include <cstdint>
#include <string_view>

namespace lifeline {

enum class ErrorCode : uint16_t {
  kOk = 0,
  kInternal = 1,         // A bug or an unexpected library failure; see the log.
  kInvalidArgument = 2,  // A caller passed a value outside the documented range.
  kCancelled = 3,        // Stopped on request (Stop(), signal, window closed).

  // Settings, files, command line: 100-199.
  kSettingsInvalid = 100,  // A settings value is malformed; the message names the field.
  kSettingsIo = 101,       // The settings file could not be read or written.
  kFileIo = 102,           // Any other file could not be read or written.
  kUsage = 103,            // Command-line usage error.

  // Network and wire: 200-299.
  kAddressInvalid = 200,           // "HOST:PORT" could not be parsed or resolved.
  kConnectionRefused = 201,        // Nobody listens at the address.
  kConnectionTimedOut = 202,       // No answer within the time limit.
  kConnectionClosed = 203,         // The peer closed the connection.
  kNetworkIo = 204,                // A socket call failed (reset, unreachable...).
  kListenFailed = 205,             // Could not bind or listen on the address.
  kProtocolVersionMismatch = 210,  // The peers share no protocol version.
  kMessageTooLarge = 211,          // A message exceeded the limit for its type.
  kMalformedMessage = 212,         // A message could not be parsed or broke a rule.
  kUnknownMessageType = 213,       // A message type this version does not know.
  kUnexpectedMessage = 214,        // A valid message at the wrong time.
  kSendQueueFull = 215,            // The peer is not reading; the bounded queue is full.
  kPeerError = 216,                // The peer reported an error and closed.

  // Proxies (issue 5): 230-239. Messages name the proxy (host:port, never credentials).
  kProxyUnreachable = 230,    // The proxy did not accept a TCP connection.
  kProxyAuthFailed = 231,     // 407 (or SOCKS5 login refused): names the user and proxy.
  kProxyTunnelRefused = 232,  // The proxy refused CONNECT; the message has the HTTP status.
  kProxyConfigInvalid = 233,  // A proxy setting is malformed; the message names the field.
  kPacUnavailable = 234,      // PAC/WPAD could not be loaded or run; says what was done instead.
  kProxyDetectionTimedOut = 235,  // Automatic detection did not answer in time.

  // Relay (issue 5): 240-249.
  kRelayUnreachable = 240,         // No TCP connection (or tunnel) to the relay.
  kRelayCertificateInvalid = 241,  // The relay's TLS key is not the pinned one.
  kPeerUnknownOrOffline = 242,     // The ID is unknown, offline or rate-limited (one answer).
  kRelayProtocol = 243,            // The relay sent something this client cannot use.
  kRelayBindingInvalid = 244,      // The relay's signed ID binding does not verify.
  kRelayRegistrationFailed = 245,  // The relay refused to register this host.

  // Capture: 300-399.
  kDisplayUnavailable = 300,  // No X display could be opened.
  kCaptureFailed = 301,       // The capturer failed permanently.
  kCaptureUnsupported = 302,  // The backend is not available on this system.

  // Codec: 400-499.
  kEncoderInitFailed = 400,
  kEncodeFailed = 401,
  kDecoderInitFailed = 402,
  kDecodeFailed = 403,
  kCodecUnsupported = 404,
  // Video and capture (issue 8): 405-449.
  kCursorShapeInvalid = 405,  // A CursorShape whose size, hotspot or pixels do not agree.

  // Authentication: 500-599.
  kAuthFailed = 500,        // Password, key confirmation or TOTP code did not match (or the
                            // peer's PAKE message was hostile); the message says which, for logs.
  kAuthInvalidInput = 501,  // A typed one-time password, TOTP code or otpauth URI is malformed;
                            // the message says what is wrong, for the person typing it.
  kConsentDenied = 502,     // The person at the host declined, or did not answer in time.
  kSessionIndicatorUnavailable = 503,  // The host cannot show "session active": refused.

  // TLS and identity: 600-699.
  kTlsHandshakeFailed = 600,  // The TLS handshake failed; the message has OpenSSL's reason.
  kTlsProtocolTooOld = 601,   // The peer offers no TLS 1.3 (only older versions).
  kTlsTruncated = 602,        // The stream ended without TLS close_notify (cut or attacked).
  kTlsError = 603,            // A TLS failure after the handshake (bad record, alert...).
  kIdentityIo = 610,          // A device identity file could not be read or written.
  kIdentityInvalid = 611,     // A device identity file is corrupt or does not match.

  // Host policy (throttle, allow/block lists, audit log): 700-799.
  kAuditLogCorrupt = 700,       // The audit log's chain or format is broken; names file, line.
  kPolicyIo = 701,              // A host-policy file could not be read or written.
  kPolicyInvalid = 702,         // access.toml has an invalid entry; names the field and index.
  kThrottleStateCorrupt = 703,  // The throttle state file is unreadable; the throttle fails closed.

  // Remote control (input, clipboard, file transfer): 800-849.
  kInputUnavailable = 800,      // The host cannot inject input (no XTest on its display).
  kInputInjectionFailed = 801,  // The X server refused an injected event or went away.
  kClipboardUnavailable = 802,  // The clipboard cannot be read or owned on this system.
  kClipboardTooLarge = 803,     // Clipboard text over the size cap; nothing was sent.
  kRemoteControlRefused = 804,  // The session setting does not allow this (view-only, paused,
                                // clipboard direction off); the message says which.
  kFileNameRefused = 805,    // A transfer's file name is unsafe (path, control characters,
                             // reserved device name...); the message says why.
  kFileExists = 806,         // The file is already there and the host did not agree to replace it.
  kDiskFull = 807,           // The disk filled up; the partial file was removed.
  kFileChecksumMismatch = 808,  // SHA-256 of the received file differs; it was removed.
  kFileTransferRefused = 809,   // The person at the host declined the transfer.

  // Desktop app (issue 6): 850-899.
  kSecretStoreUnavailable = 850,  // No keyring (Secret Service) answered; the message says why.
  kSecretStoreFailed = 851,       // The keyring or encrypted store refused a read or write.
  kSecretStoreCorrupt = 852,      // The encrypted secrets file fails authentication or parsing.
  kUiUnavailable = 853,           // A window (prompt, overlay) could not be shown in time.
};

// A short English description, for logs and as the UI's fallback text.
std::string_view ToString(ErrorCode code);

// True when `value` is one of the codes above (used to validate codes from the wire).
bool IsKnownErrorCode(uint32_t value);

}  // namespace lifeline
