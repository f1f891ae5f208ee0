// Probabilistic customer-lifetime-value models (docs/clv.md): transaction logs → per-customer
// calibration summaries (x, t_x, T, mean repeat spend) → maximum-likelihood BG/NBD, Pareto/NBD
// and Gamma-Gamma fits → P(alive), expected transactions, expected spend and CLV.
//
// Everything here is a pure function of its arguments (no global state, no randomness): the
// fits are deterministic Nelder-Mead searches from fixed starting points. Errors are Status
// values naming the input (file:line for rows); nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kairos::analytics {

// ---- Transactions ------------------------------------------------------------------------

// One purchase (amount ≥ 0) or return (amount < 0) row. `day` counts days since 1970-01-01.
struct Transaction {
  std::string customer_id;
  int32_t day = 0;
  double amount = 0;
  int64_t line = 0;  // source line, for messages
};

struct TransactionLog {
  std::string source;  // file name used in messages
  std::vector<Transaction> rows;
};

enum class InputFormat {
  kCdnow,  // whitespace-separated: id date(YYYYMMDD) cds dollars (master, optional header), or
           // master_id sample_id date cds dollars (the 1/10 sample; the sample id is the id)
  kCsv,    // comma-separated with a header row; columns chosen by name
};

struct CsvColumns {
  std::string id = "customer_id";
  std::string date = "date";
  std::string amount = "amount";
};

// Parses a date "YYYY-MM-DD" or "YYYYMMDD" into days since 1970-01-01; kInvalidArgument for
// anything else (including impossible days such as 1997-02-30).
Result<int32_t> ParseDate(std::string_view text);
// Days since 1970-01-01 → "YYYY-MM-DD".
std::string FormatDate(int32_t day);

// Parses a whole file's text. kInvalidArgument naming `source`:line for a malformed row (wrong
// field count, unparseable or non-finite number, bad date, missing CSV column) and for a file
// without any transaction. Rows may be in any order.
Result<TransactionLog> ParseTransactions(std::string_view text, std::string_view source,
                                         InputFormat format, const CsvColumns& columns = {});
// Reads and parses a file; kIoError when it cannot be read.
Result<TransactionLog> LoadTransactions(const std::string& path, InputFormat format,
                                        const CsvColumns& columns = {});

// ---- Calibration summaries ---------------------------------------------------------------

// One customer over the calibration period, in the papers' convention (docs/clv.md):
// transactions on the same day are one transaction (their amounts summed); x = number of days
// with a purchase after the first purchase day, up to and including the calibration end day;
// t_x = (last purchase day − first purchase day) / 7; T = (calibration end − first purchase
// day) / 7, both in weeks; mean_spend = mean value of those x repeat transactions.
struct CustomerSummary {
  std::string id;
  double x = 0;
  double t_x = 0;
  double T = 0;
  double mean_spend = 0;
  int repeat_spend_count = 0;  // repeat transactions behind mean_spend (= x)
};

struct Summaries {
  std::vector<CustomerSummary> customers;  // in order of first appearance in the log
  int32_t calibration_end = 0;             // day (days since 1970-01-01)
  int64_t repeaters = 0;                   // customers with x > 0
  int64_t return_rows = 0;                 // rows with a negative amount (see Summarize)
  int64_t customers_after_end = 0;         // first purchase after the calibration end: left out
};

// Summarizes a log up to `calibration_end` (a day; default: the log's last transaction day).
// Returns (negative amounts) are not transactions: they change neither x nor t_x; their amount
// is netted into the customer's repeat spend when dated after the first purchase day and
// within the calibration period (so mean_spend may become ≤ 0, and Gamma-Gamma then leaves the
// customer out). A customer whose only rows are returns has no first purchase and is left out.
// kInvalidArgument when no customer has a purchase on or before the calibration end.
Result<Summaries> Summarize(const TransactionLog& log, std::optional<int32_t> calibration_end);

// ---- Gauss hypergeometric function -------------------------------------------------------

