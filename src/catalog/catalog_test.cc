#include "catalog/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/time_format.h"
#include "schema/config.h"

namespace kairos {
namespace {

std::shared_ptr<const Schema> DefaultSchema() {
  static const std::shared_ptr<const Schema> schema = [] {
    auto s = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : nullptr;
  }();
  return schema;
}

// Small policies for the catalog tests: three channels.
constexpr const char* kPolicies = R"yaml(channels:
  sms: {outbound: true, consent: sms, top_k: 1}
  app: {top_k: 3}
  call_center: {top_k: 2}
consent_attribute: consents
)yaml";

Result<std::shared_ptr<const Decisioning>> ParseCatalog(std::string_view catalog) {
  return Decisioning::Parse(kPolicies, catalog, DefaultSchema());
}

Result<Policies> ParsePolicies(std::string_view policies) {
  return Policies::Parse(policies, "policies.yaml", *DefaultSchema());
}

// The error of a catalog that must not load; checks the code and the message prefix.
std::string CatalogError(std::string_view catalog, std::string_view prefix) {
  auto r = ParseCatalog(catalog);
  EXPECT_FALSE(r.ok()) << "loaded:\n" << catalog;
  if (r.ok()) return {};
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().substr(0, prefix.size()), prefix) << r.status().message();
  return r.status().message();
}

std::string PoliciesError(std::string_view policies, std::string_view prefix) {
  auto r = ParsePolicies(policies);
  EXPECT_FALSE(r.ok()) << "loaded:\n" << policies;
  if (r.ok()) return {};
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().substr(0, prefix.size()), prefix) << r.status().message();
  return r.status().message();
}

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// ---- shipped files ---------------------------------------------------------------------------

// An action with a fixed value must pass the value check and the priority threshold at its
// prior (context weight 1), or it could never be chosen.
void ExpectCanBeChosen(const Action& a, const ArbitrationConfig& arb) {
  if (a.value_expr != nullptr || a.type == ActionType::kMandatory) return;
  EXPECT_GE(a.propensity * a.value, a.cost) << a.id;
  EXPECT_GT(a.propensity * a.value * a.lever, arb.min_priority) << a.id;
}

TEST(ShippedFiles, DefaultLoads) {
  auto d = Decisioning::Parse(DefaultPoliciesYaml(), DefaultCatalogYaml(), DefaultSchema());
  ASSERT_TRUE(d.ok()) << d.status().message();
  const Decisioning& dec = **d;
  EXPECT_EQ(dec.policies.channels.size(), 8u);
  EXPECT_EQ(dec.catalog.actions.size(), 4u);
  EXPECT_GE(dec.catalog.issues.size(), 3u);
  for (const Action& a : dec.catalog.actions) ExpectCanBeChosen(a, dec.policies.arbitration);
  EXPECT_EQ(dec.policies.ChannelNames(),
            "sms, email, push, app, web, call_center, retail, invoice");
  EXPECT_EQ(dec.policies.consent_attribute, DefaultSchema()->AttributeIndex("consents"));
  EXPECT_TRUE(dec.policies.quiet_hours.enabled);
  EXPECT_EQ(dec.policies.quiet_hours.timezone_attribute,
            DefaultSchema()->AttributeIndex("timezone"));
  EXPECT_EQ(dec.policies.quiet_hours.default_timezone, "Europe/Berlin");
  EXPECT_DOUBLE_EQ(dec.policies.control_group.share, 0.05);
}

TEST(ShippedFiles, LearningLoadsWithBothCatalogs) {
  for (std::string_view catalog : {DefaultCatalogYaml(), DemoCatalogYaml()}) {
    auto d = Decisioning::Parse(DemoPoliciesYaml(), catalog, DefaultSchema(), DefaultLearningYaml());
    ASSERT_TRUE(d.ok()) << d.status().message();
    const Learning& l = (*d)->learning;
    EXPECT_TRUE(l.enabled);
    EXPECT_EQ(l.predictors.size(), 12u);
    EXPECT_EQ(l.exploration.method, learn::ExplorationMethod::kThompson);
    EXPECT_GE(l.uplift.revenue_aggregate, 0);
    EXPECT_GE(l.uplift.churn_aggregate, 0);
    EXPECT_EQ(l.kind_by_action.size(), (*d)->catalog.actions.size());
  }
}

TEST(ShippedFiles, SegmentsLoadWithTheDefaultSchema) {
  auto d = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), DefaultSchema(),
                              DefaultLearningYaml(), DefaultSegmentsYaml());
  ASSERT_TRUE(d.ok()) << d.status().message();
  const Segmentation& s = (*d)->segmentation;
  EXPECT_TRUE(s.present);
  EXPECT_NE(s.revenue, nullptr);
  EXPECT_NE(s.margin, nullptr);
  EXPECT_EQ(s.effort.size(), 3u);
  EXPECT_EQ(s.behaviour.size(), 3u);
  EXPECT_EQ(s.usage.back().when, nullptr);  // the default case
  EXPECT_EQ(s.clusters.k_min, 2);
  EXPECT_EQ(s.clusters.k_max, 8);
  EXPECT_GE(s.clv.transactions_aggregate, 0);
  EXPECT_EQ(s.churn.model_path, "churn-model.json");
  EXPECT_EQ(s.schedule_ms, 24LL * 3600 * 1000);
}

