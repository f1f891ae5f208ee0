#include "sim/generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/time_format.h"
#include "schema/config.h"
#include "schema/event.h"
#include "schema/schema.h"
#include "sim/line_writer.h"
#include "common/rng.h"

namespace kairos::sim {
namespace {

std::string FreshDir(const std::string& name) {
  const std::filesystem::path p = std::filesystem::path(::testing::TempDir()) /
                                  ("kairos_sim_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::shared_ptr<const Schema> DefaultSchema() {
  auto schema = Schema::Parse(DefaultSchemaYaml(), "schema.yaml");
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return *schema;
}

// ---------------------------------------------------------------------------------------------
// Building blocks

TEST(LineWriterTest, TimestampMatchesFormatRfc3339) {
  Rng r(42);
  LineWriter w;
  for (int i = 0; i < 20000; ++i) {
    TimestampMs t = static_cast<TimestampMs>(r.Below(uint64_t{4102444800000}));  // 1970..2100
    if (i % 2 == 0) t -= t % 1000;  // whole seconds, as the history writes them
    w.Clear();
    w.Timestamp(t);
    ASSERT_EQ(std::string(w.view()), FormatRfc3339(t)) << t;
  }
}

TEST(LineWriterTest, FixedDecimals) {
  LineWriter w;
  auto fixed = [&w](double v, int d) {
    w.Clear();
    w.Fixed(v, d);
    return std::string(w.view());
  };
  EXPECT_EQ(fixed(0, 2), "0.00");
  EXPECT_EQ(fixed(12.345, 2), "12.35");
  EXPECT_EQ(fixed(29.99, 2), "29.99");
  EXPECT_EQ(fixed(-1.5, 1), "-1.5");
  EXPECT_EQ(fixed(999999, 0), "999999");
  EXPECT_EQ(fixed(0.04, 1), "0.0");
  EXPECT_EQ(fixed(7.007, 2), "7.01");
  EXPECT_EQ(fixed(std::nan(""), 2), "0.00");
}

TEST(RngTest, SameSeedSameStreamOthersDiffer) {
  Rng a(1, 5, 2), b(1, 5, 2), c(1, 6, 2), d(2, 5, 2), e(1, 5, 3);
  const uint64_t x = a.Next();
  EXPECT_EQ(x, b.Next());
  EXPECT_NE(x, c.Next());
  EXPECT_NE(x, d.Next());
  EXPECT_NE(x, e.Next());
}

TEST(RngTest, SamplersHaveTheirMoments) {
  Rng r(7);
  constexpr int kN = 200000;
  double sum = 0, sum2 = 0, ln = 0, po = 0, be = 0, un = 0, ex = 0;
  for (int i = 0; i < kN; ++i) {
    const double z = r.Normal();
    sum += z;
    sum2 += z * z;
    ln += r.UnitLogNormal(0.6);
    po += static_cast<double>(r.Poisson(3.5));
    be += r.Beta(2, 3);
    un += r.Uniform();
    ex += r.Exponential(4);
  }
  EXPECT_NEAR(sum / kN, 0, 0.01);
  EXPECT_NEAR(sum2 / kN, 1, 0.02);
  EXPECT_NEAR(ln / kN, 1, 0.01);
  EXPECT_NEAR(po / kN, 3.5, 0.02);
  EXPECT_NEAR(be / kN, 0.4, 0.005);
  EXPECT_NEAR(un / kN, 0.5, 0.005);
  EXPECT_NEAR(ex / kN, 4, 0.05);
  EXPECT_NEAR(static_cast<double>(r.Poisson(100)), 100, 60);
}

TEST(GeneratorTest, RejectsBadOptions) {
  GeneratorOptions o;
  o.out_dir = FreshDir("bad");
  o.subscribers = 0;
  auto r = Generate(o, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "subscribers");
  o.subscribers = 10;
  o.days = 0;
  EXPECT_EQ(Generate(o, nullptr).status().field(), "days");
  o.days = 5;
  o.out_dir.clear();
  EXPECT_EQ(Generate(o, nullptr).status().field(), "out_dir");
  o.out_dir = FreshDir("bad");
  o.world.prepaid_share = 1.5;
  EXPECT_EQ(Generate(o, nullptr).status().field(), "prepaid_share");
  o.world = WorldModel{};
  o.world.plans.erase(o.world.plans.begin(), o.world.plans.begin() + 6);  // no postpaid plan
  EXPECT_EQ(Generate(o, nullptr).status().code(), ErrorCode::kInvalidArgument);
}

TEST(GeneratorTest, UnwritableDirectoryIsAnIoError) {
  const std::string dir = FreshDir("file");
  std::ofstream(dir) << "not a directory";
  GeneratorOptions o;
  o.subscribers = 10;
  o.days = 2;
  o.out_dir = dir + "/sub";
  auto r = Generate(o, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kIoError);
  std::filesystem::remove(dir);
}

TEST(GeneratorTest, EndNotOnAWholeSecond) {
  // Any end works: days are counted back from it and every ts keeps its milliseconds.
  GeneratorOptions o;
  o.subscribers = 200;
  o.days = 3;
  o.end = kDefaultEnd + 12345;
  o.out_dir = FreshDir("odd_end");
  auto r = Generate(o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EventParser parser(DefaultSchema());
  TimestampMs prev = 0;
  const std::string text = ReadFile(r->events_path);
  for (std::string_view line : Lines(text)) {
    Event e;
    const Status s = parser.Parse(line, &e);
    ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << line;
    ASSERT_EQ(e.ts % 1000, 345);
    ASSERT_GE(e.ts, o.end - 3 * kMsPerDay);
    ASSERT_LT(e.ts, o.end);
    ASSERT_GE(e.ts, prev);
    prev = e.ts;
  }
  std::filesystem::remove_all(o.out_dir);
}

// ---------------------------------------------------------------------------------------------
// A small world, generated once and checked from several sides.

constexpr int64_t kSubscribers = 2000;
constexpr int kDays = 60;

struct ParsedEvent {
  Event e;
  size_t line;
};

class SmallWorldTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    options_ = std::make_unique<GeneratorOptions>();
    options_->subscribers = kSubscribers;
    options_->days = kDays;
    options_->seed = 7;
    options_->out_dir = FreshDir("small");
    progress_ = std::make_unique<std::vector<double>>();
    auto r = Generate(*options_, [](double f) { progress_->push_back(f); });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    summary_ = std::make_unique<GeneratorSummary>(*r);
    events_text_ = std::make_unique<std::string>(ReadFile(summary_->events_path));
    truth_text_ = std::make_unique<std::string>(ReadFile(summary_->truth_path));
    schema_ = DefaultSchema();
    ParseAll();
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(options_->out_dir);
    options_.reset();
    summary_.reset();
    events_text_.reset();
    truth_text_.reset();
    progress_.reset();
    schema_.reset();
    events_.reset();
    parse_error_.reset();
  }

  // Parses every line once for all tests; remembers the first invalid one.
  static void ParseAll() {
    EventParser parser(schema_);
    events_ = std::make_unique<std::vector<ParsedEvent>>();
    parse_error_ = std::make_unique<std::string>();
    const auto lines = Lines(*events_text_);
    events_->reserve(lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      ParsedEvent p{Event{}, i + 1};
      const Status s = parser.Parse(lines[i], &p.e);
      if (!s.ok()) {
        *parse_error_ =
            "line " + std::to_string(i + 1) + ": " + s.ToString() + "\n" + std::string(lines[i]);
        return;
      }
      events_->push_back(std::move(p));
    }
  }
  static const std::vector<ParsedEvent>& Events() { return *events_; }

  int Type(std::string_view name) const { return schema_->EventTypeIndex(name); }
  const EventTypeDef& TypeDef(std::string_view name) const {
    return schema_->event_types()[Type(name)];
  }
  int Field(std::string_view type, std::string_view field) const {
    return TypeDef(type).FieldIndex(field);
  }
  std::string EnumName(std::string_view type, std::string_view field, const Event& e) const {
    const int f = Field(type, field);
    const Value& v = e.fields[f];
    if (v.is_null) return "";
    return TypeDef(type).fields[f].values[v.i];
  }

  static std::unique_ptr<GeneratorOptions> options_;
  static std::unique_ptr<GeneratorSummary> summary_;
  static std::unique_ptr<std::string> events_text_, truth_text_;
  static std::unique_ptr<std::vector<double>> progress_;
  static std::shared_ptr<const Schema> schema_;
  static std::unique_ptr<std::vector<ParsedEvent>> events_;
  static std::unique_ptr<std::string> parse_error_;
};

std::unique_ptr<GeneratorOptions> SmallWorldTest::options_;
std::unique_ptr<GeneratorSummary> SmallWorldTest::summary_;
std::unique_ptr<std::string> SmallWorldTest::events_text_, SmallWorldTest::truth_text_;
std::unique_ptr<std::vector<double>> SmallWorldTest::progress_;
std::shared_ptr<const Schema> SmallWorldTest::schema_;
std::unique_ptr<std::vector<ParsedEvent>> SmallWorldTest::events_;
std::unique_ptr<std::string> SmallWorldTest::parse_error_;

TEST_F(SmallWorldTest, SameSeedSameBytes) {
  GeneratorOptions again = *options_;
  again.out_dir = FreshDir("again");
  auto r = Generate(again, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(ReadFile(r->events_path) == *events_text_) << "events differ for the same seed";
  EXPECT_TRUE(ReadFile(r->truth_path) == *truth_text_) << "truth differs for the same seed";
  EXPECT_EQ(r->events, summary_->events);

  std::filesystem::remove_all(again.out_dir);
}

TEST(GeneratorTest, OtherSeedOtherBytes) {
  GeneratorOptions a;
  a.subscribers = 300;
  a.days = 7;
  a.seed = 7;
  a.out_dir = FreshDir("seed7");
  GeneratorOptions b = a;
  b.seed = 8;
  b.out_dir = FreshDir("seed8");
  auto ra = Generate(a, nullptr);
  auto rb = Generate(b, nullptr);
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  EXPECT_FALSE(ReadFile(ra->events_path) == ReadFile(rb->events_path));
  EXPECT_FALSE(ReadFile(ra->truth_path) == ReadFile(rb->truth_path));
  std::filesystem::remove_all(a.out_dir);
  std::filesystem::remove_all(b.out_dir);
}

TEST_F(SmallWorldTest, SummaryAndProgress) {
  EXPECT_EQ(summary_->subscribers, kSubscribers);
  EXPECT_FALSE(std::filesystem::exists(summary_->events_path + ".tmp"));
  EXPECT_EQ(summary_->events_bytes, static_cast<int64_t>(events_text_->size()));
  int64_t total = 0;
  ASSERT_EQ(summary_->events_by_type.size(), 12u);
  for (const auto& [type, n] : summary_->events_by_type) {
    EXPECT_GT(n, 0) << "no " << type << " events";
    total += n;
  }
  EXPECT_EQ(total, summary_->events);
  EXPECT_EQ(summary_->churned, summary_->events_by_type.at("churn"));
  // About 2–4 events per subscriber-day.
  const double per_day = static_cast<double>(summary_->events) / (kSubscribers * kDays);
  EXPECT_GT(per_day, 2.0);
  EXPECT_LT(per_day, 4.0);
  ASSERT_FALSE(progress_->empty());
  EXPECT_LE(progress_->size(), 101u);
  EXPECT_EQ(progress_->back(), 1.0);
  for (size_t i = 1; i < progress_->size(); ++i) EXPECT_GT((*progress_)[i], (*progress_)[i - 1]);
}

TEST_F(SmallWorldTest, EveryLineParsesAgainstTheDefaultSchema) {
  ASSERT_TRUE(parse_error_->empty()) << *parse_error_;
  const auto& events = Events();
  ASSERT_EQ(static_cast<int64_t>(events.size()), summary_->events);
  std::unordered_set<std::string> ids;
  for (const auto& p : events) {
    EXPECT_TRUE(ids.insert(p.e.event_id).second) << "duplicate event id " << p.e.event_id;
  }
}

TEST_F(SmallWorldTest, TimeOrderedSubscriberFirstNothingAfterChurn) {
  ASSERT_TRUE(parse_error_->empty()) << *parse_error_;
  const auto& events = Events();
  ASSERT_FALSE(events.empty());
  const TimestampMs end = options_->end;
  const TimestampMs start = end - int64_t{kDays} * kMsPerDay;
  const int subscriber = Type("subscriber"), churn = Type("churn");
  std::unordered_map<std::string, TimestampMs> last_ts;
  std::unordered_set<std::string> churned;
  TimestampMs prev = start;
  std::string prev_sub;
  for (const auto& p : events) {
    const Event& e = p.e;
    ASSERT_GE(e.ts, start) << "line " << p.line;
    ASSERT_LT(e.ts, end) << "line " << p.line;
    // The whole file in time order, ties by subscriber id.
    ASSERT_GE(e.ts, prev) << "line " << p.line;
    if (e.ts == prev) {
      ASSERT_GE(e.subscriber_id, prev_sub) << "line " << p.line;
    }
    prev = e.ts;
    prev_sub = e.subscriber_id;
    ASSERT_FALSE(churned.count(e.subscriber_id)) << "event after churn at line " << p.line;
    auto it = last_ts.find(e.subscriber_id);
    if (it == last_ts.end()) {
      ASSERT_EQ(e.type, subscriber)
          << "first event of " << e.subscriber_id << " at line " << p.line;
      last_ts.emplace(e.subscriber_id, e.ts);
    } else {
      ASSERT_GE(e.ts, it->second);
      it->second = e.ts;
    }
    if (e.type == churn) churned.insert(e.subscriber_id);
  }
  EXPECT_EQ(static_cast<int64_t>(last_ts.size()), kSubscribers);
}

TEST_F(SmallWorldTest, StatisticsAreRealistic) {
  ASSERT_TRUE(parse_error_->empty()) << *parse_error_;
  const auto& events = Events();
  ASSERT_FALSE(events.empty());
  const TimestampMs start = options_->end - int64_t{kDays} * kMsPerDay;
  const int usage = Type("usage"), subscriber = Type("subscriber"), care = Type("care_contact"),
            churn = Type("churn"), network = Type("network"), topup = Type("topup");
  const int amount = Field("usage", "amount"), plan_type = Field("subscriber", "plan_type");
  const int throttled = Field("network", "throttled"), topup_amount = Field("topup", "amount_eur");
  struct Sub {
    int first_day = -1, last_day = -1;
    bool prepaid = false, typed = false;
  };
  std::unordered_map<std::string, Sub> subs;
  double data_mb = 0;
  int64_t care_contacts = 0, churns = 0, throttle_events = 0;
  std::map<std::string, int64_t> kinds;
  for (const auto& p : events) {
    const Event& e = p.e;
    Sub& s = subs[e.subscriber_id];
    const int day = static_cast<int>((e.ts - start) / kMsPerDay);
    if (s.first_day < 0) s.first_day = day;
    s.last_day = day;
    if (e.type == subscriber && !s.typed && !e.fields[plan_type].is_null) {
      s.typed = true;
      s.prepaid = EnumName("subscriber", "plan_type", e) == "prepaid";
    } else if (e.type == usage) {
      const std::string kind = EnumName("usage", "kind", e);
      ++kinds[kind];
      if (kind == "data") data_mb += e.fields[amount].number;
    } else if (e.type == care) {
      ++care_contacts;
    } else if (e.type == churn) {
      ++churns;  // exposure ends with the churn (last_day is its day)
    } else if (e.type == network && !e.fields[throttled].is_null && e.fields[throttled].b) {
      ++throttle_events;
    } else if (e.type == topup) {
      const double a = e.fields[topup_amount].number;
      EXPECT_TRUE(a == 5 || a == 10 || a == 15 || a == 20 || a == 25 || a == 30 || a == 50) << a;
    }
  }
  int64_t prepaid = 0;
  double active_days = 0;
  for (const auto& [id, s] : subs) {
    prepaid += s.prepaid;
    active_days += s.last_day - s.first_day + 1;
  }
  const double share = static_cast<double>(prepaid) / kSubscribers;
  EXPECT_NEAR(share, 0.28, 0.03);

  const double gb_month = data_mb / active_days * 30 / 1024;
  EXPECT_GT(gb_month, 5.0);
  EXPECT_LT(gb_month, 10.0);

  const double months = active_days / 30;
  const double churn_rate = churns / months;
  EXPECT_GT(churn_rate, 0.005);
  EXPECT_LT(churn_rate, 0.05);

  const double care_per_year = care_contacts / (active_days / 365);
  EXPECT_GT(care_per_year, 1.0);
  EXPECT_LT(care_per_year, 5.0);

  EXPECT_GT(throttle_events, 0);
  EXPECT_GT(kinds["voice"], 0);
  EXPECT_GT(kinds["sms"], 0);
  // Voice around 120 minutes a month: the day summaries are present on many days.
  EXPECT_GT(kinds["voice"], kinds["sms"]);
  RecordProperty("gb_per_month", std::to_string(gb_month));
  RecordProperty("churn_per_month", std::to_string(churn_rate));
  RecordProperty("care_per_year", std::to_string(care_per_year));
}

TEST_F(SmallWorldTest, TruthHasOneLinePerSubscriber) {
  const auto lines = Lines(*truth_text_);
  ASSERT_EQ(static_cast<int64_t>(lines.size()), kSubscribers);
  simdjson::dom::parser parser;
  const TimestampMs end = options_->end;
  int64_t churned_in_history = 0, with_next_cycle = 0;
  double next_data = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(lines[i]).get(doc), simdjson::SUCCESS) << lines[i];
    char id[32];
    std::snprintf(id, sizeof(id), "s%07zu", i + 1);
    ASSERT_EQ(std::string_view(doc["subscriber_id"]), id);
    for (const char* key : {"innovator", "deal_seeker", "sleeping_dog"}) {
      ASSERT_TRUE(doc[key].is_bool()) << key << " in " << lines[i];
    }
    for (const char* key : {"price_sensitivity", "network_quality"}) {
      const double v = doc[key];
      ASSERT_GE(v, 0);
      ASSERT_LE(v, 1);
    }
    ASSERT_TRUE(doc["monthly_revenue_eur"].is_number());
    const std::string_view status = doc["status"];
    if (status == "active") {
      ASSERT_TRUE(doc["churn_ts"].is_null());
      const double d = doc["next_cycle_data_mb"];
      next_data += d;
      ++with_next_cycle;
      auto next = ParseRfc3339(std::string_view(doc["next_cycle_start"]));
      ASSERT_TRUE(next.ok());
      ASSERT_GE(*next, end);
    } else {
      ASSERT_TRUE(doc["next_cycle_data_mb"].is_null());
      auto t = ParseRfc3339(std::string_view(doc["churn_ts"]));
      ASSERT_TRUE(t.ok()) << lines[i];
      if (*t >= end - int64_t{kDays} * kMsPerDay) ++churned_in_history;
    }
  }
  EXPECT_GT(churned_in_history, summary_->churned / 2);
  // The next cycle's metered data is in the same range as the history's.
  const double gb = next_data / with_next_cycle / 1024;
  EXPECT_GT(gb, 4.0);
  EXPECT_LT(gb, 11.0);
}

TEST_F(SmallWorldTest, TruthMatchesTheEvents) {
  // Every churn event is in the truth with the same time; no active subscriber churned.
  ASSERT_TRUE(parse_error_->empty()) << *parse_error_;
  const auto& events = Events();
  const int churn = Type("churn");
  std::unordered_map<std::string, TimestampMs> churn_ts;
  for (const auto& p : events) {
    if (p.e.type == churn) churn_ts[p.e.subscriber_id] = p.e.ts;
  }
  simdjson::dom::parser parser;
  int64_t matched = 0;
  for (std::string_view line : Lines(*truth_text_)) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS);
    const std::string id{std::string_view(doc["subscriber_id"])};
    auto it = churn_ts.find(id);
    if (it == churn_ts.end()) {
      ASSERT_TRUE(doc["churn_event_ts"].is_null()) << line;
      continue;
    }
    auto t = ParseRfc3339(std::string_view(doc["churn_event_ts"]));
    ASSERT_TRUE(t.ok()) << line;
    EXPECT_EQ(*t, it->second) << line;
    EXPECT_NE(std::string_view(doc["status"]), "active");
    ++matched;
  }
  EXPECT_EQ(matched, static_cast<int64_t>(churn_ts.size()));
}

