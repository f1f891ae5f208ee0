#include "catalog/features.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/hash.h"
#include "schema/config.h"

namespace kairos {
namespace {

using expr::ConstArg;
using expr::Type;

ConstArg Str(std::string s) {
  ConstArg a;
  a.type = Type::kString;
  a.str = std::move(s);
  return a;
}

ConstArg Dur(int64_t ms) {
  ConstArg a;
  a.type = Type::kDuration;
  a.num = static_cast<double>(ms);
  return a;
}

ConstArg Num(double v) {
  ConstArg a;
  a.type = Type::kNumber;
  a.num = v;
  return a;
}

constexpr int64_t kDay = kMsPerDay;

class FeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
    ASSERT_TRUE(schema.ok()) << schema.status().message();
    schema_ = *schema;
    TargetNames targets;
    targets.scope_by_name = {{"DATA_5GB", TargetScope::kAction},
                             {"DataAddOns", TargetScope::kGroup},
                             {"Sales", TargetScope::kIssue}};
    space_ = std::make_unique<FeatureSpace>(schema_,
                                            std::vector<ContextField>{{"page", Type::kString},
                                                                      {"basket", Type::kNumber},
                                                                      {"roaming", Type::kBool},
                                                                      {"visit", Type::kTime}},
                                            targets);
  }

  // Resolves `name` and returns its feature (failing the test on an error).
  const Feature& Get(std::string_view name) {
    auto r = space_->Resolve(name);
    EXPECT_TRUE(r.ok()) << name << ": " << r.status().message();
    static const Feature kNone;
    if (!r.ok()) return kNone;
    EXPECT_EQ(r->type, space_->features()[r->slot].type);
    return space_->features()[r->slot];
  }

  const Feature& Call(std::string_view name, std::vector<ConstArg> args) {
    auto r = space_->ResolveCall(name, args);
    EXPECT_TRUE(r.ok()) << name << ": " << r.status().message();
    static const Feature kNone;
    if (!r.ok()) return kNone;
    EXPECT_EQ(r->type, space_->features()[r->slot].type);
    return space_->features()[r->slot];
  }

  std::string Error(std::string_view name) {
    auto r = space_->Resolve(name);
    EXPECT_FALSE(r.ok()) << name << " resolved";
    if (r.ok()) return {};
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    return r.status().message();
  }

  std::string CallError(std::string_view name, std::vector<ConstArg> args) {
    auto r = space_->ResolveCall(name, args);
    EXPECT_FALSE(r.ok()) << name << "(...) resolved";
    if (r.ok()) return {};
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    return r.status().message();
  }

  std::shared_ptr<const Schema> schema_;
  std::unique_ptr<FeatureSpace> space_;
};

TEST_F(FeaturesTest, Now) {
  const Feature& f = Get("now");
  EXPECT_EQ(f.kind, FeatureKind::kNow);
  EXPECT_EQ(f.type, Type::kTime);
}

TEST_F(FeaturesTest, ProfileAttributesByType) {
  struct Case {
    const char* name;
    Type type;
  };
  const Case cases[] = {
      {"profile.plan_type", Type::kString},   // enum
      {"profile.plan_id", Type::kString},     // string
      {"profile.price_eur", Type::kNumber},   // number
      {"profile.birth_year", Type::kNumber},  // int
      {"profile.throttled", Type::kBool},     // bool
      {"profile.contract_end", Type::kTime},  // timestamp
  };
  for (const Case& c : cases) {
    const Feature& f = Get(c.name);
    EXPECT_EQ(f.kind, FeatureKind::kAttribute) << c.name;
    EXPECT_EQ(f.type, c.type) << c.name;
    EXPECT_EQ(f.index, schema_->AttributeIndex(std::string_view(c.name).substr(8))) << c.name;
    EXPECT_EQ(f.name, c.name);
    EXPECT_FALSE(f.per_candidate());
  }
}

TEST_F(FeaturesTest, FlagKey) {
  const Feature& f = Get("profile.consents.sms");
  EXPECT_EQ(f.kind, FeatureKind::kFlag);
  EXPECT_EQ(f.type, Type::kBool);
  EXPECT_EQ(f.index, schema_->AttributeIndex("consents"));
  EXPECT_EQ(f.key, "sms");
  EXPECT_NE(Get("profile.consents.email").key, "sms");
}