TEST(Segments, ErrorsPointAtTheLine) {
  struct Case {
    std::string yaml, want;
  } cases[] = {
      {"value:\n  revenue: \"agg.nope(30d)\"\n", "segments.yaml:2:"},
      {"value:\n  revenue: \"profile.plan_type\"\n", "expected a number"},
      {"segments:\n  usage:\n    - {name: a}\n    - {name: b, when: \"true\"}\n", "never used"},
      {"segments:\n  usage:\n    - {name: a, when: \"agg.data_mb(30d)\"}\n", "expected bool"},
      {"tiers: {value_high: 1.5}\n", "tiers.value_high must be between 0 and 1"},
      {"clusters: {k: 9..3}\n", "clusters.k"},
      {"clv: {transactions: topup_eur, spend: topup_eur}\n", "count aggregate"},
      {"churn: {model: m.json}\n", "needs features"},
      {"value: {revenue: \"segment.value_tier\"}\n", "a score this job writes"},
      {"valu: {}\n", "valu"},
      {"segments:\n  behaviour: [{name: x, when: \"action.value > 1\"}]\n", "belongs to an action"},
  };
  for (const Case& c : cases) {
    auto d = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), DefaultSchema(), {}, c.yaml);
    ASSERT_FALSE(d.ok()) << c.yaml;
    EXPECT_NE(d.status().message().find(c.want), std::string::npos)
        << c.yaml << " -> " << d.status().message();
  }
}

TEST(Segments, ScoreNamesAreRuleNames) {
  // Rules read the job's scores by their fixed names, with their types.
  auto d = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), DefaultSchema());
  ASSERT_TRUE(d.ok());
  for (const char* text : {"segment.value_tier == \"protect\"", "score.churn > 0.3",
                           "clv.expected_12m >= 100 and rfm.recency >= 4"}) {
    expr::CompileError err;
    EXPECT_NE(expr::Expr::Compile(text, *(*d)->features, expr::Type::kBool, &err), nullptr)
        << text << ": " << err.message;
  }
  expr::CompileError err;
  EXPECT_EQ(expr::Expr::Compile("segment.nope == \"x\"", *(*d)->features, expr::Type::kBool, &err), nullptr);
  EXPECT_NE(err.message.find("unknown score"), std::string::npos) << err.message;
  EXPECT_EQ(expr::Expr::Compile("score.churn == \"high\"", *(*d)->features, expr::Type::kBool, &err), nullptr);
}

TEST(ShippedFiles, DemoLoadsWithSixtyActionsOverFourIssues) {
  auto d = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), DefaultSchema());
  ASSERT_TRUE(d.ok()) << d.status().message();
  const Catalog& c = (*d)->catalog;
  EXPECT_GE(c.actions.size(), 60u);
  std::map<int, int> per_issue;
  std::set<int> groups;
  std::set<std::string> channels_used;
  for (const Action& a : c.actions) {
    per_issue[a.issue]++;
    groups.insert(a.group);
    ASSERT_FALSE(a.treatments.empty()) << a.id;
    for (const Treatment& t : a.treatments) {
      channels_used.insert((*d)->policies.channels[t.channel].name);
      EXPECT_FALSE(t.content.empty()) << t.id;
    }
    ExpectCanBeChosen(a, (*d)->policies.arbitration);
    EXPECT_GT(a.propensity, 0) << a.id;
    EXPECT_LE(a.propensity, 0.6) << a.id;
  }
  EXPECT_GE(per_issue.size(), 4u);
  for (const auto& [issue, n] : per_issue) EXPECT_GE(n, 5) << c.issues[issue].name;
  EXPECT_GE(groups.size(), 15u);
  EXPECT_EQ(channels_used.size(), (*d)->policies.channels.size());  // every channel is used
  EXPECT_DOUBLE_EQ((*d)->policies.control_group.share, 0.05);
  // Rules read every kind of name, and the history.
  std::set<FeatureKind> kinds;
  for (const Feature& f : (*d)->features->features()) kinds.insert(f.kind);
  for (FeatureKind k :
       {FeatureKind::kAttribute, FeatureKind::kFlag, FeatureKind::kWindow, FeatureKind::kLastTime,
        FeatureKind::kForecast, FeatureKind::kFirstSeen, FeatureKind::kContext,
        FeatureKind::kHistoryImpressions, FeatureKind::kHistoryOutcomes}) {
    EXPECT_TRUE(kinds.count(k)) << static_cast<int>(k);
  }
  // Some actions have limits.
  int limited = 0;
  for (const Action& a : c.actions) {
    bool any = a.daily_volume_total >= 0;
    for (int64_t v : a.daily_volume) any = any || v >= 0;
    for (double b : a.daily_budget) any = any || b >= 0;
    limited += any;
  }
  EXPECT_GE(limited, 3);
}

// ---- policies.yaml ---------------------------------------------------------------------------

