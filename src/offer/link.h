// Offer links: a signed token for one subscriber, action and treatment, and the URLs that carry
// it (the landing page, its QR code as PNG and SVG).
//
//   url        = base_url + "/o/" + token
//   qr_png_url = url + "/qr.png"
//   qr_svg_url = url + "/qr.svg"
//
// OfferLinks is what the HTTP edge and the CLI use: it holds the workspace's keyring (reloadable)
// and reads the catalog through a callback, so links are always checked against the
// configuration in force. Thread-safety: every method may be called from any thread; the keyring
// is swapped atomically by ReloadKeys.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "offer/offer_keys.h"
#include "offer/qr.h"
#include "offer/token.h"

namespace kairos::offer {

inline constexpr int64_t kDefaultExpiresInSeconds = 7 * 86400;
inline constexpr int64_t kMaxExpiresInSeconds = 366 * 86400;
// The channel whose treatment a link gets when the request names none.
inline constexpr std::string_view kDefaultLinkChannel = "web";

struct LinkRequest {
  std::string subscriber_id;
  std::string action_id;
  // A treatment id ("DATA_5GB/sms") or a channel name ("sms"); empty: the action's treatment for
  // the `web` channel.
  std::string treatment;
  int64_t expires_in_seconds = kDefaultExpiresInSeconds;  // 1 .. kMaxExpiresInSeconds
  std::string base_url;  // empty: the OfferLinks' base URL
};

struct Link {
  std::string token;
  std::string url;
  std::string qr_png_url;
  std::string qr_svg_url;
  TokenClaims claims;  // what the token says (nonce included)
};

// expires_in as users write it: whole seconds ("3600") or a duration ("90m", "1h", "7d", "2w";
// common/time_format.h), 1 s .. 366 d. kInvalidArgument naming `field` otherwise.
Result<int64_t> ParseExpiresIn(std::string_view text, std::string_view field = "expires_in");

// The body of POST /v1/offers/links:
//   {"subscriber_id":"...","action_id":"...","treatment":"...","expires_in":3600|"1h"}
// treatment and expires_in optional. Errors: kInvalidArgument (kTooLarge above 64 KiB) with the
// JSON pointer as field ("/expires_in"); unknown members are refused.
Result<LinkRequest> ParseLinkRequestJson(std::string_view json);

// {"token","url","qr_png_url","qr_svg_url","subscriber_id","action_id","treatment","expires_at"
//  (RFC 3339),"nonce"} — the answer of POST /v1/offers/links.
std::string LinkToJson(const Link& link);

class OfferLinks {
 public:
  // The configuration in force (e.g. [&service] { return service.decisioning(); }).
  using CatalogSource = std::function<std::shared_ptr<const Decisioning>()>;

  // `clock` must outlive the object. `base_url` without a trailing slash is used as given; one
  // trailing slash is dropped.
  OfferLinks(std::string keys_path, OfferKeyring keys, CatalogSource catalog, const Clock* clock,
             std::string base_url);

  // Loads `<workspace_dir>/offer-keys.json`, creating it with one active key when absent.
  static Result<std::unique_ptr<OfferLinks>> Open(const std::string& workspace_dir,
                                                  CatalogSource catalog, const Clock* clock,
                                                  std::string base_url);

  // Signs a link. Errors (kInvalidArgument, field = the request member): empty or over-long
  // subscriber_id (max 64 bytes), unknown action_id, a treatment the action does not have (or no
  // `web` treatment when none is named), expires_in outside 1 s .. 366 d, a base URL that is not
  // http(s)://...; kUnavailable without a catalog; kInternal when OpenSSL fails.
  Result<Link> Create(const LinkRequest& request) const;

  // Checks a token against the keyring (VerifyToken) at `now` / at the clock's now.
  Result<TokenClaims> Verify(std::string_view token, TimestampMs now,
                             TokenError* error = nullptr) const;
  Result<TokenClaims> Verify(std::string_view token, TokenError* error = nullptr) const {
    return Verify(token, clock_->Now(), error);
  }

  // The QR code of `text` (a link's url), PNG / SVG bytes.
  Result<std::string> RenderPng(std::string_view text, const QrOptions& options = {}) const {
    return QrPng(text, options);
  }
  Result<std::string> RenderSvg(std::string_view text, const QrOptions& options = {}) const {
    return QrSvg(text, options);
  }

  // Re-reads the key file (after `kairos offers rotate-key` / `retire-key`). On any error the
  // keys in use stay and the error is returned.
  Status ReloadKeys();
  std::shared_ptr<const OfferKeyring> keys() const { return keys_.load(); }
  const std::string& base_url() const { return base_url_; }

 private:
  std::string keys_path_;
  std::atomic<std::shared_ptr<const OfferKeyring>> keys_;
  CatalogSource catalog_;
  const Clock* clock_;
  std::string base_url_;
};

// Resolves a link's treatment on `action` ("" → the web treatment; a channel name; a treatment
// id). Returns the index into action.treatments or kInvalidArgument (field "treatment") naming
// the treatments the action has.
Result<int> ResolveTreatment(const Decisioning& d, const Action& action, std::string_view treatment);

}  // namespace kairos::offer