TEST_F(FeaturesTest, ProfileErrors) {
  EXPECT_EQ(Error("profile.consents"),
            "profile.consents is a set of flags; write profile.consents.<key>");
  std::string m = Error("profile.plna_type");
  EXPECT_NE(m.find("unknown attribute 'plna_type'"), std::string::npos) << m;
  EXPECT_NE(m.find("plan_type, plan_id"), std::string::npos) << m;  // lists the known ones
  m = Error("profile.plan_type.x");
  EXPECT_NE(m.find("not a set of flags"), std::string::npos) << m;
  m = Error("profile");
  EXPECT_NE(m.find("profile.<attribute>"), std::string::npos) << m;
  m = Error("profile.consents.bad key");
  EXPECT_NE(m.find("invalid flag key"), std::string::npos) << m;
}

TEST_F(FeaturesTest, Aggregates) {
  const Feature& w = Call("agg.data_mb", {Dur(30 * kDay)});
  EXPECT_EQ(w.kind, FeatureKind::kWindow);
  EXPECT_EQ(w.type, Type::kNumber);
  EXPECT_EQ(w.index, schema_->AggregateIndex("data_mb"));
  EXPECT_EQ(w.window_days, 30);
  EXPECT_EQ(w.name, "agg.data_mb(30d)");
  EXPECT_EQ(Call("agg.topups", {Dur(90 * kDay)}).index, schema_->AggregateIndex("topups"));
  EXPECT_EQ(Call("agg.max_days_late", {Dur(90 * kDay)}).kind, FeatureKind::kWindow);

  const Feature& t = Get("agg.last_topup");
  EXPECT_EQ(t.kind, FeatureKind::kLastTime);
  EXPECT_EQ(t.type, Type::kTime);
  EXPECT_EQ(t.index, schema_->AggregateIndex("last_topup"));
}

TEST_F(FeaturesTest, AggregateErrors) {
  std::string m = CallError("agg.data_mb", {Dur(14 * kDay)});
  EXPECT_NE(m.find("agg.data_mb has no 14d window"), std::string::npos) << m;
  EXPECT_NE(m.find("1d, 7d, 30d"), std::string::npos) << m;
  m = CallError("agg.data_mb", {Dur(12 * kMsPerHour)});
  EXPECT_NE(m.find("whole days"), std::string::npos) << m;
  m = CallError("agg.data_mb", {Num(7)});
  EXPECT_NE(m.find("one window duration"), std::string::npos) << m;
  m = CallError("agg.data_mb", {Dur(7 * kDay), Dur(kDay)});
  EXPECT_NE(m.find("one window duration"), std::string::npos) << m;
  m = Error("agg.data_mb");
  EXPECT_NE(m.find("write agg.data_mb("), std::string::npos) << m;
  m = CallError("agg.last_topup", {Dur(7 * kDay)});
  EXPECT_NE(m.find("without a window"), std::string::npos) << m;
  m = Error("agg.nope");
  EXPECT_NE(m.find("unknown aggregate 'nope'"), std::string::npos) << m;
  EXPECT_NE(m.find("data_mb"), std::string::npos) << m;
  m = CallError("agg.nope", {Dur(kDay)});
  EXPECT_NE(m.find("unknown aggregate 'nope'"), std::string::npos) << m;
  EXPECT_FALSE(space_->Resolve("agg").ok());
  EXPECT_FALSE(space_->Resolve("agg.data_mb.x").ok());
}