TEST(Policies, Parses) {
  auto p = ParsePolicies(R"yaml(channels:
  sms: {outbound: true, consent: sms, quiet_hours: true, top_k: 1}
  app:
  call_center: {consent: call, top_k: 2}
consent_attribute: consents
quiet_hours: {from: "22:30", to: "07:15", timezone_attribute: timezone, default_timezone: Europe/Paris}
caps:
  - {channel: sms, max: 2, window: 7d}
  - {channel: all, max: 6, window: 48h}
suppression:
  - {scope: group, after: 5, window: 30d, for: 14d}
arbitration:
  weights: {propensity: 1, context: 0.5, value: 2, levers: 0}
  min_priority: 0.2
  value_must_cover_cost: false
  per_group: 2
  default_propensity: 0.05
control_group: {share: 0.1, period: 14d, salt: abc}
)yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->channels.size(), 3u);
  EXPECT_EQ(p->channels[0].name, "sms");
  EXPECT_TRUE(p->channels[0].outbound);
  EXPECT_TRUE(p->channels[0].quiet_hours);
  EXPECT_EQ(p->channels[0].consent, "sms");
  EXPECT_EQ(p->channels[0].top_k, 1);
  EXPECT_EQ(p->channels[0].key, InteractionKey("sms"));
  EXPECT_FALSE(p->channels[1].outbound);
  EXPECT_EQ(p->channels[1].top_k, 3);  // default
  EXPECT_EQ(p->channels[2].consent, "call");
  EXPECT_EQ(p->ChannelIndex("call_center"), 2);
  EXPECT_EQ(p->ChannelIndex("fax"), -1);
  EXPECT_EQ(p->ChannelNames(), "sms, app, call_center");
  EXPECT_EQ(p->consent_attribute, DefaultSchema()->AttributeIndex("consents"));
  EXPECT_TRUE(p->quiet_hours.enabled);
  EXPECT_EQ(p->quiet_hours.from_minute, 22 * 60 + 30);
  EXPECT_EQ(p->quiet_hours.to_minute, 7 * 60 + 15);
  EXPECT_EQ(p->quiet_hours.default_timezone, "Europe/Paris");
  ASSERT_EQ(p->caps.size(), 2u);
  EXPECT_EQ(p->caps[0].channel, 0);
  EXPECT_EQ(p->caps[0].max, 2);
  EXPECT_EQ(p->caps[0].window_ms, 7 * kMsPerDay);
  EXPECT_EQ(p->caps[0].line, 8);
  EXPECT_EQ(p->caps[1].channel, -1);
  EXPECT_EQ(p->caps[1].window_ms, 48 * kMsPerHour);
  EXPECT_EQ(p->caps[1].line, 9);
  ASSERT_EQ(p->suppression.size(), 1u);
  EXPECT_EQ(p->suppression[0].scope, TargetScope::kGroup);
  EXPECT_EQ(p->suppression[0].after, 5);
  EXPECT_EQ(p->suppression[0].window_ms, 30 * kMsPerDay);
  EXPECT_EQ(p->suppression[0].for_ms, 14 * kMsPerDay);
  EXPECT_EQ(p->suppression[0].line, 11);
  EXPECT_DOUBLE_EQ(p->arbitration.weight_context, 0.5);
  EXPECT_DOUBLE_EQ(p->arbitration.weight_value, 2);
  EXPECT_DOUBLE_EQ(p->arbitration.weight_levers, 0);
  EXPECT_DOUBLE_EQ(p->arbitration.min_priority, 0.2);
  EXPECT_FALSE(p->arbitration.value_must_cover_cost);
  EXPECT_EQ(p->arbitration.per_group, 2);
  EXPECT_DOUBLE_EQ(p->arbitration.default_propensity, 0.05);
  EXPECT_DOUBLE_EQ(p->control_group.share, 0.1);
  EXPECT_EQ(p->control_group.period_ms, 14 * kMsPerDay);
  EXPECT_EQ(p->control_group.salt, "abc");
}

TEST(Policies, MinimalHasDefaults) {
  auto p = ParsePolicies("channels: {web: }\n");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->consent_attribute, -1);
  EXPECT_FALSE(p->quiet_hours.enabled);
  EXPECT_TRUE(p->caps.empty());
  EXPECT_DOUBLE_EQ(p->arbitration.default_propensity, 0.02);
  EXPECT_DOUBLE_EQ(p->control_group.share, 0);
}

TEST(Policies, ErrorsWithExactPositions) {
  PoliciesError("channels: {sms: {}}\nchanels: {}\n",
                "policies.yaml:2:1: unknown key \"chanels\" in policies");
  PoliciesError("channels:\n  sms: {top_k: 0}\n",
                "policies.yaml:2:16: channel sms: top_k must be 1..100");
  PoliciesError("channels:\n  sms: {consent: sms}\n",
                "policies.yaml:2:18: channel sms: consent \"sms\" needs consent_attribute");
  PoliciesError("channels:\n  sms: {}\ncaps:\n  - {channel: fax, max: 1, window: 7d}\n",
                "policies.yaml:4:15: cap: unknown channel \"fax\" (channels: sms, or all)");
  PoliciesError("channels:\n  sms: {}\nquiet_hours: {from: \"25:00\"}\n",
                "policies.yaml:3:21: quiet_hours: from must be a time HH:MM");
}

