// Error, Status and Expected<T>: results for setup calls that need a message.
//
// No exception crosses a module API. Functions that can fail for reasons the caller
// must show or log return Status (no value) or Expected<T> (a value or an Error).
// Branchy per-frame outcomes use their own enum class instead (see CaptureResult).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "base/error_code.h"

namespace lifeline {

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // Names what failed, for a person; never contains secrets.

  // "message (E203 connection closed by peer)".
  std::string ToString() const;
};

class [[nodiscard]] Status {
 public:
  Status() = default;                                            // Ok.
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit on purpose.
  Status(ErrorCode code, std::string message) : Status(Error{code, std::move(message)}) {}

  static Status Ok() { return Status(); }
  bool ok() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }
  ErrorCode code() const { return ok_ ? ErrorCode::kOk : error_.code; }
  std::string ToString() const { return ok_ ? "ok" : error_.ToString(); }

 private:
  Error error_;
  bool ok_ = true;
};

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : storage_(std::move(value)) {}      // NOLINT: implicit on purpose.
  Expected(Error error) : storage_(std::move(error)) {}  // NOLINT
  Expected(ErrorCode code, std::string message) : storage_(Error{code, std::move(message)}) {}

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(storage_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(storage_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(storage_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(storage_);
  }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> storage_;
};

}  // namespace lifeline