TEST_F(FeaturesTest, Forecasts) {
  const Feature& f = Get("forecast.data.days_to_depletion");
  EXPECT_EQ(f.kind, FeatureKind::kForecast);
  EXPECT_EQ(f.type, Type::kNumber);
  EXPECT_EQ(f.index, 0);
  EXPECT_EQ(f.figure, ForecastFigure::kDaysToDepletion);
  const Feature& c = Get("forecast.credit.cycle_end");
  EXPECT_EQ(c.type, Type::kTime);
  EXPECT_EQ(c.index, 2);
  EXPECT_EQ(c.figure, ForecastFigure::kCycleEnd);
  EXPECT_EQ(Get("forecast.voice.cycle_start").figure, ForecastFigure::kCycleStart);
  const char* numbers[] = {"used",
                           "expected_to_cycle_end",
                           "expected_cycle_total",
                           "interval_low",
                           "interval_high",
                           "daily_mean",
                           "allowance",
                           "remaining",
                           "days_to_depletion",
                           "p_depletion",
                           "days_left"};
  for (const char* n : numbers) {
    EXPECT_EQ(Get(std::string("forecast.data.") + n).type, Type::kNumber) << n;
  }
  std::string m = Error("forecast.date.used");
  EXPECT_NE(m.find("unknown forecast 'date'; known: data, voice, credit"), std::string::npos) << m;
  m = Error("forecast.data.bogus");
  EXPECT_NE(m.find("unknown forecast figure 'bogus'"), std::string::npos) << m;
  m = Error("forecast.data");
  EXPECT_NE(m.find("needs a figure"), std::string::npos) << m;
}

TEST_F(FeaturesTest, Subscriber) {
  EXPECT_EQ(Get("subscriber.events_applied").kind, FeatureKind::kEventsApplied);
  EXPECT_EQ(Get("subscriber.events_applied").type, Type::kNumber);
  EXPECT_EQ(Get("subscriber.first_seen").kind, FeatureKind::kFirstSeen);
  EXPECT_EQ(Get("subscriber.first_seen").type, Type::kTime);
  EXPECT_EQ(Get("subscriber.last_seen").kind, FeatureKind::kLastSeen);
  EXPECT_NE(Error("subscriber.age").find("unknown subscriber field 'age'"), std::string::npos);
}

TEST_F(FeaturesTest, Context) {
  const Feature& ch = Get("ctx.channel");
  EXPECT_EQ(ch.kind, FeatureKind::kChannel);
  EXPECT_EQ(ch.type, Type::kString);
  const Feature& page = Get("ctx.page");
  EXPECT_EQ(page.kind, FeatureKind::kContext);
  EXPECT_EQ(page.index, 0);
  EXPECT_EQ(page.type, Type::kString);
  EXPECT_EQ(Get("ctx.basket").type, Type::kNumber);
  EXPECT_EQ(Get("ctx.basket").index, 1);
  EXPECT_EQ(Get("ctx.roaming").type, Type::kBool);
  EXPECT_EQ(Get("ctx.visit").type, Type::kTime);
  EXPECT_EQ(space_->ContextIndex("visit"), 3);
  EXPECT_EQ(space_->ContextIndex("nope"), -1);
  EXPECT_EQ(Error("ctx.intent"),
            "unknown context field 'intent'; declare it under context: in catalog.yaml "
            "(declared: channel, page, basket, roaming, visit)");
}

TEST_F(FeaturesTest, History) {
  const Feature& imp = Call("history.impressions", {Str("DATA_5GB"), Dur(7 * kDay)});
  EXPECT_EQ(imp.kind, FeatureKind::kHistoryImpressions);
  EXPECT_EQ(imp.type, Type::kNumber);
  EXPECT_EQ(imp.scope, TargetScope::kAction);
  EXPECT_EQ(imp.target, InteractionKey("DATA_5GB"));
  EXPECT_EQ(imp.window_ms, 7 * kDay);
  EXPECT_EQ(imp.name, "history.impressions(\"DATA_5GB\", 7d)");

  const Feature& resp = Call("history.responses", {Str("DataAddOns"), Dur(12 * kMsPerHour)});
  EXPECT_EQ(resp.kind, FeatureKind::kHistoryResponses);
  EXPECT_EQ(resp.scope, TargetScope::kGroup);
  EXPECT_EQ(resp.window_ms, 12 * kMsPerHour);
  EXPECT_EQ(resp.name, "history.responses(\"DataAddOns\", 12h)");

  const Feature& out = Call("history.outcomes", {Str("Sales"), Str("converted"), Dur(30 * kDay)});
  EXPECT_EQ(out.kind, FeatureKind::kHistoryOutcomes);
  EXPECT_EQ(out.scope, TargetScope::kIssue);
  EXPECT_EQ(out.outcome, Outcome::kConverted);
  EXPECT_EQ(out.target, InteractionKey("Sales"));
  EXPECT_EQ(out.type, Type::kNumber);

  const Feature& li = Call("history.last_impression", {Str("DATA_5GB")});
  EXPECT_EQ(li.kind, FeatureKind::kHistoryLastImpression);
  EXPECT_EQ(li.type, Type::kTime);
  const Feature& lr = Call("history.last_response", {Str("Sales")});
  EXPECT_EQ(lr.kind, FeatureKind::kHistoryLastResponse);
  EXPECT_EQ(lr.type, Type::kTime);
  EXPECT_EQ(lr.scope, TargetScope::kIssue);
}

