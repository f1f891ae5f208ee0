// Status and Result<T>: the error currency of every Kairos module.
//
// A Status is a cheap value: an ErrorCode plus a message that names the input it is about
// (file:line:column, JSON pointer or field) and, optionally, the field itself. No exception
// crosses a module boundary; functions that can fail return Status or Result<T>, both
// [[nodiscard]]. Only the HTTP edge maps codes to status codes.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kairos {

// Stable error kinds. Invalid input is separate from internal bugs and I/O failures, so that
// callers (and tests) can match on the kind, never on message wording.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,    // malformed or semantically invalid input
  kNotFound,           // unknown id
  kAlreadyExists,      // duplicate (e.g. an event id already applied)
  kOutOfRange,         // value outside an allowed range (e.g. a timestamp too far ahead)
  kTooLarge,           // input larger than a configured limit
  kFailedPrecondition, // operation not allowed in the current state
  kUnavailable,        // temporarily not serving (recovery, shutdown)
  kCorruption,         // stored data failed its checksum or format check
  kIoError,            // the operating system refused a file operation
  kInternal,           // a bug: an invariant did not hold
  kUnauthenticated,    // no credentials, or credentials that identify no one (unknown, revoked)
  kPermissionDenied,   // authenticated, but the role may not do this
  kRateLimited,        // too many requests for the caller's rate limit; retry later
  kTimeout,            // the client did not send its request within the allowed time
};

// Symbolic name of a code, e.g. "invalid_argument"; stable, used in JSON error objects.
std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The offending field (JSON pointer or attribute name) when the error is about one.
  const std::string& field() const { return field_; }
  // "invalid_argument: message".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` (e.g. a file name and line).
  Status WithContext(std::string_view context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string field_;
};

inline Status InvalidArgument(std::string message, std::string field = {}) {
  return Status(ErrorCode::kInvalidArgument, std::move(message), std::move(field));
}
inline Status NotFound(std::string message) { return Status(ErrorCode::kNotFound, std::move(message)); }
inline Status IoError(std::string message) { return Status(ErrorCode::kIoError, std::move(message)); }
inline Status Corruption(std::string message) {
  return Status(ErrorCode::kCorruption, std::move(message));
}
inline Status Internal(std::string message) { return Status(ErrorCode::kInternal, std::move(message)); }

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {      // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kairos

// Propagates a non-ok Status from an expression returning Status.
#define KAIROS_RETURN_IF_ERROR(expr)           \
  do {                                         \
    ::kairos::Status kairos_status_ = (expr);  \
    if (!kairos_status_.ok()) return kairos_status_; \
  } while (0)

#define KAIROS_CONCAT_INNER(a, b) a##b
#define KAIROS_CONCAT(a, b) KAIROS_CONCAT_INNER(a, b)
// Assigns the value of a Result expression to `lhs`, or returns its Status.
#define KAIROS_ASSIGN_OR_RETURN(lhs, expr)                          \
  auto KAIROS_CONCAT(kairos_result_, __LINE__) = (expr);            \
  if (!KAIROS_CONCAT(kairos_result_, __LINE__).ok())                \
    return KAIROS_CONCAT(kairos_result_, __LINE__).status();        \
  lhs = std::move(KAIROS_CONCAT(kairos_result_, __LINE__)).value()
