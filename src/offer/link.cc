#include "offer/link.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/time_format.h"

namespace kairos::offer {

namespace {

constexpr size_t kMaxLinkRequestBytes = 64 * 1024;
constexpr size_t kMaxSubscriberIdBytes = 64;  // as events (schema/event.h)

std::string Clip(std::string_view s) {
  std::string out(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  return out;
}

std::string TreatmentList(const Action& a) {
  std::string list;
  for (const Treatment& t : a.treatments) list += (list.empty() ? "" : ", ") + t.id;
  return list;
}

std::string TrimBaseUrl(std::string url) {
  if (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Status CheckBaseUrl(std::string_view url) {
  const bool http = url.starts_with("http://") || url.starts_with("https://");
  const size_t host_at = url.find("://") + 3;
  if (!http || url.size() <= host_at) {
    return InvalidArgument("base_url: expected http://host[:port][/path] or https://..., got \"" +
                               Clip(url) + "\"",
                           "base_url");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '<' || c == '>' || c == '\\' ||
        c == '?' || c == '#' || static_cast<unsigned char>(c) >= 0x7f) {
      return InvalidArgument("base_url: character not allowed in a base URL in \"" + Clip(url) + "\"",
                             "base_url");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<int64_t> ParseExpiresIn(std::string_view text, std::string_view field) {
  const std::string f(field);
  if (text.empty()) return InvalidArgument(f + ": empty; expected seconds or a duration like \"7d\"", f);
  int64_t seconds = 0;
  const bool all_digits = text.find_first_not_of("0123456789") == std::string_view::npos;
  if (all_digits) {
    if (text.size() > 12) {
      return InvalidArgument(f + ": " + Clip(text) + " s is more than 366 days", f);
    }
    for (char c : text) seconds = seconds * 10 + (c - '0');
  } else {
    auto ms = ParseDurationMs(text);
    if (!ms.ok()) {
      return InvalidArgument(f + ": \"" + Clip(text) +
                                 "\" is not a number of seconds or a duration (e.g. 3600, \"1h\", \"7d\")",
                             f);
    }
    if (*ms % 1000 != 0) return InvalidArgument(f + ": \"" + Clip(text) + "\" is not whole seconds", f);
    seconds = *ms / 1000;
  }
  if (seconds < 1) return InvalidArgument(f + ": must be at least 1 second", f);
  if (seconds > kMaxExpiresInSeconds) {
    return InvalidArgument(f + ": " + std::to_string(seconds) + " s is more than 366 days", f);
  }
  return seconds;
}

Result<LinkRequest> ParseLinkRequestJson(std::string_view json) {
  if (json.size() > kMaxLinkRequestBytes) {
    return Status(ErrorCode::kTooLarge,
                  "request body of " + std::to_string(json.size()) + " bytes; at most " +
                      std::to_string(kMaxLinkRequestBytes));
  }
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return InvalidArgument("malformed JSON at byte " + std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return InvalidArgument("expected a JSON object", "/");
  LinkRequest req;
  bool has_subscriber = false, has_action = false;
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string name(m->name.GetString(), m->name.GetStringLength());
    const std::string field = "/" + Clip(name);
    const auto& v = m->value;
    auto string_of = [&](std::string* out) -> Status {
      if (!v.IsString()) return InvalidArgument(field + ": expected a string", field);
      out->assign(v.GetString(), v.GetStringLength());
      return Status::Ok();
    };
    if (name == "subscriber_id") {
      KAIROS_RETURN_IF_ERROR(string_of(&req.subscriber_id));
      has_subscriber = true;
    } else if (name == "action_id") {
      KAIROS_RETURN_IF_ERROR(string_of(&req.action_id));
      has_action = true;
    } else if (name == "treatment") {
      if (!v.IsNull()) KAIROS_RETURN_IF_ERROR(string_of(&req.treatment));
    } else if (name == "expires_in") {
      if (v.IsNull()) continue;
      if (v.IsString()) {
        KAIROS_ASSIGN_OR_RETURN(req.expires_in_seconds,
                                ParseExpiresIn(std::string_view(v.GetString(), v.GetStringLength()),
                                               "/expires_in"));
      } else if (v.IsInt64()) {
        const int64_t s = v.GetInt64();
        if (s < 1 || s > kMaxExpiresInSeconds) {
          return InvalidArgument("/expires_in: " + std::to_string(s) + " is outside 1 .. " +
                                     std::to_string(kMaxExpiresInSeconds) + " seconds (366 days)",
                                 "/expires_in");
        }
        req.expires_in_seconds = s;
      } else {
        return InvalidArgument("/expires_in: expected whole seconds or a duration string like \"7d\"",
                               "/expires_in");
      }
    } else {
      return InvalidArgument(field + ": unknown member; expected subscriber_id, action_id, treatment, expires_in",
                             field);
    }
  }
  if (!has_subscriber) return InvalidArgument("/subscriber_id: missing", "/subscriber_id");
  if (!has_action) return InvalidArgument("/action_id: missing", "/action_id");
  return req;
}

std::string LinkToJson(const Link& link) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  auto str = [&w](const char* key, std::string_view v) {
    w.Key(key);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  str("token", link.token);
  str("url", link.url);
  str("qr_png_url", link.qr_png_url);
  str("qr_svg_url", link.qr_svg_url);
  str("subscriber_id", link.claims.subscriber_id);
  str("action_id", link.claims.action_id);
  str("treatment", link.claims.treatment);
  str("expires_at", FormatRfc3339(link.claims.expires_at * 1000));
  str("kid", link.claims.kid);
  str("nonce", link.claims.NonceHex());
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

Result<int> ResolveTreatment(const Decisioning& d, const Action& action, std::string_view treatment) {
  if (treatment.empty()) {
    const int ch = d.policies.ChannelIndex(kDefaultLinkChannel);
    const int t = ch < 0 ? -1 : action.treatment_by_channel[static_cast<size_t>(ch)];
    if (t < 0) {
      return InvalidArgument("treatment: action " + action.id + " has no treatment for channel " +
                                 std::string(kDefaultLinkChannel) + "; name one of " + TreatmentList(action),
                             "/treatment");
    }
    return t;
  }
  for (size_t i = 0; i < action.treatments.size(); ++i) {
    const Treatment& t = action.treatments[i];
    if (t.id == treatment) return static_cast<int>(i);
    if (t.channel >= 0 && d.policies.channels[static_cast<size_t>(t.channel)].name == treatment) {
      return static_cast<int>(i);
    }
  }
  return InvalidArgument("treatment: action " + action.id + " has no treatment \"" + Clip(treatment) +
                             "\"; it has " + TreatmentList(action),
                         "/treatment");
}

OfferLinks::OfferLinks(std::string keys_path, OfferKeyring keys, CatalogSource catalog,
                       const Clock* clock, std::string base_url)
    : keys_path_(std::move(keys_path)),
      keys_(std::make_shared<const OfferKeyring>(std::move(keys))),
      catalog_(std::move(catalog)),
      clock_(clock),
      base_url_(TrimBaseUrl(std::move(base_url))) {}

Result<std::unique_ptr<OfferLinks>> OfferLinks::Open(const std::string& workspace_dir,
                                                     CatalogSource catalog, const Clock* clock,
                                                     std::string base_url) {
  const std::string path = OfferKeyring::PathIn(workspace_dir);
  KAIROS_ASSIGN_OR_RETURN(OfferKeyring keys, OfferKeyring::LoadOrCreate(path, clock->Now()));
  return std::make_unique<OfferLinks>(path, std::move(keys), std::move(catalog), clock,
                                      std::move(base_url));
}

Result<Link> OfferLinks::Create(const LinkRequest& r) const {
  if (r.subscriber_id.empty()) return InvalidArgument("subscriber_id: must not be empty", "/subscriber_id");
  if (r.subscriber_id.size() > kMaxSubscriberIdBytes) {
    return InvalidArgument("subscriber_id: longer than " + std::to_string(kMaxSubscriberIdBytes) + " bytes",
                           "/subscriber_id");
  }
  if (r.action_id.empty()) return InvalidArgument("action_id: must not be empty", "/action_id");
  if (r.expires_in_seconds < 1 || r.expires_in_seconds > kMaxExpiresInSeconds) {
    return InvalidArgument("expires_in: " + std::to_string(r.expires_in_seconds) + " is outside 1 .. " +
                               std::to_string(kMaxExpiresInSeconds) + " seconds (366 days)",
                           "/expires_in");
  }
  const std::string base = r.base_url.empty() ? base_url_ : TrimBaseUrl(r.base_url);
  KAIROS_RETURN_IF_ERROR(CheckBaseUrl(base));
  const std::shared_ptr<const Decisioning> d = catalog_ ? catalog_() : nullptr;
  if (!d) return Status(ErrorCode::kUnavailable, "no catalog loaded");
  const int a = d->catalog.ActionIndex(r.action_id);
  if (a < 0) {
    return InvalidArgument("action_id: no action \"" + Clip(r.action_id) + "\" in the catalog", "/action_id");
  }
  const Action& action = d->catalog.actions[static_cast<size_t>(a)];
  KAIROS_ASSIGN_OR_RETURN(int t, ResolveTreatment(*d, action, r.treatment));

  TokenClaims claims;
  claims.subscriber_id = r.subscriber_id;
  claims.action_id = action.id;
  claims.treatment = action.treatments[static_cast<size_t>(t)].id;
  claims.expires_at = clock_->Now() / 1000 + r.expires_in_seconds;
  const std::shared_ptr<const OfferKeyring> keys = keys_.load();
  KAIROS_ASSIGN_OR_RETURN(SignedToken signed_token, SignToken(*keys, claims));

  Link link;
  link.token = std::move(signed_token.token);
  link.claims = std::move(signed_token.claims);
  link.url.reserve(base.size() + 3 + link.token.size());
  link.url.append(base).append("/o/").append(link.token);
  link.qr_png_url = link.url + "/qr.png";
  link.qr_svg_url = link.url + "/qr.svg";
  return link;
}

Result<TokenClaims> OfferLinks::Verify(std::string_view token, TimestampMs now, TokenError* error) const {
  const std::shared_ptr<const OfferKeyring> keys = keys_.load();
  return VerifyToken(*keys, token, now, error);
}

Status OfferLinks::ReloadKeys() {
  KAIROS_ASSIGN_OR_RETURN(OfferKeyring keys, OfferKeyring::Load(keys_path_));
  keys_.store(std::make_shared<const OfferKeyring>(std::move(keys)));
  return Status::Ok();
}

}  // namespace kairos::offer