TEST_F(FeaturesTest, HistoryErrors) {
  std::string m = CallError("history.impressions", {Str("NOPE"), Dur(kDay)});
  EXPECT_NE(m.find("unknown target \"NOPE\""), std::string::npos) << m;
  m = CallError("history.impressions", {Str("DATA_5GB")});
  EXPECT_NE(m.find("takes 2 arguments"), std::string::npos) << m;
  m = CallError("history.impressions", {Dur(kDay), Dur(kDay)});
  EXPECT_NE(m.find("first argument must be a string"), std::string::npos) << m;
  m = CallError("history.impressions", {Str("DATA_5GB"), Num(7)});
  EXPECT_NE(m.find("window must be a duration greater than zero"), std::string::npos) << m;
  m = CallError("history.responses", {Str("DATA_5GB"), Dur(0)});
  EXPECT_NE(m.find("window must be a duration greater than zero"), std::string::npos) << m;
  m = CallError("history.responses", {Str("DATA_5GB"), Dur(-kDay)});
  EXPECT_NE(m.find("greater than zero"), std::string::npos) << m;
  m = CallError("history.outcomes", {Str("DATA_5GB"), Str("bought"), Dur(kDay)});
  EXPECT_NE(m.find("\"accepted\", \"rejected\""), std::string::npos) << m;
  m = CallError("history.last_response", {Str("DATA_5GB"), Dur(kDay)});
  EXPECT_NE(m.find("takes 1 argument:"), std::string::npos) << m;
  m = CallError("history.clicks", {Str("DATA_5GB")});
  EXPECT_NE(m.find("unknown history function 'clicks'"), std::string::npos) << m;
  m = Error("history.impressions");
  EXPECT_NE(m.find("is a function"), std::string::npos) << m;
  m = Error("history.nothing");
  EXPECT_NE(m.find("unknown history function"), std::string::npos) << m;
}

TEST_F(FeaturesTest, ActionFields) {
  EXPECT_EQ(Get("action.value").kind, FeatureKind::kActionValue);
  EXPECT_EQ(Get("action.cost").kind, FeatureKind::kActionCost);
  const Feature& p = Get("action.propensity");
  EXPECT_EQ(p.kind, FeatureKind::kActionPropensity);
  EXPECT_EQ(p.type, Type::kNumber);
  EXPECT_TRUE(p.per_candidate());
  EXPECT_NE(Error("action.margin").find("unknown action field 'margin'"), std::string::npos);
}

TEST_F(FeaturesTest, UnknownNamesAndCalls) {
  std::string m = Error("plan_type");
  EXPECT_NE(m.find("unknown name 'plan_type'"), std::string::npos) << m;
  EXPECT_NE(m.find("profile.*"), std::string::npos) << m;
  m = CallError("profile.price_eur", {Dur(kDay)});
  EXPECT_NE(m.find("is a value, not a function"), std::string::npos) << m;
  m = CallError("lookup", {Str("x")});
  EXPECT_NE(m.find("unknown function 'lookup'"), std::string::npos) << m;
  // A failed call resolves nothing.
  EXPECT_TRUE(space_->features().empty());
}

