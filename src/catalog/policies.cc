// policies.yaml: channels, consent, quiet hours, contact caps, suppression, arbitration and the
// control group. Format: docs/catalog.md.
#include <string>
#include <utility>

#include "catalog/catalog.h"
#include "schema/yaml_util.h"

namespace kairos {

int Policies::ChannelIndex(std::string_view name) const {
  for (size_t i = 0; i < channels.size(); ++i) {
    if (channels[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string Policies::ChannelNames() const {
  std::string out;
  for (const ChannelDef& c : channels) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

namespace {

constexpr int kMaxChannels = 64;

bool ValidChannelName(std::string_view n) {
  if (n.empty() || n.size() > 32) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// IANA zone names: "Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC", "Etc/GMT+1". The
// zone file itself is read by the decision stage; here only the spelling is checked.
bool PlausibleZoneName(std::string_view z) {
  if (z.empty() || z.size() > 64 || z.front() == '/' || z.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : z) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  return true;
}

class PoliciesParser {
 public:
  PoliciesParser(std::string_view file, const Schema& schema) : file_(file), schema_(schema) {}

  Status Parse(const YAML::Node& root, Policies* p) {
    p_ = p;
    if (!root.IsMap()) {
      return YamlError(file_, root, "policies must be a mapping with channels: and the rules");
    }
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, root,
                                     {"channels", "consent_attribute", "quiet_hours", "caps",
                                      "suppression", "arbitration", "control_group"},
                                     "policies"));
    // consent_attribute first: channels refer to it, whatever the order in the file.
    if (root["consent_attribute"])
      KAIROS_RETURN_IF_ERROR(ConsentAttribute(root["consent_attribute"]));
    if (!root["channels"]) {
      return YamlError(file_, root, "policies need channels: with at least one channel");
    }
    KAIROS_RETURN_IF_ERROR(Channels(root["channels"]));
    if (root["quiet_hours"]) KAIROS_RETURN_IF_ERROR(QuietHoursSection(root["quiet_hours"]));
    for (size_t i = 0; i < p_->channels.size(); ++i) {
      if (p_->channels[i].quiet_hours && !p_->quiet_hours.enabled) {
        return YamlError(file_, quiet_nodes_[i],
                         "channel " + p_->channels[i].name +
                             " asks for quiet hours but there is no quiet_hours: section");
      }
    }
    if (root["caps"]) KAIROS_RETURN_IF_ERROR(Caps(root["caps"]));
    if (root["suppression"]) KAIROS_RETURN_IF_ERROR(Suppression(root["suppression"]));
    if (root["arbitration"]) KAIROS_RETURN_IF_ERROR(Arbitration(root["arbitration"]));
    if (root["control_group"]) KAIROS_RETURN_IF_ERROR(ControlGroup(root["control_group"]));
    return Status::Ok();
  }

 private:
  Status ConsentAttribute(const YAML::Node& node) {
    KAIROS_ASSIGN_OR_RETURN(std::string name, YamlString(file_, node, "consent_attribute"));
    int a = schema_.AttributeIndex(name);
    if (a < 0) {
      return YamlError(file_, node,
                       "consent_attribute: unknown attribute \"" + name +
                           "\"; it must be a flags attribute of schema.yaml");
    }
    if (schema_.attributes()[a].type != FieldType::kFlags) {
      return YamlError(file_, node,
                       "consent_attribute: attribute \"" + name + "\" is a " +
                           FieldTypeName(schema_.attributes()[a].type) +
                           ", it must be a flags attribute");
    }
    p_->consent_attribute = a;
    return Status::Ok();
  }

  Status Channels(const YAML::Node& node) {
    if (!node.IsMap() || node.size() == 0) {
      return YamlError(file_, node,
                       "channels must be a mapping of at least one channel name → {outbound, "
                       "consent, quiet_hours, top_k, capacity}");
    }
    for (const auto& kv : node) {
      ChannelDef c;
      KAIROS_ASSIGN_OR_RETURN(c.name, YamlString(file_, kv.first, "channel name"));
      if (!ValidChannelName(c.name) || c.name == "all" || c.name == "total") {
        return YamlError(file_, kv.first,
                         "channel name \"" + c.name +
                             "\" must be 1-32 characters a-z, 0-9, _ (and not \"all\" or "
                             "\"total\", which caps and volumes use)");
      }
      if (p_->ChannelIndex(c.name) >= 0) {
        return YamlError(file_, kv.first, "duplicate channel " + c.name);
      }
      if (p_->channels.size() >= kMaxChannels) {
        return YamlError(file_, kv.first, "at most " + std::to_string(kMaxChannels) + " channels");
      }
      c.key = InteractionKey(c.name);
      const YAML::Node spec = kv.second;
      YAML::Node quiet_node = kv.first;
      if (!spec.IsNull()) {
        const std::string what = "channel " + c.name;
        KAIROS_RETURN_IF_ERROR(
            CheckKeys(file_, spec, {"outbound", "consent", "quiet_hours", "top_k", "capacity"}, what));
        if (spec["outbound"]) {
          KAIROS_ASSIGN_OR_RETURN(c.outbound,
                                  YamlBool(file_, spec["outbound"], what + ": outbound"));
        }
        if (spec["consent"]) {
          KAIROS_ASSIGN_OR_RETURN(c.consent,
                                  YamlString(file_, spec["consent"], what + ": consent"));
          if (c.consent.empty()) {
            return YamlError(file_, spec["consent"], what + ": consent must name a consent key");
          }
          if (p_->consent_attribute < 0) {
            return YamlError(file_, spec["consent"],
                             what + ": consent \"" + c.consent +
                                 "\" needs consent_attribute: (a flags attribute such as "
                                 "consents)");
          }
        }
        if (spec["quiet_hours"]) {
          KAIROS_ASSIGN_OR_RETURN(c.quiet_hours,
                                  YamlBool(file_, spec["quiet_hours"], what + ": quiet_hours"));
          quiet_node = spec["quiet_hours"];
        }
        if (spec["top_k"]) {
          KAIROS_ASSIGN_OR_RETURN(int64_t k, YamlInt(file_, spec["top_k"], what + ": top_k"));
          if (k < 1 || k > 100) {
            return YamlError(file_, spec["top_k"], what + ": top_k must be 1..100");
          }
          c.top_k = static_cast<int>(k);
        }
        if (spec["capacity"]) KAIROS_RETURN_IF_ERROR(Capacity(spec["capacity"], what, &c));
      }
      quiet_nodes_.push_back(quiet_node);
      p_->channels.push_back(std::move(c));
    }
    return Status::Ok();
  }

  // `capacity: {per_day: 500}` or `{per_hour: 60}`.
  Status Capacity(const YAML::Node& n, const std::string& what, ChannelDef* c) {
    if (!n.IsMap() || n.size() != 1 || (!n["per_day"] && !n["per_hour"])) {
      return YamlError(file_, n, what + ": capacity must be {per_day: N} or {per_hour: N}");
    }
    const bool daily = static_cast<bool>(n["per_day"]);
    const YAML::Node v = daily ? n["per_day"] : n["per_hour"];
    KAIROS_ASSIGN_OR_RETURN(int64_t cap, YamlInt(file_, v, what + ": capacity"));
    if (cap < 0 || cap > 1000000000) return YamlError(file_, v, what + ": capacity must be 0..1000000000");
    c->capacity = cap;
    c->capacity_period_ms = daily ? 86400000 : 3600000;
    return Status::Ok();
  }

  Result<int> Minute(const YAML::Node& node, std::string_view what) {
    KAIROS_ASSIGN_OR_RETURN(std::string s, YamlString(file_, node, what));
    auto digit = [&](size_t i) { return s[i] >= '0' && s[i] <= '9'; };
    if (s.size() == 5 && digit(0) && digit(1) && s[2] == ':' && digit(3) && digit(4)) {
      int h = (s[0] - '0') * 10 + (s[1] - '0');
      int m = (s[3] - '0') * 10 + (s[4] - '0');
      if (h < 24 && m < 60) return h * 60 + m;
    }
    return YamlError(file_, node,
                     std::string(what) + " must be a time HH:MM (00:00..23:59), got \"" + s + "\"");
  }

  Status QuietHoursSection(const YAML::Node& node) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(
        file_, node, {"from", "to", "timezone_attribute", "default_timezone"}, "quiet_hours"));
    QuietHours& q = p_->quiet_hours;
    q.enabled = true;
    if (node["from"]) {
      KAIROS_ASSIGN_OR_RETURN(q.from_minute, Minute(node["from"], "quiet_hours: from"));
    }
    if (node["to"]) {
      KAIROS_ASSIGN_OR_RETURN(q.to_minute, Minute(node["to"], "quiet_hours: to"));
    }
    if (q.from_minute == q.to_minute) {
      return YamlError(file_, node, "quiet_hours: from and to must differ");
    }
    if (node["timezone_attribute"]) {
      const YAML::Node tz = node["timezone_attribute"];
      KAIROS_ASSIGN_OR_RETURN(std::string name,
                              YamlString(file_, tz, "quiet_hours: timezone_attribute"));
      int a = schema_.AttributeIndex(name);
      if (a < 0) {
        return YamlError(file_, tz,
                         "quiet_hours: timezone_attribute: unknown attribute \"" + name +
                             "\"; it must be a string attribute of schema.yaml");
      }
      if (schema_.attributes()[a].type != FieldType::kString) {
        return YamlError(file_, tz,
                         "quiet_hours: timezone_attribute: attribute \"" + name + "\" is a " +
                             FieldTypeName(schema_.attributes()[a].type) +
                             ", it must be a string (an IANA zone name)");
      }
      q.timezone_attribute = a;
    }
    if (node["default_timezone"]) {
      const YAML::Node tz = node["default_timezone"];
      KAIROS_ASSIGN_OR_RETURN(q.default_timezone,
                              YamlString(file_, tz, "quiet_hours: default_timezone"));
      if (!PlausibleZoneName(q.default_timezone)) {
        return YamlError(file_, tz,
                         "quiet_hours: default_timezone \"" + q.default_timezone +
                             "\" is not an IANA zone name such as Europe/Berlin");
      }
    }
    return Status::Ok();
  }

  Result<int64_t> Window(const YAML::Node& node, std::string_view what) {
    KAIROS_ASSIGN_OR_RETURN(int64_t ms, YamlDurationMs(file_, node, what));
    if (ms <= 0) return YamlError(file_, node, std::string(what) + " must be greater than zero");
    return ms;
  }

  Result<int> Count(const YAML::Node& node, std::string_view what) {
    KAIROS_ASSIGN_OR_RETURN(int64_t n, YamlInt(file_, node, what));
    if (n < 1 || n > 1000000)
      return YamlError(file_, node, std::string(what) + " must be 1..1000000");
    return static_cast<int>(n);
  }

  Status Caps(const YAML::Node& node) {
    if (!node.IsSequence()) {
      return YamlError(file_, node, "caps must be a list of {channel, max, window}");
    }
    for (const YAML::Node& c : node) {
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, c, {"channel", "max", "window"}, "cap"));
      for (const char* k : {"channel", "max", "window"}) {
        if (!c[k]) return YamlError(file_, c, std::string("cap needs ") + k);
      }
      CapRule r;
      r.line = c.Mark().line + 1;
      KAIROS_ASSIGN_OR_RETURN(std::string ch, YamlString(file_, c["channel"], "cap: channel"));
      if (ch == "all") {
        r.channel = -1;
      } else {
        r.channel = p_->ChannelIndex(ch);
        if (r.channel < 0) {
          return YamlError(
              file_, c["channel"],
              "cap: unknown channel \"" + ch + "\" (channels: " + p_->ChannelNames() + ", or all)");
        }
      }
      KAIROS_ASSIGN_OR_RETURN(r.max, Count(c["max"], "cap: max"));
      KAIROS_ASSIGN_OR_RETURN(r.window_ms, Window(c["window"], "cap: window"));
      p_->caps.push_back(r);
    }
    return Status::Ok();
  }

  Status Suppression(const YAML::Node& node) {
    if (!node.IsSequence()) {
      return YamlError(file_, node, "suppression must be a list of {scope, after, window, for}");
    }
    for (const YAML::Node& s : node) {
      KAIROS_RETURN_IF_ERROR(
          CheckKeys(file_, s, {"scope", "after", "window", "for"}, "suppression rule"));
      for (const char* k : {"scope", "after", "window", "for"}) {
        if (!s[k]) return YamlError(file_, s, std::string("suppression rule needs ") + k);
      }
      SuppressionRule r;
      r.line = s.Mark().line + 1;
      KAIROS_ASSIGN_OR_RETURN(std::string scope,
                              YamlString(file_, s["scope"], "suppression: scope"));
      if (scope == "action") {
        r.scope = TargetScope::kAction;
      } else if (scope == "group") {
        r.scope = TargetScope::kGroup;
      } else {
        return YamlError(file_, s["scope"],
                         "suppression: scope must be action or group, got \"" + scope + "\"");
      }
      KAIROS_ASSIGN_OR_RETURN(r.after, Count(s["after"], "suppression: after"));
      KAIROS_ASSIGN_OR_RETURN(r.window_ms, Window(s["window"], "suppression: window"));
      KAIROS_ASSIGN_OR_RETURN(r.for_ms, Window(s["for"], "suppression: for"));
      p_->suppression.push_back(r);
    }
    return Status::Ok();
  }

  Result<double> NonNegative(const YAML::Node& node, std::string_view what) {
    KAIROS_ASSIGN_OR_RETURN(double v, YamlNumber(file_, node, what));
    if (v < 0) return YamlError(file_, node, std::string(what) + " must be ≥ 0");
    return v;
  }

  Status Arbitration(const YAML::Node& node) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(
        file_, node,
        {"weights", "min_priority", "value_must_cover_cost", "per_group", "default_propensity"},
        "arbitration"));
    ArbitrationConfig& a = p_->arbitration;
    if (const YAML::Node w = node["weights"]) {
      KAIROS_RETURN_IF_ERROR(CheckKeys(file_, w, {"propensity", "context", "value", "levers"},
                                       "arbitration: weights"));
      if (w["propensity"]) {
        KAIROS_ASSIGN_OR_RETURN(a.weight_propensity,
                                NonNegative(w["propensity"], "weights: propensity"));
      }
      if (w["context"]) {
        KAIROS_ASSIGN_OR_RETURN(a.weight_context, NonNegative(w["context"], "weights: context"));
      }
      if (w["value"]) {
        KAIROS_ASSIGN_OR_RETURN(a.weight_value, NonNegative(w["value"], "weights: value"));
      }
      if (w["levers"]) {
        KAIROS_ASSIGN_OR_RETURN(a.weight_levers, NonNegative(w["levers"], "weights: levers"));
      }
    }
    if (node["min_priority"]) {
      KAIROS_ASSIGN_OR_RETURN(a.min_priority,
                              NonNegative(node["min_priority"], "arbitration: min_priority"));
    }
    if (node["value_must_cover_cost"]) {
      KAIROS_ASSIGN_OR_RETURN(
          a.value_must_cover_cost,
          YamlBool(file_, node["value_must_cover_cost"], "arbitration: value_must_cover_cost"));
    }
    if (node["per_group"]) {
      KAIROS_ASSIGN_OR_RETURN(int64_t n,
                              YamlInt(file_, node["per_group"], "arbitration: per_group"));
      if (n < 1 || n > 100) {
        return YamlError(file_, node["per_group"], "arbitration: per_group must be 1..100");
      }
      a.per_group = static_cast<int>(n);
    }
    if (node["default_propensity"]) {
      const YAML::Node d = node["default_propensity"];
      KAIROS_ASSIGN_OR_RETURN(a.default_propensity,
                              YamlNumber(file_, d, "arbitration: default_propensity"));
      if (!(a.default_propensity > 0 && a.default_propensity <= 1)) {
        return YamlError(file_, d, "arbitration: default_propensity must be in (0, 1]");
      }
    }
    return Status::Ok();
  }

