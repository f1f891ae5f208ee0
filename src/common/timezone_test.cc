#include "common/timezone.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "common/time_format.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;
using timezone_internal::ParsePosixTimeZone;
using timezone_internal::PosixOffsetAt;
using timezone_internal::PosixTimeZone;
using timezone_internal::PosixTransition;

constexpr const char* kZoneinfo = "/usr/share/zoneinfo";

TimestampMs Ms(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : 0;
}
int64_t Sec(const char* rfc3339) { return Ms(rfc3339) / kMsPerSecond; }

std::shared_ptr<const TimeZone> MustLoad(const char* name) {
  auto tz = TimeZone::Load(name);
  EXPECT_TRUE(tz.ok()) << name << ": " << tz.status().ToString();
  return tz.ok() ? *tz : TimeZone::Utc();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Expects the offset just before and at a switch instant.
void ExpectSwitch(const TimeZone& tz, const char* at, int32_t before, int32_t after) {
  const TimestampMs t = Ms(at);
  EXPECT_EQ(tz.OffsetSeconds(t - 1000), before) << tz.name() << " one second before " << at;
  EXPECT_EQ(tz.OffsetSeconds(t - 1), before) << tz.name() << " one ms before " << at;
  EXPECT_EQ(tz.OffsetSeconds(t), after) << tz.name() << " at " << at;
}

// --- A builder of synthetic TZif files --------------------------------------------------------

struct TestType {
  int32_t offset;
  uint8_t is_dst;
  uint8_t designation;
};

struct TestZone {
  std::vector<int64_t> times;
  std::vector<uint8_t> indices;
  std::vector<TestType> types = {{0, 0, 0}};
  std::string chars = std::string("UTC\0", 4);
  std::vector<std::pair<int64_t, int32_t>> leaps;
};

void Be32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
void Be64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

std::string Header(char version, uint32_t isut, uint32_t isstd, uint32_t leap, uint32_t time,
                   uint32_t type, uint32_t chars) {
  std::string out = "TZif";
  out.push_back(version);
  out.append(15, '\0');
  for (uint32_t v : {isut, isstd, leap, time, type, chars}) Be32(&out, v);
  return out;
}

std::string Block(const TestZone& z, char version, bool wide) {
  std::string out = Header(
      version, 0, 0, static_cast<uint32_t>(z.leaps.size()), static_cast<uint32_t>(z.times.size()),
      static_cast<uint32_t>(z.types.size()), static_cast<uint32_t>(z.chars.size()));
  auto time = [&](int64_t t) {
    if (wide) {
      Be64(&out, static_cast<uint64_t>(t));
    } else {
      Be32(&out, static_cast<uint32_t>(t));
    }
  };
  for (int64_t t : z.times) time(t);
  for (uint8_t i : z.indices) out.push_back(static_cast<char>(i));
  for (const TestType& t : z.types) {
    Be32(&out, static_cast<uint32_t>(t.offset));
    out.push_back(static_cast<char>(t.is_dst));
    out.push_back(static_cast<char>(t.designation));
  }
  out += z.chars;
  for (const auto& [at, correction] : z.leaps) {
    time(at);
    Be32(&out, static_cast<uint32_t>(correction));
  }
  return out;
}

// A version-`version` file: the v1 block is `v1` (what a reader must skip), then the 64-bit
// block from `z` and the footer.
std::string TzifV2(const TestZone& z, const std::string& footer, char version = '2',
                   const TestZone& v1 = TestZone()) {
  return Block(v1, version, false) + Block(z, version, true) + "\n" + footer + "\n";
}

// Berlin's two types; designations "CET\0CEST\0".
TestZone BerlinLike() {
  TestZone z;
  z.types = {{3600, 0, 0}, {7200, 1, 4}};
  z.chars = std::string("CET\0CEST\0", 9);
  z.times = {Sec("2026-03-29T01:00:00Z"), Sec("2026-10-25T01:00:00Z")};
  z.indices = {1, 0};
  return z;
}

// --- Real zones -------------------------------------------------------------------------------

TEST(TimeZone, Utc) {
  const auto utc = TimeZone::Utc();
  ASSERT_NE(utc, nullptr);
  EXPECT_EQ(utc.get(), TimeZone::Utc().get());
  EXPECT_EQ(utc->name(), "UTC");
  EXPECT_EQ(utc->OffsetSeconds(0), 0);
  EXPECT_EQ(utc->OffsetSeconds(Ms("2026-07-01T12:00:00Z")), 0);
  EXPECT_EQ(utc->OffsetSeconds(std::numeric_limits<int64_t>::min()), 0);
  EXPECT_EQ(utc->LocalMinuteOfDay(Ms("2026-07-01T12:34:56Z")), 12 * 60 + 34);

  for (const char* name : {"UTC", "Etc/UTC"}) {
    const auto tz = MustLoad(name);
    EXPECT_EQ(tz->name(), name);
    EXPECT_EQ(tz->OffsetSeconds(Ms("1950-01-01T00:00:00Z")), 0);
    EXPECT_EQ(tz->OffsetSeconds(Ms("2026-07-01T12:00:00Z")), 0);
    EXPECT_EQ(tz->OffsetSeconds(Ms("2100-07-01T12:00:00Z")), 0);
  }
}

TEST(TimeZone, BerlinWinterSummerAndSwitches2026) {
  const auto tz = MustLoad("Europe/Berlin");
  EXPECT_EQ(tz->name(), "Europe/Berlin");
  EXPECT_EQ(tz->OffsetSeconds(Ms("2026-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(tz->OffsetSeconds(Ms("2026-07-01T12:00:00Z")), 7200);
  ExpectSwitch(*tz, "2026-03-29T01:00:00Z", 3600, 7200);
  ExpectSwitch(*tz, "2026-10-25T01:00:00Z", 7200, 3600);
  // History from the transition table: no DST in 1970 West Germany, double summer time 1947.
  EXPECT_EQ(tz->OffsetSeconds(Ms("1970-07-01T00:00:00Z")), 3600);
  EXPECT_EQ(tz->OffsetSeconds(Ms("1947-06-01T00:00:00Z")), 10800);
  // Before the first transition: local mean time (+0:53:28).
  EXPECT_EQ(tz->OffsetSeconds(Ms("1850-01-01T00:00:00Z")), 3208);
}

TEST(TimeZone, BerlinFooterRuleBeyond2037) {
  // Fat TZif files list transitions up to 2037; later instants use the POSIX TZ footer.
  const auto tz = MustLoad("Europe/Berlin");
  EXPECT_EQ(tz->OffsetSeconds(Ms("2040-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(tz->OffsetSeconds(Ms("2040-07-01T12:00:00Z")), 7200);
  ExpectSwitch(*tz, "2040-03-25T01:00:00Z", 3600, 7200);
  ExpectSwitch(*tz, "2040-10-28T01:00:00Z", 7200, 3600);
  ExpectSwitch(*tz, "2100-03-28T01:00:00Z", 3600, 7200);
  EXPECT_EQ(tz->OffsetSeconds(Ms("9999-12-31T23:59:59Z")), 3600);
  // The extremes of the timestamp range evaluate without overflow (year 292278994 is in August).
  EXPECT_EQ(tz->OffsetSeconds(std::numeric_limits<int64_t>::max()), 7200);
  EXPECT_EQ(tz->OffsetSeconds(std::numeric_limits<int64_t>::min()), 3208);
}

TEST(TimeZone, NewYork2026) {
  const auto tz = MustLoad("America/New_York");
  EXPECT_EQ(tz->OffsetSeconds(Ms("2026-01-15T12:00:00Z")), -18000);
  EXPECT_EQ(tz->OffsetSeconds(Ms("2026-07-01T12:00:00Z")), -14400);
  ExpectSwitch(*tz, "2026-03-08T07:00:00Z", -18000, -14400);
  ExpectSwitch(*tz, "2026-11-01T06:00:00Z", -14400, -18000);
  ExpectSwitch(*tz, "2045-03-12T07:00:00Z", -18000, -14400);  // footer
}

TEST(TimeZone, KolkataHalfHourOffset) {
  const auto tz = MustLoad("Asia/Kolkata");
  for (const char* t : {"1990-01-01T00:00:00Z", "2026-03-29T01:00:00Z", "2026-07-01T12:00:00Z",
                        "2050-12-31T23:59:59Z"}) {
    EXPECT_EQ(tz->OffsetSeconds(Ms(t)), 19800) << t;
  }
  EXPECT_EQ(tz->LocalMinuteOfDay(Ms("2026-07-01T20:00:00Z")), 90);  // 01:30 next day
}

TEST(TimeZone, SydneySouthernHemisphere2026) {
  const auto tz = MustLoad("Australia/Sydney");
  EXPECT_EQ(tz->OffsetSeconds(Ms("2026-01-15T00:00:00Z")), 39600);  // summer: AEDT
  EXPECT_EQ(tz->OffsetSeconds(Ms("2026-07-01T00:00:00Z")), 36000);  // winter: AEST
  // DST ends Sunday 2026-04-05 03:00 AEDT and starts Sunday 2026-10-04 02:00 AEST.
  ExpectSwitch(*tz, "2026-04-04T16:00:00Z", 39600, 36000);
  ExpectSwitch(*tz, "2026-10-03T16:00:00Z", 36000, 39600);
  EXPECT_EQ(tz->OffsetSeconds(Ms("2026-04-05T16:00:00Z")), 36000);
  // Footer path, end < start within the year.
  ExpectSwitch(*tz, "2040-03-31T16:00:00Z", 39600, 36000);
  ExpectSwitch(*tz, "2040-10-06T16:00:00Z", 36000, 39600);
  EXPECT_EQ(tz->OffsetSeconds(Ms("2040-12-31T23:00:00Z")), 39600);
  EXPECT_EQ(tz->OffsetSeconds(Ms("2041-01-01T01:00:00Z")), 39600);
}

TEST(TimeZone, OtherShapesOfRules) {
  // Dublin: "IST-1GMT0,M10.5.0,M3.5.0/1" (winter is the DST period, with a negative save).
  const auto dublin = MustLoad("Europe/Dublin");
  ExpectSwitch(*dublin, "2026-03-29T01:00:00Z", 0, 3600);
  ExpectSwitch(*dublin, "2026-10-25T01:00:00Z", 3600, 0);
  ExpectSwitch(*dublin, "2040-03-25T01:00:00Z", 0, 3600);
  ExpectSwitch(*dublin, "2040-10-28T01:00:00Z", 3600, 0);
  // Lord Howe: +10:30 / +11, a half-hour DST.
  const auto lord_howe = MustLoad("Australia/Lord_Howe");
  ExpectSwitch(*lord_howe, "2040-03-31T15:00:00Z", 39600, 37800);
  ExpectSwitch(*lord_howe, "2040-10-06T15:30:00Z", 37800, 39600);
  // Santiago: "<-04>4<-03>,M9.1.6/24,M4.1.6/24" (switches at 24:00).
  const auto santiago = MustLoad("America/Santiago");
  ExpectSwitch(*santiago, "2040-09-02T04:00:00Z", -14400, -10800);
}

TEST(TimeZone, LocalMinuteOfDay) {
  const auto berlin = MustLoad("Europe/Berlin");
  EXPECT_EQ(berlin->LocalMinuteOfDay(Ms("2026-01-15T21:59:59Z")), 22 * 60 + 59);
  EXPECT_EQ(berlin->LocalMinuteOfDay(Ms("2026-01-15T22:00:00Z")), 23 * 60);
  EXPECT_EQ(berlin->LocalMinuteOfDay(Ms("2026-01-15T23:00:00Z")), 0);
  EXPECT_EQ(berlin->LocalMinuteOfDay(Ms("2026-07-01T06:30:00Z")), 8 * 60 + 30);
  // Across the spring-forward gap: 01:59 CET, then 03:00 CEST.
  EXPECT_EQ(berlin->LocalMinuteOfDay(Ms("2026-03-29T00:59:00Z")), 1 * 60 + 59);
  EXPECT_EQ(berlin->LocalMinuteOfDay(Ms("2026-03-29T01:00:00Z")), 3 * 60);
  const auto new_york = MustLoad("America/New_York");
  EXPECT_EQ(new_york->LocalMinuteOfDay(Ms("2026-07-01T03:15:00Z")), 23 * 60 + 15);
  // Before 1970 (negative timestamps) the day still starts at local midnight.
  EXPECT_EQ(TimeZone::Utc()->LocalMinuteOfDay(Ms("1969-12-31T23:59:30Z")), 1439);
  EXPECT_EQ(TimeZone::Utc()->LocalMinuteOfDay(-1), 1439);
}

TEST(TimeZone, RejectsImplausibleNames) {
  for (const char* name :
       {"", "../../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd", "Europe/Berlin ",
        "Europe\\Berlin", "Europe//Berlin", "Europe/", "zone.tab", "Europe/Berlin\n",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 65 */}) {
    auto tz = TimeZone::Load(name);
    ASSERT_FALSE(tz.ok()) << name;
    EXPECT_EQ(tz.status().code(), ErrorCode::kInvalidArgument) << name;
  }
  EXPECT_FALSE(TimeZone::Load(std::string_view("UTC\0x", 5)).ok());
  EXPECT_TRUE(timezone_internal::IsPlausibleZoneName("America/Argentina/Buenos_Aires"));
  EXPECT_TRUE(timezone_internal::IsPlausibleZoneName("Etc/GMT+5"));
  EXPECT_TRUE(timezone_internal::IsPlausibleZoneName("Etc/GMT-14"));
}

TEST(TimeZone, UnknownZonesAreNotFound) {
  for (const char* name : {"Nope/Nowhere", "Europe", "Europe/Berlin/Extra", "Mars"}) {
    auto tz = TimeZone::Load(name);
    ASSERT_FALSE(tz.ok()) << name;
    EXPECT_EQ(tz.status().code(), ErrorCode::kNotFound) << name << ": " << tz.status().ToString();
  }
  auto tz = TimeZone::Load("Europe/Berlin", "/nonexistent-zoneinfo");
  EXPECT_EQ(tz.status().code(), ErrorCode::kNotFound);
}

TEST(TimeZone, NonTzifFileIsCorruptionNamingTheFile) {
  auto tz = TimeZone::Load("leapseconds");  // a text file of the tzdata package
  if (!fs::exists(std::string(kZoneinfo) + "/leapseconds")) GTEST_SKIP();
  ASSERT_FALSE(tz.ok());
  EXPECT_EQ(tz.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(tz.status().message().find("/usr/share/zoneinfo/leapseconds"), std::string::npos)
      << tz.status().message();
  EXPECT_NE(tz.status().message().find("magic"), std::string::npos) << tz.status().message();
}

// Every TZif file of the installed database loads (including right/ zones with leap seconds).
TEST(TimeZone, LoadsEveryInstalledZone) {
  int loaded = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kZoneinfo)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = fs::relative(entry.path(), kZoneinfo).string();
    if (!timezone_internal::IsPlausibleZoneName(name)) continue;
    if (ReadFile(entry.path().string()).substr(0, 4) != "TZif") continue;
    auto tz = TimeZone::Load(name);
    ASSERT_TRUE(tz.ok()) << name << ": " << tz.status().ToString();
    const int32_t offset = (*tz)->OffsetSeconds(Ms("2026-07-01T00:00:00Z"));
    EXPECT_GE(offset, -12 * 3600) << name;
    EXPECT_LE(offset, 14 * 3600) << name;
    ++loaded;
  }
  EXPECT_GT(loaded, 300);
}

TEST(TimeZone, RightZonesMapLeapSecondTimesToPosixTime) {
  if (!fs::exists(std::string(kZoneinfo) + "/right/Europe/Berlin")) GTEST_SKIP();
  const auto tz = MustLoad("right/Europe/Berlin");
  // The file stores these switches 27 leap seconds later; Kairos timestamps are POSIX time.
  // (right/ files end at the leap second table's expiry, mid-2026 for tzdata 2025b.)
  ExpectSwitch(*tz, "2025-03-30T01:00:00Z", 3600, 7200);
  ExpectSwitch(*tz, "2025-10-26T01:00:00Z", 7200, 3600);
  ExpectSwitch(*tz, "2026-03-29T01:00:00Z", 3600, 7200);
}

// The footer rule, evaluated on its own, agrees with the transitions zic computed for 2030-2037
// (fat files), on a 30-minute grid and one second before each grid point where either changes.
TEST(TimeZone, FooterAgreesWithTransitionTable) {
  for (const char* name :
       {"Europe/Berlin", "Europe/Dublin", "America/St_Johns", "America/Santiago", "America/Havana",
        "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Jerusalem"}) {
    const std::string bytes = ReadFile(std::string(kZoneinfo) + "/" + name);
    ASSERT_GT(bytes.size(), 2u) << name;
    const size_t start = bytes.rfind('\n', bytes.size() - 2);
    ASSERT_NE(start, std::string::npos) << name;
    auto footer = ParsePosixTimeZone(bytes.substr(start + 1, bytes.size() - start - 2));
    ASSERT_TRUE(footer.ok()) << name << ": " << footer.status().ToString();
    const auto tz = MustLoad(name);
    int mismatches = 0, changes = 0;
    auto check = [&](int64_t s, int32_t from_footer) {
      const int32_t from_table = tz->OffsetSeconds(s * kMsPerSecond);
      if (from_footer != from_table && ++mismatches <= 5) {
        ADD_FAILURE() << name << " at " << FormatRfc3339(s * kMsPerSecond) << ": footer "
                      << from_footer << ", table " << from_table;
      }
      return from_table;
    };
    int64_t t = Sec("2030-01-01T00:00:00Z");
    int32_t previous_footer = PosixOffsetAt(*footer, t);
    int32_t previous_table = check(t, previous_footer);
    for (t += 1800; t < Sec("2038-01-01T00:00:00Z"); t += 1800) {
      const int32_t now_footer = PosixOffsetAt(*footer, t);
      const int32_t now_table = check(t, now_footer);
      if (now_footer != previous_footer || now_table != previous_table) {
        check(t - 1, PosixOffsetAt(*footer, t - 1));
        ++changes;
      }
      previous_footer = now_footer;
      previous_table = now_table;
    }
    EXPECT_GE(changes, 16) << name << ": expected DST switches every year";
  }
}

// --- Synthetic TZif files ---------------------------------------------------------------------

TEST(TimeZoneParse, UsesTheVersion2BlockAndSkipsVersion1) {
  // The v1 block says "+5h, no transitions"; the v2 block is Berlin 2026. Only v2 counts.
  TestZone v1;
  v1.types = {{5 * 3600, 0, 0}, {6 * 3600, 1, 0}, {7 * 3600, 0, 0}};
  v1.chars = std::string("XXXX\0", 5);
  v1.times = {100, 200};
  v1.indices = {1, 2};
  for (char version : {'2', '3', '4'}) {
    auto tz = TimeZone::Parse("Test/Berlin", TzifV2(BerlinLike(), "", version, v1));
    ASSERT_TRUE(tz.ok()) << tz.status().ToString();
    EXPECT_EQ((*tz)->name(), "Test/Berlin");
    EXPECT_EQ((*tz)->OffsetSeconds(Ms("2026-01-01T00:00:00Z")), 3600);  // first non-DST type
    ExpectSwitch(**tz, "2026-03-29T01:00:00Z", 3600, 7200);
    ExpectSwitch(**tz, "2026-10-25T01:00:00Z", 7200, 3600);
    // Empty footer: the last type holds forever.
    EXPECT_EQ((*tz)->OffsetSeconds(Ms("2040-07-01T00:00:00Z")), 3600);
  }
}

TEST(TimeZoneParse, Version1Only) {
  auto tz = TimeZone::Parse("Test/V1", Block(BerlinLike(), '\0', false));
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  ExpectSwitch(**tz, "2026-03-29T01:00:00Z", 3600, 7200);
  ExpectSwitch(**tz, "2026-10-25T01:00:00Z", 7200, 3600);
}

TEST(TimeZoneParse, SlimFileWithoutTransitionsUsesTheFooter) {
  TestZone z;
  z.types = {{3600, 0, 0}};
  z.chars = std::string("CET\0", 4);
  auto tz = TimeZone::Parse("Test/Slim", TzifV2(z, "CET-1CEST,M3.5.0,M10.5.0/3"));
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  ExpectSwitch(**tz, "2026-03-29T01:00:00Z", 3600, 7200);
  ExpectSwitch(**tz, "2026-10-25T01:00:00Z", 7200, 3600);
  ExpectSwitch(**tz, "1990-03-25T01:00:00Z", 3600, 7200);

  // A slim file with a few transitions: table before, footer after the last one.
  TestZone few = BerlinLike();
  few.times = {Sec("1996-10-27T01:00:00Z")};
  few.indices = {0};
  tz = TimeZone::Parse("Test/Slim2", TzifV2(few, "CET-1CEST,M3.5.0,M10.5.0/3"));
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  EXPECT_EQ((*tz)->OffsetSeconds(Ms("1990-07-01T00:00:00Z")), 3600);  // before: non-DST type
  ExpectSwitch(**tz, "2026-03-29T01:00:00Z", 3600, 7200);
  ExpectSwitch(**tz, "2026-10-25T01:00:00Z", 7200, 3600);
}

TEST(TimeZoneParse, BeforeTheFirstTransitionUsesTheFirstStandardType) {
  TestZone z;
  z.types = {{7200, 1, 4}, {3600, 0, 0}};  // type 0 is a DST type
  z.chars = std::string("CET\0CEST\0", 9);
  z.times = {Sec("2026-10-25T01:00:00Z")};
  z.indices = {1};
  auto tz = TimeZone::Parse("Test/DstFirst", TzifV2(z, ""));
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  EXPECT_EQ((*tz)->OffsetSeconds(Ms("2026-07-01T00:00:00Z")), 3600);
  // All types DST: type 0.
  z.types = {{7200, 1, 4}, {10800, 1, 4}};
  tz = TimeZone::Parse("Test/AllDst", TzifV2(z, ""));
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  EXPECT_EQ((*tz)->OffsetSeconds(Ms("2026-07-01T00:00:00Z")), 7200);
  EXPECT_EQ((*tz)->OffsetSeconds(Ms("2026-12-01T00:00:00Z")), 10800);
}

TEST(TimeZoneParse, LeapSecondRecordsShiftTransitions) {
  TestZone z = BerlinLike();
  z.times = {Sec("2026-03-29T01:00:00Z") + 27, Sec("2026-10-25T01:00:00Z") + 27};
  z.leaps = {{Sec("1972-07-01T00:00:00Z"), 1}, {Sec("2017-01-01T00:00:00Z") + 26, 27}};
  auto tz = TimeZone::Parse("Test/Right", TzifV2(z, ""));
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  ExpectSwitch(**tz, "2026-03-29T01:00:00Z", 3600, 7200);
  ExpectSwitch(**tz, "2026-10-25T01:00:00Z", 7200, 3600);
}

void ExpectCorruption(std::string_view bytes, std::string_view what_in_message, const char* label) {
  auto tz = TimeZone::Parse("Test/Bad", bytes);
  ASSERT_FALSE(tz.ok()) << label;
  EXPECT_EQ(tz.status().code(), ErrorCode::kCorruption) << label;
  EXPECT_NE(tz.status().message().find("Test/Bad"), std::string::npos)
      << label << ": " << tz.status().message();
  EXPECT_NE(tz.status().message().find(what_in_message), std::string::npos)
      << label << ": " << tz.status().message();
}

TEST(TimeZoneParse, RejectsCorruptInput) {
  const std::string good = TzifV2(BerlinLike(), "CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(TimeZone::Parse("Test/Good", good).ok());

  ExpectCorruption("", "truncated version 1 header", "empty");
  ExpectCorruption("TZif2", "truncated version 1 header", "truncated header");
  ExpectCorruption(std::string(good).replace(0, 4, "TZiX"), "bad magic", "bad magic");
  ExpectCorruption(std::string(good).replace(4, 1, "1"), "version", "bad version");
  ExpectCorruption(Header('2', 0, 0, 0, 5, 1, 4), "truncated", "truncated data");
  ExpectCorruption(Header('\0', 0, 0, 0, 0xFFFFFFFF, 1, 4), "absurd transition count",
                   "huge timecnt");
  ExpectCorruption(Header('\0', 0, 0, 0, 1, 0xFFFFFFFF, 4), "absurd local time type count",
                   "huge typecnt");
  ExpectCorruption(Header('\0', 0, 0, 0xFFFFFFFF, 1, 1, 4), "absurd leap", "huge leapcnt");
  ExpectCorruption(Header('\0', 0, 0, 0, 1, 1, 0xFFFFFFFF), "absurd designation", "huge chars");
  ExpectCorruption(Header('\0', 0, 0, 0, 0, 0, 4), "no local time types", "no types");
  ExpectCorruption(Header('\0', 7, 0, 0, 0, 1, 4), "indicator count", "isutcnt");
  // A big but in-limit count with the data missing: no allocation, no read past the end.
  ExpectCorruption(Header('\0', 0, 0, 0, 60000, 1, 4) + std::string(100, '\0'), "truncated",
                   "big timecnt");
  // Version 2 header after the v1 block missing or damaged.
  ExpectCorruption(Block(BerlinLike(), '2', false), "truncated version 2+ header", "no v2");
  ExpectCorruption(Block(BerlinLike(), '2', false) + "TZiX" + std::string(40, '\0'),
                   "bad magic in version 2+ header", "bad v2 magic");

  TestZone z = BerlinLike();
  z.indices = {1, 2};
  ExpectCorruption(TzifV2(z, ""), "transition type index 2 out of range", "bad index");
  z = BerlinLike();
  z.times = {200, 100};
  ExpectCorruption(TzifV2(z, ""), "not strictly ascending", "descending times");
  z = BerlinLike();
  z.types[1].is_dst = 2;
  ExpectCorruption(TzifV2(z, ""), "DST flag", "bad isdst");
  z = BerlinLike();
  z.types[1].designation = 9;
  ExpectCorruption(TzifV2(z, ""), "designation index", "bad designation");
  z = BerlinLike();
  z.types[0].offset = std::numeric_limits<int32_t>::min();
  ExpectCorruption(TzifV2(z, ""), "out of range", "utoff -2^31");

  const std::string body = Block(TestZone(), '2', false) + Block(BerlinLike(), '2', true);
  ExpectCorruption(body, "missing footer", "no footer");
  ExpectCorruption(body + "\nCET-1", "unterminated footer", "unterminated footer");
  ExpectCorruption(body + "\nCET-1CEST,M13.5.0,M10.5.0\n", "bad footer", "bad footer");
}

TEST(TimeZoneParse, EveryPrefixOfARealFileIsCorruption) {
  const std::string bytes = ReadFile(std::string(kZoneinfo) + "/Europe/Berlin");
  ASSERT_GT(bytes.size(), 1000u);
  ASSERT_TRUE(TimeZone::Parse("Europe/Berlin", bytes).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto tz = TimeZone::Parse("Test/Bad", std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(tz.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(tz.status().code(), ErrorCode::kCorruption) << n;
  }
}

TEST(TimeZoneParse, MutatedFilesNeverCrash) {
  const std::string bytes = ReadFile(std::string(kZoneinfo) + "/Europe/Berlin");
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string mutated = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      // Half of the mutations hit the headers and counts, where damage matters most.
      const size_t pos = (round % 2 == 0) ? rng() % 64 : rng() % mutated.size();
      mutated[pos] = static_cast<char>(rng());
    }
    auto tz = TimeZone::Parse("Test/Fuzz", mutated);
    if (!tz.ok()) {
      EXPECT_EQ(tz.status().code(), ErrorCode::kCorruption);
      continue;
    }
    ++accepted;
    for (const char* t : {"1900-01-01T00:00:00Z", "2026-07-01T00:00:00Z", "2050-01-01T00:00:00Z"}) {
      const int32_t offset = (*tz)->OffsetSeconds(Ms(t));
      EXPECT_GT(offset, -26 * 3600);
      EXPECT_LT(offset, 26 * 3600);
      const int minute = (*tz)->LocalMinuteOfDay(Ms(t));
      EXPECT_GE(minute, 0);
      EXPECT_LT(minute, 1440);
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations (e.g. in the v1 block or designations) are benign
}

// --- POSIX TZ strings -------------------------------------------------------------------------

TEST(PosixTzString, ParsesRules) {
  auto cet = ParsePosixTimeZone("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(cet.ok()) << cet.status().ToString();
  EXPECT_EQ(cet->std_abbr, "CET");
  EXPECT_EQ(cet->std_offset, 3600);
  EXPECT_TRUE(cet->has_dst);
  EXPECT_EQ(cet->dst_abbr, "CEST");
  EXPECT_EQ(cet->dst_offset, 7200);
  EXPECT_EQ(cet->dst_start.kind, PosixTransition::Kind::kMonthWeekDay);
  EXPECT_EQ(cet->dst_start.month, 3);
  EXPECT_EQ(cet->dst_start.week, 5);
  EXPECT_EQ(cet->dst_start.weekday, 0);
  EXPECT_EQ(cet->dst_start.time_seconds, 7200);
  EXPECT_EQ(cet->dst_end.month, 10);
  EXPECT_EQ(cet->dst_end.time_seconds, 10800);

  auto india = ParsePosixTimeZone("<+0530>-5:30");
  ASSERT_TRUE(india.ok()) << india.status().ToString();
  EXPECT_EQ(india->std_abbr, "+0530");
  EXPECT_EQ(india->std_offset, 19800);
  EXPECT_FALSE(india->has_dst);
  EXPECT_EQ(PosixOffsetAt(*india, Sec("2026-07-01T00:00:00Z")), 19800);

  auto ist = ParsePosixTimeZone("IST-5:30");
  ASSERT_TRUE(ist.ok());
  EXPECT_EQ(ist->std_offset, 19800);

  auto argentina = ParsePosixTimeZone("<-03>3");
  ASSERT_TRUE(argentina.ok());
  EXPECT_EQ(argentina->std_abbr, "-03");
  EXPECT_EQ(argentina->std_offset, -10800);

  auto newfoundland = ParsePosixTimeZone("NST3:30NDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(newfoundland.ok());
  EXPECT_EQ(newfoundland->std_offset, -12600);
  EXPECT_EQ(newfoundland->dst_offset, -9000);

  auto chatham = ParsePosixTimeZone("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45");
  ASSERT_TRUE(chatham.ok()) << chatham.status().ToString();
  EXPECT_EQ(chatham->std_offset, 45900);
  EXPECT_EQ(chatham->dst_offset, 49500);
  EXPECT_EQ(chatham->dst_start.time_seconds, 2 * 3600 + 45 * 60);

  auto explicit_dst = ParsePosixTimeZone("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  ASSERT_TRUE(explicit_dst.ok());
  EXPECT_EQ(explicit_dst->dst_offset, 39600);

  auto seconds = ParsePosixTimeZone("AAA+1:02:03");
  ASSERT_TRUE(seconds.ok());
  EXPECT_EQ(seconds->std_offset, -3723);
}

TEST(PosixTzString, EvaluatesNorthernAndSouthernRules) {
  auto us = ParsePosixTimeZone("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(us.ok());
  EXPECT_EQ(PosixOffsetAt(*us, Sec("2026-03-08T06:59:59Z")), -18000);
  EXPECT_EQ(PosixOffsetAt(*us, Sec("2026-03-08T07:00:00Z")), -14400);
  EXPECT_EQ(PosixOffsetAt(*us, Sec("2026-11-01T05:59:59Z")), -14400);
  EXPECT_EQ(PosixOffsetAt(*us, Sec("2026-11-01T06:00:00Z")), -18000);

  // Without a rule, a DST zone gets the US rule (as tzcode does).
  auto us_default = ParsePosixTimeZone("EST5EDT");
  ASSERT_TRUE(us_default.ok());
  EXPECT_EQ(PosixOffsetAt(*us_default, Sec("2026-03-08T07:00:00Z")), -14400);
  EXPECT_EQ(PosixOffsetAt(*us_default, Sec("2026-11-01T06:00:00Z")), -18000);

  auto sydney = ParsePosixTimeZone("AEST-10AEDT,M10.1.0,M4.1.0/3");
  ASSERT_TRUE(sydney.ok());
  EXPECT_EQ(PosixOffsetAt(*sydney, Sec("2026-01-01T00:00:00Z")), 39600);
  EXPECT_EQ(PosixOffsetAt(*sydney, Sec("2026-04-04T15:59:59Z")), 39600);
  EXPECT_EQ(PosixOffsetAt(*sydney, Sec("2026-04-04T16:00:00Z")), 36000);
  EXPECT_EQ(PosixOffsetAt(*sydney, Sec("2026-10-03T15:59:59Z")), 36000);
  EXPECT_EQ(PosixOffsetAt(*sydney, Sec("2026-10-03T16:00:00Z")), 39600);
  EXPECT_EQ(PosixOffsetAt(*sydney, Sec("2026-12-31T23:59:59Z")), 39600);

  // Negative switch times: "<-02>2<-01>,M3.5.0/-1,M10.5.0/0" (Nuuk), 2040-03-24 23:00 local.
  auto nuuk = ParsePosixTimeZone("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  ASSERT_TRUE(nuuk.ok()) << nuuk.status().ToString();
  EXPECT_EQ(nuuk->dst_start.time_seconds, -3600);
  EXPECT_EQ(PosixOffsetAt(*nuuk, Sec("2040-03-25T00:59:59Z")), -7200);
  EXPECT_EQ(PosixOffsetAt(*nuuk, Sec("2040-03-25T01:00:00Z")), -3600);
  EXPECT_EQ(PosixOffsetAt(*nuuk, Sec("2040-10-28T00:59:59Z")), -3600);
  EXPECT_EQ(PosixOffsetAt(*nuuk, Sec("2040-10-28T01:00:00Z")), -7200);

  // Hours beyond 24 (Gaza): 4th Thursday + 50h = Saturday 02:00 local.
  auto gaza = ParsePosixTimeZone("EET-2EEST,M3.4.4/50,M10.4.4/50");
  ASSERT_TRUE(gaza.ok()) << gaza.status().ToString();
  EXPECT_EQ(gaza->dst_start.time_seconds, 50 * 3600);
  EXPECT_EQ(PosixOffsetAt(*gaza, Sec("2026-03-27T23:59:59Z")), 7200);
  EXPECT_EQ(PosixOffsetAt(*gaza, Sec("2026-03-28T00:00:00Z")), 10800);
  EXPECT_EQ(PosixOffsetAt(*gaza, Sec("2026-10-23T22:59:59Z")), 10800);
  EXPECT_EQ(PosixOffsetAt(*gaza, Sec("2026-10-23T23:00:00Z")), 7200);

  // Dublin: negative DST (winter GMT is "daylight" time).
  auto dublin = ParsePosixTimeZone("IST-1GMT0,M10.5.0,M3.5.0/1");
  ASSERT_TRUE(dublin.ok());
  EXPECT_EQ(PosixOffsetAt(*dublin, Sec("2026-01-15T00:00:00Z")), 0);
  EXPECT_EQ(PosixOffsetAt(*dublin, Sec("2026-07-15T00:00:00Z")), 3600);
  EXPECT_EQ(PosixOffsetAt(*dublin, Sec("2026-03-29T00:59:59Z")), 0);
  EXPECT_EQ(PosixOffsetAt(*dublin, Sec("2026-03-29T01:00:00Z")), 3600);
  EXPECT_EQ(PosixOffsetAt(*dublin, Sec("2026-10-25T01:00:00Z")), 0);
}

TEST(PosixTzString, JulianAndZeroBasedDays) {
  // Jn never counts February 29: J60 is March 1 in every year.
  auto julian = ParsePosixTimeZone("AAA0BBB,J60/0,J300/0");
  ASSERT_TRUE(julian.ok()) << julian.status().ToString();
  EXPECT_EQ(julian->dst_start.kind, PosixTransition::Kind::kJulian);
  EXPECT_EQ(PosixOffsetAt(*julian, Sec("2028-02-29T23:59:59Z")), 0);
  EXPECT_EQ(PosixOffsetAt(*julian, Sec("2028-03-01T00:00:00Z")), 3600);
  EXPECT_EQ(PosixOffsetAt(*julian, Sec("2027-02-28T23:59:59Z")), 0);
  EXPECT_EQ(PosixOffsetAt(*julian, Sec("2027-03-01T00:00:00Z")), 3600);
  // J300 is October 27 in every year; the end is at 00:00 daylight time (23:00Z the day before).
  EXPECT_EQ(PosixOffsetAt(*julian, Sec("2028-10-26T22:59:59Z")), 3600);
  EXPECT_EQ(PosixOffsetAt(*julian, Sec("2028-10-26T23:00:00Z")), 0);

  // n counts February 29: day 59 is February 29 in leap years, March 1 otherwise.
  auto zero_based = ParsePosixTimeZone("AAA0BBB,59/0,300/0");
  ASSERT_TRUE(zero_based.ok()) << zero_based.status().ToString();
  EXPECT_EQ(zero_based->dst_start.kind, PosixTransition::Kind::kZeroBased);
  EXPECT_EQ(PosixOffsetAt(*zero_based, Sec("2028-02-28T23:59:59Z")), 0);
  EXPECT_EQ(PosixOffsetAt(*zero_based, Sec("2028-02-29T00:00:00Z")), 3600);
  EXPECT_EQ(PosixOffsetAt(*zero_based, Sec("2027-02-28T23:59:59Z")), 0);
  EXPECT_EQ(PosixOffsetAt(*zero_based, Sec("2027-03-01T00:00:00Z")), 3600);

  // DST all year (RFC 8536 3.3.1 example): the switches meet at the turn of the year.
  auto all_year = ParsePosixTimeZone("EST5EDT,0/0,J365/25");
  ASSERT_TRUE(all_year.ok()) << all_year.status().ToString();
  for (const char* t : {"2026-01-01T04:59:59Z", "2026-01-01T05:00:00Z", "2026-07-01T00:00:00Z",
                        "2026-12-31T23:59:59Z", "2028-02-29T12:00:00Z"}) {
    EXPECT_EQ(PosixOffsetAt(*all_year, Sec(t)), -14400) << t;
  }
}

TEST(PosixTzString, SwitchTimesReachIntoNeighbouringYears) {
  // -100h moves the 2027 start into December 2026.
  auto early = ParsePosixTimeZone("AAA0BBB,J1/-100,J300/0");
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_EQ(PosixOffsetAt(*early, Sec("2026-12-27T19:59:59Z")), 0);
  EXPECT_EQ(PosixOffsetAt(*early, Sec("2026-12-27T20:00:00Z")), 3600);
  EXPECT_EQ(PosixOffsetAt(*early, Sec("2026-12-31T23:59:59Z")), 3600);
  // +100h/+120h move both 2026 switches into January 2027: standard time only from
  // 2027-01-04T03:00Z to 2027-01-05T00:00Z; early January is still DST from the 2025 start.
  auto late = ParsePosixTimeZone("AAA0BBB,J365/120,J365/100");
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(PosixOffsetAt(*late, Sec("2027-01-02T00:00:00Z")), 3600);
  EXPECT_EQ(PosixOffsetAt(*late, Sec("2027-01-04T02:59:59Z")), 3600);
  EXPECT_EQ(PosixOffsetAt(*late, Sec("2027-01-04T03:00:00Z")), 0);
  EXPECT_EQ(PosixOffsetAt(*late, Sec("2027-01-04T23:59:59Z")), 0);
  EXPECT_EQ(PosixOffsetAt(*late, Sec("2027-01-05T00:00:00Z")), 3600);
}

TEST(PosixTzString, RejectsMalformedStrings) {
  for (const char* bad : {"",
                          "CE-1",
                          "CET",
                          "CET-",
                          "CET-25",
                          "CET-1:60",
                          "CET-1CEST,M3.5.0",
                          "CET-1CEST,M13.5.0,M10.5.0",
                          "CET-1CEST,M3.6.0,M10.5.0",
                          "CET-1CEST,M3.5.7,M10.5.0",
                          "CET-1CEST,M3.5.0,M10.5.0/168",
                          "CET-1CEST,J0,J10",
                          "CET-1CEST,366,1",
                          "<+05",
                          "<+5>-5",
                          ":Europe/Berlin",
                          "CET-1CEST,M3.5.0,M10.5.0 ",
                          "CET-1CEST;M3.5.0,M10.5.0",
                          "CET-1CEST,M3.5.0,M10.5.0/3x",
                          "CET-0001"}) {
    auto tz = ParsePosixTimeZone(bad);
    EXPECT_FALSE(tz.ok()) << "'" << bad << "'";
    if (!tz.ok()) {
      EXPECT_EQ(tz.status().code(), ErrorCode::kInvalidArgument) << bad;
    }
  }
  // -167..167 hours are allowed in switch times.
  EXPECT_TRUE(ParsePosixTimeZone("CET-1CEST,M3.5.0/-167,M10.5.0/167").ok());
}

// --- The cache --------------------------------------------------------------------------------

class TimeZoneCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kairos-tz-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "Test");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void WriteZone(const std::string& name) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << TzifV2(BerlinLike(), "CET-1CEST,M3.5.0,M10.5.0/3");
  }
  fs::path dir_;
};

TEST_F(TimeZoneCacheTest, ReturnsTheSameZoneTwice) {
  TimeZoneCache cache;
  auto a = cache.Get("Europe/Berlin");
  auto b = cache.Get("Europe/Berlin");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ((*a)->OffsetSeconds(Ms("2026-07-01T12:00:00Z")), 7200);
  auto ny = cache.Get("America/New_York");
  ASSERT_TRUE(ny.ok());
  EXPECT_NE(ny->get(), a->get());
  EXPECT_EQ(cache.Get("Nope/Nowhere").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(cache.Get("../../etc/passwd").status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(TimeZoneCacheTest, ReadsEachFileOnceAndRemembersFailures) {
  TimeZoneCache cache(dir_.string());
  auto missing = cache.Get("Test/Zone");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);

  WriteZone("Test/Zone");
  // The failure is remembered: the new file is not looked at.
  EXPECT_EQ(cache.Get("Test/Zone").status().code(), ErrorCode::kNotFound);

  // A fresh cache sees it, and keeps it after the file is gone.
  TimeZoneCache fresh(dir_.string());
  auto zone = fresh.Get("Test/Zone");
  ASSERT_TRUE(zone.ok()) << zone.status().ToString();
  EXPECT_EQ((*zone)->OffsetSeconds(Ms("2026-07-01T12:00:00Z")), 7200);
  fs::remove(dir_ / "Test/Zone");
  auto again = fresh.Get("Test/Zone");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), zone->get());

  // Corrupt files are remembered as corruption.
  { std::ofstream(dir_ / "Test/Corrupt") << "not a tzif file"; }
  EXPECT_EQ(fresh.Get("Test/Corrupt").status().code(), ErrorCode::kCorruption);
  WriteZone("Test/Corrupt");
  EXPECT_EQ(fresh.Get("Test/Corrupt").status().code(), ErrorCode::kCorruption);
}

TEST_F(TimeZoneCacheTest, RemembersABoundedNumberOfFailures) {
  TimeZoneCache cache(dir_.string());
  const size_t n = TimeZoneCache::kMaxRememberedFailures + 10;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(cache.Get("Test/Missing" + std::to_string(i)).status().code(), ErrorCode::kNotFound);
  }
  WriteZone("Test/Missing0");
  WriteZone("Test/Missing" + std::to_string(n - 1));
  // The first failure was remembered; the one past the limit was not.
  EXPECT_EQ(cache.Get("Test/Missing0").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(cache.Get("Test/Missing" + std::to_string(n - 1)).ok());
}

TEST_F(TimeZoneCacheTest, ConcurrentGetsShareOneZone) {
  TimeZoneCache cache;
  const char* names[] = {"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Nope/Nowhere"};
  std::vector<std::thread> threads;
  std::vector<std::vector<const TimeZone*>> seen(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 200; ++round) {
        for (const char* name : names) {
          auto tz = cache.Get(name);
          seen[i].push_back(tz.ok() ? tz->get() : nullptr);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : seen) EXPECT_EQ(s, seen[0]);
  ASSERT_EQ(seen[0].size(), 800u);
  EXPECT_NE(seen[0][0], nullptr);
  EXPECT_EQ(seen[0][3], nullptr);
}

}  // namespace
}  // namespace kairos