TEST_F(FeaturesTest, IdenticalFeaturesShareASlot) {
  auto a = space_->Resolve("profile.plan_type");
  auto b = space_->Resolve("profile.plan_type");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->slot, b->slot);
  // The same window written two ways is one feature; its first spelling names it.
  auto w1 = space_->ResolveCall("agg.data_mb", std::vector<ConstArg>{Dur(7 * kDay)});
  auto w2 = space_->ResolveCall("agg.data_mb", std::vector<ConstArg>{Dur(168 * kMsPerHour)});
  auto w3 = space_->ResolveCall("agg.data_mb", std::vector<ConstArg>{Dur(30 * kDay)});
  ASSERT_TRUE(w1.ok() && w2.ok() && w3.ok());
  EXPECT_EQ(w1->slot, w2->slot);
  EXPECT_NE(w1->slot, w3->slot);
  auto h1 = space_->ResolveCall("history.impressions",
                                std::vector<ConstArg>{Str("DATA_5GB"), Dur(7 * kDay)});
  auto h2 = space_->ResolveCall("history.impressions",
                                std::vector<ConstArg>{Str("DATA_5GB"), Dur(7 * kDay)});
  auto h3 = space_->ResolveCall("history.responses",
                                std::vector<ConstArg>{Str("DATA_5GB"), Dur(7 * kDay)});
  auto h4 = space_->ResolveCall("history.impressions",
                                std::vector<ConstArg>{Str("Sales"), Dur(7 * kDay)});
  ASSERT_TRUE(h1.ok() && h2.ok() && h3.ok() && h4.ok());
  EXPECT_EQ(h1->slot, h2->slot);
  EXPECT_NE(h1->slot, h3->slot);
  EXPECT_NE(h1->slot, h4->slot);
  auto f1 = space_->Resolve("profile.consents.sms");
  auto f2 = space_->Resolve("profile.consents.email");
  auto f3 = space_->Resolve("profile.consents.sms");
  ASSERT_TRUE(f1.ok() && f2.ok() && f3.ok());
  EXPECT_NE(f1->slot, f2->slot);
  EXPECT_EQ(f1->slot, f3->slot);
  // plan_type, two data_mb windows, three history features, two flags.
  EXPECT_EQ(space_->features().size(), 8u);
  EXPECT_EQ(space_->features()[w1->slot].name, "agg.data_mb(7d)");
}

TEST_F(FeaturesTest, CompiledExpressionsShareSlots) {
  expr::CompileError err;
  auto e1 = expr::Expr::Compile("profile.price_eur > 10 and agg.data_mb(7d) > 100", *space_,
                                Type::kBool, &err);
  ASSERT_NE(e1, nullptr) << err.message;
  auto e2 = expr::Expr::Compile("agg.data_mb(7d) / max(profile.price_eur, 1)", *space_,
                                Type::kNumber, &err);
  ASSERT_NE(e2, nullptr) << err.message;
  EXPECT_EQ(space_->features().size(), 2u);
  ASSERT_EQ(e1->references().size(), 2u);
  ASSERT_EQ(e2->references().size(), 2u);
  EXPECT_EQ(e1->references()[0].slot, e2->references()[1].slot);
  EXPECT_EQ(e1->references()[1].slot, e2->references()[0].slot);
  auto bad = expr::Expr::Compile("ctx.nope == 'x'", *space_, Type::kBool, &err);
  EXPECT_EQ(bad, nullptr);
  EXPECT_NE(err.message.find("unknown context field 'nope'"), std::string::npos) << err.message;
}

TEST(Outcomes, NamesAndIndexes) {
  for (int i = 0; i < kOutcomeCount; ++i) {
    EXPECT_EQ(OutcomeIndex(OutcomeName(static_cast<Outcome>(i))), i);
  }
  EXPECT_STREQ(OutcomeName(Outcome::kAccepted), "accepted");
  EXPECT_STREQ(OutcomeName(Outcome::kIgnored), "ignored");
  EXPECT_EQ(OutcomeIndex("converted"), static_cast<int>(Outcome::kConverted));
  EXPECT_EQ(OutcomeIndex("bought"), -1);
}

TEST(InteractionKey, LowBitsOfStableHash) {
  EXPECT_EQ(InteractionKey("DATA_5GB"), static_cast<uint32_t>(StableHash64("DATA_5GB")));
  EXPECT_EQ(InteractionKey("sms"), static_cast<uint32_t>(StableHash64("sms") & 0xffffffffu));
  EXPECT_NE(InteractionKey("sms"), InteractionKey("email"));
}

}  // namespace
}  // namespace kairos