TEST(Policies, Errors) {
  struct Case {
    const char* yaml;
    const char* message_part;
  };
  const Case cases[] = {
      {"", "must be a mapping"},
      {"consent_attribute: consents\n", "need channels:"},
      {"channels: {}\n", "at least one channel"},
      {"channels: [sms]\n", "at least one channel"},
      {"channels: {SMS: {}}\n", "channel name \"SMS\""},
      {"channels: {all: {}}\n", "channel name \"all\""},
      {"channels: {a_very_long_channel_name_over_32_chars: {}}\n", "1-32 characters"},
      {"channels: {sms: {}, sms: {}}\n", "duplicate channel sms"},
      {"channels: {sms: {top_k: 101}}\n", "top_k must be 1..100"},
      {"channels: {sms: {top_k: x}}\n", "top_k must be an integer"},
      {"channels: {sms: {outbound: maybe}}\n", "outbound must be true or false"},
      {"channels: {sms: {color: red}}\n", "unknown key \"color\" in channel sms"},
      {"channels: {sms: {}}\nconsent_attribute: plan_type\n", "it must be a flags attribute"},
      {"channels: {sms: {}}\nconsent_attribute: nope\n", "unknown attribute \"nope\""},
      {"channels: {sms: {quiet_hours: true}}\n", "no quiet_hours: section"},
      {"channels: {sms: {}}\nquiet_hours: {from: \"9:00\"}\n", "HH:MM"},
      {"channels: {sms: {}}\nquiet_hours: {to: \"08:60\"}\n", "HH:MM"},
      {"channels: {sms: {}}\nquiet_hours: {from: \"08:00\", to: \"08:00\"}\n", "must differ"},
      {"channels: {sms: {}}\nquiet_hours: {timezone_attribute: birth_year}\n", "must be a string"},
      {"channels: {sms: {}}\nquiet_hours: {timezone_attribute: tz}\n", "unknown attribute \"tz\""},
      {"channels: {sms: {}}\nquiet_hours: {default_timezone: \"Europe Berlin\"}\n",
       "not an IANA zone name"},
      {"channels: {sms: {}}\nquiet_hours: {start: \"21:00\"}\n", "unknown key \"start\""},
      {"channels: {sms: {}}\ncaps: {channel: sms}\n", "caps must be a list"},
      {"channels: {sms: {}}\ncaps:\n  - {channel: sms, max: 0, window: 7d}\n", "max must be 1.."},
      {"channels: {sms: {}}\ncaps:\n  - {channel: sms, max: 1, window: 0d}\n",
       "window must be greater than zero"},
      {"channels: {sms: {}}\ncaps:\n  - {channel: sms, max: 1, window: soon}\n", "cap: window"},
      {"channels: {sms: {}}\ncaps:\n  - {channel: sms, max: 1}\n", "cap needs window"},
      {"channels: {sms: {}}\nsuppression:\n  - {scope: issue, after: 1, window: 1d, for: 1d}\n",
       "scope must be action or group"},
      {"channels: {sms: {}}\nsuppression:\n  - {scope: action, after: 1, window: 1d}\n",
       "needs for"},
      {"channels: {sms: {}}\nsuppression:\n  - {scope: action, after: 0, window: 1d, for: 1d}\n",
       "after must be 1.."},
      {"channels: {sms: {}}\narbitration: {weights: {value: -1}}\n", "weights: value must be ≥ 0"},
      {"channels: {sms: {}}\narbitration: {weights: {margin: 1}}\n", "unknown key \"margin\""},
      {"channels: {sms: {}}\narbitration: {min_priority: -0.1}\n", "min_priority must be ≥ 0"},
      {"channels: {sms: {}}\narbitration: {per_group: 0}\n", "per_group must be 1..100"},
      {"channels: {sms: {}}\narbitration: {default_propensity: 0}\n", "must be in (0, 1]"},
      {"channels: {sms: {}}\narbitration: {default_propensity: 1.5}\n", "must be in (0, 1]"},
      {"channels: {sms: {}}\narbitration: {value_must_cover_cost: 2}\n", "must be true or false"},
      {"channels: {sms: {}}\ncontrol_group: {share: 0.6}\n", "share must be in [0, 0.5]"},
      {"channels: {sms: {}}\ncontrol_group: {share: -0.1}\n", "share must be in [0, 0.5]"},
      {"channels: {sms: {}}\ncontrol_group: {period: 0d}\n", "period must be greater than zero"},
      {"channels: {sms: {}}\ncontrol_group: {size: 1}\n", "unknown key \"size\""},
      {"channels: {sms: {\n", "policies.yaml:"},  // YAML syntax error
  };
  for (const Case& c : cases) {
    std::string m = PoliciesError(c.yaml, "policies.yaml");
    EXPECT_TRUE(Contains(m, c.message_part)) << c.yaml << "\n→ " << m;
  }
}

// ---- catalog.yaml: structure -----------------------------------------------------------------

constexpr const char* kCatalog = R"yaml(context:
  page: string
  basket: number
templates:
  base:
    type: offer
    value: 4
    cost: 1
    propensity: 0.5
    eligibility: "profile.plan_type == 'prepaid'"
    cooldown: 2d
    treatments:
      sms: {text: "from the template"}
issues:
  Sales:
    lever: 2
    eligibility: "profile.price_eur > 0"
    groups:
      DataAddOns:
        lever: 1.5
        applicability: "not profile.throttled"
        actions:
          - id: A
            extends: base
            lever: 0.5
            eligibility: "history.impressions('B', 7d) < 2"
            suitability: ["ctx.page == 'data'", "agg.data_mb(7d) > 100"]
          - id: B
            extends: A
            name: "Action B"
            type: reward
            value: "agg.data_mb(30d) / 1024"
            valid_from: 2026-01-01
            valid_to: 2026-07-01T12:00:00Z
            max_times: 5
            daily_volume: {sms: 100, total: 500}
            daily_budget: {app: 25.5}
            context_weight: "if(ctx.page == 'data', 2, 1)"
            treatments:
              app: {title: "B", body: "Body", price: 2.99}
              call_center: {script: "Offer B"}
  Service:
    groups:
      Care:
        actions:
          - id: C
            type: mandatory
            treatments:
              call_center:
)yaml";