  Status ControlGroup(const YAML::Node& node) {
    KAIROS_RETURN_IF_ERROR(CheckKeys(file_, node, {"share", "period", "salt"}, "control_group"));
    ControlGroupConfig& c = p_->control_group;
    if (node["share"]) {
      KAIROS_ASSIGN_OR_RETURN(c.share, YamlNumber(file_, node["share"], "control_group: share"));
      if (c.share < 0 || c.share > 0.5) {
        return YamlError(file_, node["share"], "control_group: share must be in [0, 0.5]");
      }
    }
    if (node["period"]) {
      KAIROS_ASSIGN_OR_RETURN(c.period_ms, Window(node["period"], "control_group: period"));
    }
    if (node["salt"]) {
      KAIROS_ASSIGN_OR_RETURN(c.salt, YamlString(file_, node["salt"], "control_group: salt"));
    }
    return Status::Ok();
  }

  std::string_view file_;
  const Schema& schema_;
  Policies* p_ = nullptr;
  std::vector<YAML::Node> quiet_nodes_;  // per channel: where quiet_hours was asked for
};

}  // namespace

Result<Policies> Policies::Parse(std::string_view yaml_text, std::string_view file_name,
                                 const Schema& schema) {
  KAIROS_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(yaml_text, file_name));
  Policies p;
  // yaml-cpp throws on some malformed trees while iterating; keep exceptions inside.
  try {
    KAIROS_RETURN_IF_ERROR(PoliciesParser(file_name, schema).Parse(root, &p));
  } catch (const YAML::Exception& e) {
    return YamlError(file_name, e.mark, e.msg);
  }
  return p;
}

}  // namespace kairos