// ---------------------------------------------------------------------------------------------
// Live stream

TEST(LiveStreamTest, LinesParseAndIdsDoNotCollide) {
  auto schema = DefaultSchema();
  EventParser parser(schema);
  LiveStream live(7, 500);
  std::unordered_set<std::string> ids;
  std::unordered_set<std::string> seen_subscribers;
  const int subscriber = schema->EventTypeIndex("subscriber");
  const int churn = schema->EventTypeIndex("churn");
  std::unordered_set<std::string> churned;
  TimestampMs now = kDefaultEnd + 3 * kMsPerDay;
  int64_t total = 0;
  for (int batch = 0; batch < 40; ++batch, now += 1000) {
    const std::string text = live.NextBatch(now, 250);
    const auto lines = Lines(text);
    ASSERT_EQ(lines.size(), 250u);
    for (std::string_view line : lines) {
      Event e;
      const Status s = parser.Parse(line, &e);
      ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << line;
      ASSERT_TRUE(ids.insert(e.event_id).second) << "duplicate id " << e.event_id;
      ASSERT_EQ(e.event_id[0], 'l');
      ASSERT_LE(e.ts, now);
      ASSERT_GE(e.ts, now - 5000);
      ASSERT_FALSE(churned.count(e.subscriber_id)) << "event after churn";
      if (seen_subscribers.insert(e.subscriber_id).second) {
        ASSERT_EQ(e.type, subscriber);
      }
      if (e.type == churn) churned.insert(e.subscriber_id);
      ++total;
    }
  }
  EXPECT_EQ(total, 40 * 250);
  EXPECT_EQ(live.NextBatch(now, 0), "");
}

TEST(LiveStreamTest, SameSeedSameStream) {
  LiveStream a(3, 100), b(3, 100), c(4, 100);
  const std::string x = a.NextBatch(kDefaultEnd + kMsPerDay, 100);
  EXPECT_EQ(x, b.NextBatch(kDefaultEnd + kMsPerDay, 100));
  EXPECT_NE(x, c.NextBatch(kDefaultEnd + kMsPerDay, 100));
}

TEST(LiveStreamTest, TinyWorldRunsOutInsteadOfLooping) {
  // One subscriber: the stream goes on until it churns (live churn is ~0.1% of events), then
  // returns nothing rather than spinning.
  LiveStream live(1, 1);
  bool churned = false;
  int64_t lines = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string batch = live.NextBatch(kDefaultEnd + i * 1000, 100);
    const auto got = Lines(batch);
    if (churned) {
      EXPECT_TRUE(got.empty());
      continue;
    }
    for (std::string_view l : got) {
      ++lines;
      if (l.find("\"type\":\"churn\"") != std::string_view::npos) churned = true;
    }
    if (!churned) {
      EXPECT_EQ(got.size(), 100u);
    }
  }
  EXPECT_GT(lines, 0);
}

}  // namespace
}  // namespace kairos::sim