TEST(Catalog, StructureAndInheritance) {
  auto d = ParseCatalog(kCatalog);
  ASSERT_TRUE(d.ok()) << d.status().message();
  const Catalog& c = (*d)->catalog;
  ASSERT_EQ(c.issues.size(), 2u);
  ASSERT_EQ(c.groups.size(), 2u);
  ASSERT_EQ(c.actions.size(), 3u);  // the template is never an action
  EXPECT_EQ(c.issues[0].name, "Sales");
  EXPECT_EQ(c.issues[0].key, InteractionKey("Sales"));
  EXPECT_EQ(c.groups[0].name, "DataAddOns");
  EXPECT_EQ(c.groups[0].issue, 0);
  EXPECT_EQ(c.groups[1].issue, 1);
  EXPECT_EQ(c.ActionIndex("B"), 1);
  EXPECT_EQ(c.ActionIndex("base"), -1);
  EXPECT_EQ(c.ActionIndex("Z"), -1);

  const Action& a = c.actions[0];
  EXPECT_EQ(a.id, "A");
  EXPECT_EQ(a.name, "A");  // defaults to the id
  EXPECT_EQ(a.key, InteractionKey("A"));
  EXPECT_EQ(a.line, 23);
  EXPECT_EQ(a.type, ActionType::kOffer);  // from the template
  EXPECT_DOUBLE_EQ(a.value, 4);
  EXPECT_EQ(a.value_expr, nullptr);
  EXPECT_DOUBLE_EQ(a.cost, 1);
  EXPECT_DOUBLE_EQ(a.propensity, 0.5);
  EXPECT_EQ(a.cooldown_ms, 2 * kMsPerDay);
  EXPECT_DOUBLE_EQ(a.lever, 2 * 1.5 * 0.5);  // issue × group × action
  EXPECT_EQ(a.context_weight, nullptr);
  // Rules: issue, group, then the extends chain root first, then the action's own.
  ASSERT_EQ(a.eligibility.size(), 3u);
  EXPECT_EQ(a.eligibility[0].origin, "issue Sales");
  EXPECT_EQ(a.eligibility[0].line, 17);
  EXPECT_EQ(a.eligibility[1].origin, "template base");
  EXPECT_EQ(a.eligibility[1].line, 10);
  EXPECT_EQ(a.eligibility[2].origin, "action A");
  EXPECT_EQ(a.eligibility[2].expr->source(), "history.impressions('B', 7d) < 2");
  ASSERT_EQ(a.applicability.size(), 1u);
  EXPECT_EQ(a.applicability[0].origin, "group DataAddOns");
  ASSERT_EQ(a.suitability.size(), 2u);
  EXPECT_EQ(a.suitability[1].expr->source(), "agg.data_mb(7d) > 100");
  EXPECT_EQ(a.suitability[1].line, 27);
  // Treatments come from the template, with the action's own ids.
  ASSERT_EQ(a.treatments.size(), 1u);
  EXPECT_EQ(a.treatments[0].id, "A/sms");
  ASSERT_EQ(a.treatment_by_channel.size(), 3u);
  ASSERT_NE(a.TreatmentFor(0), nullptr);
  EXPECT_EQ(a.TreatmentFor(0)->content[0].second, "from the template");
  EXPECT_EQ(a.TreatmentFor(1), nullptr);
  EXPECT_EQ(a.daily_volume, std::vector<int64_t>(3, kUnlimited));
  EXPECT_EQ(a.daily_volume_total, kUnlimited);
  EXPECT_EQ(a.daily_budget, std::vector<double>(3, -1));
  EXPECT_EQ(a.max_times, 0);
  EXPECT_EQ(a.valid_from, std::numeric_limits<TimestampMs>::min());
  EXPECT_EQ(a.valid_to, std::numeric_limits<TimestampMs>::max());

  const Action& b = c.actions[1];
  EXPECT_EQ(b.name, "Action B");
  EXPECT_EQ(b.type, ActionType::kReward);
  EXPECT_NE(b.value_expr, nullptr);
  EXPECT_DOUBLE_EQ(b.lever, 1.5);  // A's lever is inherited
  EXPECT_DOUBLE_EQ(b.cost, 1);
  EXPECT_EQ(b.valid_from, *ParseDate("2026-01-01"));
  EXPECT_EQ(b.valid_to, *ParseRfc3339("2026-07-01T12:00:00Z"));
  EXPECT_EQ(b.max_times, 5);
  EXPECT_NE(b.context_weight, nullptr);
  // B extends A extends base: it inherits both rule sets (A's group rules come from B's group).
  ASSERT_EQ(b.eligibility.size(), 3u);
  EXPECT_EQ(b.eligibility[1].origin, "template base");
  EXPECT_EQ(b.eligibility[2].origin, "action A");
  EXPECT_EQ(b.suitability.size(), 2u);
  // Own treatments replace the inherited ones.
  ASSERT_EQ(b.treatments.size(), 2u);
  EXPECT_EQ(b.TreatmentFor(0), nullptr);
  const Treatment* app = b.TreatmentFor(1);
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->id, "B/app");
  EXPECT_EQ(app->channel, 1);
  ASSERT_EQ(app->content.size(), 3u);
  EXPECT_EQ(app->content[2], (std::pair<std::string, std::string>("price", "2.99")));
  EXPECT_EQ(b.TreatmentFor(2)->id, "B/call_center");
  EXPECT_EQ(b.daily_volume, (std::vector<int64_t>{100, kUnlimited, kUnlimited}));
  EXPECT_EQ(b.daily_volume_total, 500);
  EXPECT_EQ(b.daily_budget, (std::vector<double>{-1, 25.5, -1}));

  const Action& cc = c.actions[2];
  EXPECT_EQ(cc.type, ActionType::kMandatory);
  EXPECT_DOUBLE_EQ(cc.propensity, 0.02);  // arbitration.default_propensity
  EXPECT_DOUBLE_EQ(cc.lever, 1);
  EXPECT_TRUE(cc.eligibility.empty());
  ASSERT_EQ(cc.treatments.size(), 1u);
  EXPECT_TRUE(cc.treatments[0].content.empty());

  // Context fields and history targets reach the feature space.
  const FeatureSpace& fs = *(*d)->features;
  ASSERT_EQ(fs.context().size(), 2u);
  EXPECT_EQ(fs.context()[1].name, "basket");
  EXPECT_EQ(fs.context()[1].type, expr::Type::kNumber);
  bool found = false;
  for (const Feature& f : fs.features()) {
    if (f.kind == FeatureKind::kHistoryImpressions) {
      found = true;
      EXPECT_EQ(f.target, InteractionKey("B"));  // B is declared after A reads it
      EXPECT_EQ(f.scope, TargetScope::kAction);
    }
  }
  EXPECT_TRUE(found);
}