// 2F1(a, b; c; z) for |z| < 1 by its power series (summed until terms are below 1e-16 of the
// sum). kOutOfRange when |z| ≥ 1 or the series needs more than `max_terms` terms (z very close
// to 1). Boost 1.74 has no 2F1 and its pFq is inaccurate near z = 1 (BUILD-NOTES.md).
Result<double> Hypergeometric2F1(double a, double b, double c, double z,
                                 int64_t max_terms = 2'000'000);

// ---- Models ------------------------------------------------------------------------------

struct BgNbdParams {
  double r = 0, alpha = 0, a = 0, b = 0;
};
struct ParetoNbdParams {
  double r = 0, alpha = 0, s = 0, beta = 0;
};
struct GammaGammaParams {
  double p = 0, q = 0, gamma = 0;
};

struct BgNbdFit {
  BgNbdParams params;
  double log_likelihood = 0;
  int evaluations = 0;
};
struct ParetoNbdFit {
  ParetoNbdParams params;
  double log_likelihood = 0;
  int evaluations = 0;
};
struct GammaGammaFit {
  GammaGammaParams params;
  double log_likelihood = 0;
  int evaluations = 0;
  int64_t used = 0;      // repeaters with a positive mean repeat spend
  int64_t left_out = 0;  // repeaters with mean repeat spend ≤ 0 (DESIGN.md §7)
};

// Sample log-likelihoods (natural log, summed over customers). -inf/NaN never escape: invalid
// parameters (≤ 0 or non-finite) give -infinity.
double BgNbdLogLikelihood(const BgNbdParams& p, const std::vector<CustomerSummary>& customers);
double ParetoNbdLogLikelihood(const ParetoNbdParams& p,
                              const std::vector<CustomerSummary>& customers);
// Over repeaters with mean_spend > 0 only.
double GammaGammaLogLikelihood(const GammaGammaParams& p,
                               const std::vector<CustomerSummary>& customers);

// Maximum-likelihood fits. kFailedPrecondition when the data cannot identify the model (no
// customers, no repeat transaction; fewer than 2 usable repeaters for Gamma-Gamma); kInternal
// if the search ends without a finite likelihood.
Result<BgNbdFit> FitBgNbd(const std::vector<CustomerSummary>& customers);
Result<ParetoNbdFit> FitParetoNbd(const std::vector<CustomerSummary>& customers);
Result<GammaGammaFit> FitGammaGamma(const std::vector<CustomerSummary>& customers);

// P(a customer with history (x, t_x, T) is still alive at T).
double BgNbdProbabilityAlive(const BgNbdParams& p, double x, double t_x, double T);
double ParetoNbdProbabilityAlive(const ParetoNbdParams& p, double x, double t_x, double T);

// Expected transactions in (0, t] of a customer just acquired at time 0 (repeat purchases).
Result<double> BgNbdExpectedTransactions(const BgNbdParams& p, double t);
Result<double> ParetoNbdExpectedTransactions(const ParetoNbdParams& p, double t);
// Expected transactions in (T, T + t] given the history (x, t_x, T).
Result<double> BgNbdConditionalExpectedTransactions(const BgNbdParams& p, double x, double t_x,
                                                    double T, double t);
Result<double> ParetoNbdConditionalExpectedTransactions(const ParetoNbdParams& p, double x,
                                                        double t_x, double T, double t);

// E[mean spend per transaction | x repeat transactions of mean `mean_spend`]; with x = 0 the
// population mean p·gamma/(q − 1) (infinite when q ≤ 1).
double GammaGammaExpectedSpend(const GammaGammaParams& p, double x, double mean_spend);

// CLV over a horizon, discrete approximation (docs/clv.md): the horizon is cut into steps of
// `step_weeks`; each step's expected BG/NBD transactions × Gamma-Gamma expected spend × margin
// is discounted at the annual rate to the step's end.
struct ClvOptions {
  double margin = 1.0;                // share of revenue that is profit, in [0, 1]
  double annual_discount_rate = 0.1;  // e.g. 0.1 = 10 % a year, ≥ 0
  double horizon_weeks = 52;
  double step_weeks = 52.0 / 12.0;  // monthly
};
Result<double> CustomerLifetimeValue(const BgNbdParams& transactions, const GammaGammaParams& spend,
                                     const CustomerSummary& customer, const ClvOptions& options);

}  // namespace kairos::analytics
