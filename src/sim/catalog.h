// Fixed catalogs of the synthetic operator: regions, handsets, products, competitors.
//
// These are lists, not figures from WORLD.md: names and prices are invented but plausible for
// Germany around 2025 (handset prices chosen so that purchases average about the 600 € of
// WORLD.md). Internal to src/sim.
#pragma once

#include <string_view>

namespace kairos::sim::catalog {

struct Region {
  std::string_view code;    // ISO 3166-2
  double population_share;  // approximate Destatis shares (not from WORLD.md)
  double network_quality;   // invented: dense city-states best, rural east worst
};
inline constexpr Region kRegions[] = {
    {"DE-NW", 0.215, 0.80}, {"DE-BY", 0.158, 0.74}, {"DE-BW", 0.133, 0.76}, {"DE-NI", 0.096, 0.70},
    {"DE-HE", 0.076, 0.76}, {"DE-RP", 0.049, 0.68}, {"DE-SN", 0.048, 0.70}, {"DE-BE", 0.044, 0.86},
    {"DE-SH", 0.035, 0.70}, {"DE-BB", 0.030, 0.62}, {"DE-ST", 0.026, 0.64}, {"DE-TH", 0.025, 0.64},
    {"DE-HH", 0.022, 0.86}, {"DE-MV", 0.019, 0.60}, {"DE-SL", 0.012, 0.74}, {"DE-HB", 0.008, 0.84},
};
inline constexpr int kRegionCount = sizeof(kRegions) / sizeof(kRegions[0]);
inline constexpr std::string_view kTimezone = "Europe/Berlin";

struct Device {
  std::string_view model;
  double price_eur;
  int tier;      // 0 budget, 1 mid-range, 2 flagship
  bool current;  // still sold (older models only appear in the initial base)
};
inline constexpr Device kDevices[] = {
    {"galaxy_a15", 199, 0, true},     {"moto_g54", 199, 0, true},
    {"redmi_note_13", 249, 0, true},  {"nokia_g42", 179, 0, true},
    {"galaxy_a55", 479, 1, true},     {"pixel_8a", 549, 1, true},
    {"iphone_se_2022", 529, 1, true}, {"fairphone_5", 699, 1, true},
    {"iphone_15", 899, 2, true},      {"iphone_15_pro", 1199, 2, true},
    {"galaxy_s24", 899, 2, true},     {"galaxy_s24_ultra", 1449, 2, true},
    {"pixel_8_pro", 1099, 2, true},   {"xiaomi_14", 799, 2, true},
    {"galaxy_a13", 179, 0, false},    {"redmi_note_11", 199, 0, false},
    {"galaxy_a52", 399, 1, false},    {"pixel_6a", 459, 1, false},
    {"iphone_11", 649, 1, false},     {"iphone_13", 799, 2, false},
    {"galaxy_s21", 849, 2, false},    {"iphone_12", 799, 2, false},
};
inline constexpr int kDeviceCount = sizeof(kDevices) / sizeof(kDevices[0]);

struct Product {
  std::string_view id;
  double price_eur;
  double margin_share;  // invented
};
inline constexpr Product kAutoData = {"auto_data_250mb", 3.00, 0.90};
inline constexpr Product kPrepaidPass = {"data_pass_1gb", 2.99, 0.90};
inline constexpr Product kDataPass = {"data_pass_5gb", 9.99, 0.85};
inline constexpr Product kRoamingPass = {"roaming_pass_world", 14.99, 0.60};
inline constexpr Product kInsurance = {"device_insurance", 7.99, 0.50};
inline constexpr Product kContent[] = {
    {"video_streaming_pass", 9.99, 0.30},
    {"music_flat", 9.99, 0.30},
    {"game_pass", 4.99, 0.35},
    {"ebook_flat", 6.99, 0.35},
    {"movie_rental", 3.99, 0.30},
    {"sports_live", 14.99, 0.25},
};
inline constexpr Product kAccessories[] = {
    {"phone_case", 24.99, 0.45},   {"screen_protector", 14.99, 0.60},
    {"fast_charger", 29.99, 0.40}, {"wireless_earbuds", 129.00, 0.25},
    {"smartwatch", 299.00, 0.20},
};
inline constexpr Product kOther[] = {
    {"sim_swap", 9.99, 0.80},
    {"esim_profile", 4.99, 0.80},
};

// Where port-outs go (invented weights over the German market's brands).
inline constexpr std::string_view kCompetitors[] = {"telekom", "vodafone", "o2", "1und1", "mvno"};
inline constexpr double kCompetitorWeights[] = {0.25, 0.25, 0.2, 0.15, 0.15};

// Traffic share per app category (WORLD: video 55–65%, social 10–13%, messaging ~6%; the rest
// invented), in the order of AppCategory.
inline constexpr double kAppTrafficShare[] = {0.60, 0.07, 0.12, 0.04, 0.01, 0.03, 0.06, 0.07};
// MB per minute of use (invented: mobile video ~5 MB/min, audio ~1, chat apps little).
inline constexpr double kAppMbPerMinute[] = {5.0, 1.0, 2.5, 1.0, 0.3, 1.2, 0.3, 2.0};

}  // namespace kairos::sim::catalog