TEST(Catalog, ActionTypeNames) {
  EXPECT_STREQ(ActionTypeName(ActionType::kOffer), "offer");
  EXPECT_STREQ(ActionTypeName(ActionType::kRetention), "retention");
  EXPECT_STREQ(ActionTypeName(ActionType::kService), "service");
  EXPECT_STREQ(ActionTypeName(ActionType::kReward), "reward");
  EXPECT_STREQ(ActionTypeName(ActionType::kMandatory), "mandatory");
}

TEST(Catalog, ConstantValueExpressionsFold) {
  auto d = ParseCatalog(R"yaml(issues:
  I:
    groups:
      G:
        actions:
          - {id: A, value: "9.99 * 0.3 * 12", treatments: {app: {}}}
          - {id: B, value: "profile.price_eur * 2", treatments: {app: {}}}
)yaml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ((*d)->catalog.actions[0].value_expr, nullptr);
  EXPECT_NEAR((*d)->catalog.actions[0].value, 35.964, 1e-9);
  EXPECT_NE((*d)->catalog.actions[1].value_expr, nullptr);
}

TEST(Catalog, EmptyFilesAreValid) {
  for (const char* text : {"", "# nothing yet\n", "issues: {}\n", "issues:\n  Sales:\n",
                           "issues:\n  Sales:\n    groups:\n      G:\n        actions: []\n"}) {
    auto d = ParseCatalog(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status().message();
    EXPECT_TRUE((*d)->catalog.actions.empty());
    EXPECT_NE((*d)->features, nullptr);
  }
}

TEST(Catalog, VersionFollowsBothTexts) {
  auto a = ParseCatalog(kCatalog);
  auto b = ParseCatalog(kCatalog);
  auto c = ParseCatalog(std::string(kCatalog) + "# a comment\n");
  auto p = Decisioning::Parse(std::string(kPolicies) + "# x\n", kCatalog, DefaultSchema());
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && p.ok());
  EXPECT_EQ((*a)->version.size(), 16u);
  EXPECT_EQ((*a)->version.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ((*a)->version, (*b)->version);
  EXPECT_NE((*a)->version, (*c)->version);
  EXPECT_NE((*a)->version, (*p)->version);
  EXPECT_NE((*c)->version, (*p)->version);
}

TEST(Catalog, NeedsASchema) {
  auto d = Decisioning::Parse(kPolicies, "", nullptr);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument);
}

TEST(Catalog, PoliciesErrorsComeFirst) {
  auto d = Decisioning::Parse("channels: {}\n", kCatalog, DefaultSchema());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message().rfind("policies.yaml:1:", 0), 0u) << d.status().message();
}

// ---- catalog.yaml: errors --------------------------------------------------------------------

// An action in a group, for error cases: `fields` are extra lines at action indentation.
std::string OneAction(const std::string& fields) {
  return "issues:\n  Sales:\n    groups:\n      G:\n        actions:\n          - id: X\n" + fields;
}
const std::string kApp = "            treatments: {app: {title: t}}\n";

TEST(CatalogErrors, ExactPositions) {
  // Line 6 is "          - id: X"; field lines start at line 7.
  // Expression error inside a quoted scalar: column of the quote + 1 + offset.
  std::string m = CatalogError(
      OneAction("            eligibility: \"profile.plan_type == 'x' and profile.plna > 1\"\n" +
                kApp),
      "catalog.yaml:7:56: eligibility of action X: unknown attribute 'plna'");
  // The same in a plain scalar: column of the scalar + offset.
  CatalogError(OneAction("            applicability: ctx.page == 'x'\n" + kApp),
               "catalog.yaml:7:28: applicability of action X: unknown context field 'page'");
  // In a list item.
  CatalogError(OneAction("            suitability:\n              - \"true\"\n"
                         "              - \"agg.data_mb(14d) > 1\"\n" +
                         kApp),
               "catalog.yaml:9:18: suitability of action X: agg.data_mb has no 14d window");
  // In a folded block scalar: the line inside the block.
  CatalogError(OneAction("            eligibility: >-\n              profile.price_eur > 1 and\n"
                         "              forecast.data.nope > 2\n" +
                         kApp),
               "catalog.yaml:9:15: eligibility of action X: unknown forecast figure 'nope'");
  // In a literal block scalar.
  CatalogError(OneAction("            eligibility: |\n              profile.price_eur > 1 and\n"
                         "              profile.nope\n" +
                         kApp),
               "catalog.yaml:9:15: eligibility of action X: unknown attribute 'nope'");
  // Escapes in a double-quoted scalar shift the column to where the token really is.
  CatalogError(
      OneAction("            eligibility: \"profile.plan_type == \\\"x\\\" and profile.nope\"\n" +
                kApp),
      "catalog.yaml:7:58: eligibility of action X: unknown attribute 'nope'");
  // Duplicate action id names the first one.
  CatalogError(OneAction(kApp + "          - id: X\n" + kApp),
               "catalog.yaml:8:17: duplicate action id X (first defined at line 6)");
  // Unknown key.
  CatalogError(OneAction("            vaule: 3\n" + kApp),
               "catalog.yaml:7:13: unknown key \"vaule\" in action X");
  // Wrong type.
  CatalogError(OneAction("            value: {eur: 3}\n" + kApp),
               "catalog.yaml:7:20: value: expected a number or an expression string");
  // Unknown channel lists the allowed ones.
  CatalogError(OneAction("            treatments: {fax: {text: t}}\n"),
               "catalog.yaml:7:26: action X: treatments: unknown channel \"fax\" (channels in "
               "policies.yaml: sms, app, call_center)");
  // No treatments: at the action.
  CatalogError(OneAction("            value: 1\n"),
               "catalog.yaml:6:13: action X has no treatments");
}

TEST(CatalogErrors, ExtendsCycleAndUnknown) {
  const std::string cycle = R"yaml(templates:
  t1: {extends: t2}
  t2: {extends: t1}
issues: {}
)yaml";
  std::string m = CatalogError(cycle, "catalog.yaml:2:17: extends cycle: t1 → t2 → t1");
  CatalogError(OneAction("            extends: X\n" + kApp),
               "catalog.yaml:7:22: extends cycle: X → X");
  CatalogError(OneAction("            extends: nothing\n" + kApp),
               "catalog.yaml:7:22: extends: unknown template or action \"nothing\"");
  // Through actions: X → Y → X.
  CatalogError(OneAction("            extends: Y\n" + kApp + "          - id: Y\n" +
                         "            extends: X\n"),
               "catalog.yaml:7:22: extends cycle: X → Y → X");
}

TEST(CatalogErrors, Messages) {
  struct Case {
    std::string yaml;
    const char* message_part;
  };
  const std::string group = "issues:\n  Sales:\n    groups:\n      G:\n        actions:\n";
  const Case cases[] = {
      {"[1, 2]\n", "catalog must be a mapping"},
      {"issuez: {}\n", "unknown key \"issuez\" in catalog"},
      {"issues: [Sales]\n", "issues must be a mapping"},
      {"issues:\n  Sales: {}\n  Sales: {}\n", "duplicate issue Sales (first defined at line 2)"},
      {"issues:\n  Sales:\n    groups: {G: {}, G: {}}\n", "duplicate group G"},
      {"issues:\n  A:\n    groups: {G: {}}\n  B:\n    groups: {G: {}}\n", "duplicate group G"},
      {"issues:\n  Sales:\n    groups: {Sales: {}}\n", "the name is already used at line 2"},
      {"issues:\n  \"Bad name\": {}\n", "issue name \"Bad name\""},
      {"issues:\n  Sales: {lever: 0}\n", "lever must be > 0"},
      {"issues:\n  Sales: {levers: 1}\n", "unknown key \"levers\" in issue Sales"},
      {"issues:\n  Sales:\n    groups: {G: {lever: -1}}\n", "lever must be > 0"},
      {"issues:\n  Sales:\n    groups: {G: {actions: {id: X}}}\n", "actions must be a list"},
      {"issues:\n  Sales:\n    eligibility: \"profile.price_eur\"\n",
       "eligibility of issue Sales:"},
      {"issues:\n  Sales:\n    eligibility: {a: b}\n", "expected an expression string or a list"},
      {"context: {page: text}\n", "unknown type \"text\""},
      {"context: {channel: string}\n", "ctx.channel always exists"},
      {"context: {Page: string}\n", "lower_snake_case"},
      {"context: [page]\n", "context must be a mapping"},
      {"templates: {t: {id: X}}\n", "unknown key \"id\" in template t"},
      {"templates: {X: {}}\n" + group + "          - {id: X, treatments: {app: }}\n",
       "the name is already used by template X"},
      {group + "          - {id: G, treatments: {app: }}\n", "the name is already used at line 4"},
      {group + "          - {name: nameless, treatments: {app: }}\n", "action needs an id"},
      {group + "          - {id: \"bad id\", treatments: {app: }}\n", "action id \"bad id\""},
      {group + "          - X\n", "an action must be a mapping"},
      {group + "          - {id: X, type: promo, treatments: {app: }}\n", "unknown type \"promo\""},
      {group + "          - {id: X, value: [1], treatments: {app: }}\n",
       "value: expected a number or an expression string"},
      {group + "          - {id: X, value: \"'abc'\", treatments: {app: }}\n",
       "value of action X:"},
      {group + "          - {id: X, value: \"profile.nope\", treatments: {app: }}\n",
       "value of action X: unknown attribute 'nope'"},
      {group + "          - {id: X, cost: -1, treatments: {app: }}\n", "cost must be ≥ 0"},
      {group + "          - {id: X, cost: free, treatments: {app: }}\n", "cost must be a number"},
      {group + "          - {id: X, propensity: 0, treatments: {app: }}\n",
       "propensity must be in (0, 1]"},
      {group + "          - {id: X, propensity: 1.2, treatments: {app: }}\n",
       "propensity must be in (0, 1]"},
      {group + "          - {id: X, lever: 0, treatments: {app: }}\n", "lever must be > 0"},
      {group + "          - {id: X, valid_from: 2026-13-01, treatments: {app: }}\n",
       "valid_from: expected a date"},
      {group + "          - {id: X, valid_to: tomorrow, treatments: {app: }}\n",
       "valid_to: expected a date"},
      {group + "          - {id: X, valid_from: 2026-02-01, valid_to: 2026-02-01, treatments: "
               "{app: }}\n",
       "valid_to must be after valid_from"},
      {group + "          - {id: X, valid_from: 2026-03-01, valid_to: 2026-02-01, treatments: "
               "{app: }}\n",
       "valid_to must be after valid_from"},
      {group + "          - {id: X, max_times: 0, treatments: {app: }}\n", "max_times must be 1.."},
      {group + "          - {id: X, cooldown: 0d, treatments: {app: }}\n", "cooldown must be > 0"},
      {group + "          - {id: X, cooldown: week, treatments: {app: }}\n", "cooldown"},
      {group + "          - {id: X, daily_volume: {fax: 1}, treatments: {app: }}\n",
       "daily_volume: unknown channel \"fax\" (channels in policies.yaml: sms, app, call_center; "
       "or total)"},
      {group + "          - {id: X, daily_volume: {sms: -1}, treatments: {app: }}\n",
       "daily_volume must be ≥ 0"},
      {group + "          - {id: X, daily_volume: 5, treatments: {app: }}\n",
       "daily_volume must be a mapping"},
      {group + "          - {id: X, daily_budget: {total: 1}, treatments: {app: }}\n",
       "daily_budget: unknown channel \"total\""},
      {group + "          - {id: X, daily_budget: {app: -5}, treatments: {app: }}\n",
       "daily_budget must be ≥ 0"},
      {group + "          - {id: X, treatments: {}}\n", "action X has no treatments"},
      {group + "          - {id: X, treatments: [app]}\n", "treatments must be a mapping"},
      {group + "          - {id: X, treatments: {app: text}}\n", "must be a mapping such as"},
      {group + "          - {id: X, treatments: {app: {title: [a]}}}\n", "title must be a string"},
      {group + "          - {id: X, treatments: {app: {}, app: {}}}\n", "duplicate treatment"},
      {group + "          - {id: X, eligibility: \"profile.price_eur\", treatments: {app: }}\n",
       "eligibility of action X:"},
      {group + "          - {id: X, eligibility: [\"true\", 3], treatments: {app: }}\n",
       "eligibility of action X:"},
      {group + "          - {id: X, eligibility: [[a]], treatments: {app: }}\n",
       "expected an expression string"},
      {group + "          - {id: X, context_weight: \"ctx.channel\", treatments: {app: }}\n",
       "context_weight of action X:"},
      {group + "          - {id: X, context_weight: {a: 1}, treatments: {app: }}\n",
       "context_weight: expected a number or an expression string"},
      {group + "          - {id: X, eligibility: \"history.impressions('NOPE', 7d) > 0\", "
               "treatments: {app: }}\n",
       "unknown target \"NOPE\""},
      {group + "          - {id: X, eligibility: \"ctx.page == 'x'\", treatments: {app: }}\n",
       "unknown context field 'page'; declare it under context: in catalog.yaml"},
      {"templates: {t: {eligibility: \"profile.nope\"}}\n",
       "eligibility of template t: unknown attribute 'nope'"},
      {"issues: {A: {groups: {G: {\n", "catalog.yaml:"},  // YAML syntax error
  };
  for (const Case& c : cases) {
    std::string m = CatalogError(c.yaml, "catalog.yaml:");
    EXPECT_TRUE(Contains(m, c.message_part)) << c.yaml << "\n→ " << m;
  }
}

TEST(CatalogErrors, UnknownChannelNeedsPolicies) {
  // Channels come from policies.yaml: a catalog valid for the default policies fails against
  // policies without those channels.
  auto d = Decisioning::Parse("channels: {web: {}}\n", DefaultCatalogYaml(), DefaultSchema());
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(
      Contains(d.status().message(), "unknown channel \"sms\" (channels in policies.yaml: web)"))
      << d.status().message();
}

// ---- Load ------------------------------------------------------------------------------------

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kairos_catalog_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const char* name, std::string_view text) { std::ofstream(dir_ / name) << text; }
  std::filesystem::path dir_;
};

TEST_F(LoadTest, MissingFilesGiveDefaults) {
  auto d = Decisioning::Load(dir_.string(), DefaultSchema());
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE((*d)->catalog.actions.empty());
  EXPECT_EQ((*d)->policies.channels.size(), 8u);
  EXPECT_EQ((*d)->policies.ChannelIndex("sms"), 0);
  EXPECT_NE((*d)->features, nullptr);
  EXPECT_EQ((*d)->version.size(), 16u);
}

TEST_F(LoadTest, MissingPoliciesWithASchemaWithoutConsents) {
  auto schema = Schema::Parse("event_types: {ping: }\n", "schema.yaml");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  auto d = Decisioning::Load(dir_.string(), *schema);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ((*d)->policies.channels.size(), 8u);
  EXPECT_EQ((*d)->policies.consent_attribute, -1);
  for (const ChannelDef& c : (*d)->policies.channels) EXPECT_TRUE(c.consent.empty());
}

TEST_F(LoadTest, ReadsBothFiles) {
  Write("policies.yaml", DemoPoliciesYaml());
  Write("catalog.yaml", DemoCatalogYaml());
  auto d = Decisioning::Load(dir_.string(), DefaultSchema());
  ASSERT_TRUE(d.ok()) << d.status().message();
  auto same = Decisioning::Parse(DemoPoliciesYaml(), DemoCatalogYaml(), DefaultSchema());
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*d)->catalog.actions.size(), (*same)->catalog.actions.size());
  EXPECT_EQ((*d)->version, (*same)->version);
}

TEST_F(LoadTest, CatalogOnlyUsesDefaultPolicies) {
  Write("catalog.yaml", DefaultCatalogYaml());
  auto d = Decisioning::Load(dir_.string(), DefaultSchema());
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ((*d)->catalog.actions.size(), 4u);
}

TEST_F(LoadTest, InvalidFileIsAnError) {
  Write("policies.yaml", "channels: {sms: {top_k: 0}}\n");
  auto d = Decisioning::Load(dir_.string(), DefaultSchema());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument);
  // Loaded from a workspace, errors name the file by its path (as schema.yaml errors do).
  EXPECT_EQ(d.status().message().rfind((dir_ / "policies.yaml").string() + ":1:", 0), 0u) << d.status().message();
  Write("policies.yaml", DefaultPoliciesYaml());
  Write("catalog.yaml", "issues: [\n");
  d = Decisioning::Load(dir_.string(), DefaultSchema());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message().rfind((dir_ / "catalog.yaml").string() + ":", 0), 0u) << d.status().message();
}

}  // namespace
}  // namespace kairos
