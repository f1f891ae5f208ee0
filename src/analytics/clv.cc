#include "analytics/clv.h"

#include <algorithm>
#include <array>
#include <boost/math/quadrature/gauss.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>

#include "common/file_util.h"
#include "common/text_lines.h"
#include "common/time_format.h"

namespace kairos::analytics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, 40));
  if (s.size() > 40) out += "...";
  return out + "\"";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view Unquote(std::string_view s) {
  s = Trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string_view> SplitComma(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    const size_t comma = s.find(',', pos);
    out.push_back(Unquote(s.substr(pos, comma == std::string_view::npos ? s.npos : comma - pos)));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

bool ParseDouble(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(*out);
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

Status RowError(std::string_view source, int64_t line, const std::string& what) {
  return InvalidArgument(SourceLine(source, line) + ": " + what);
}

Status ParseRow(std::string_view source, int64_t line_no, std::string_view id,
                std::string_view date, std::string_view amount, TransactionLog* log) {
  if (id.empty()) return RowError(source, line_no, "empty customer id");
  auto day = ParseDate(date);
  if (!day.ok()) return RowError(source, line_no, day.status().message());
  Transaction t;
  t.customer_id = std::string(id);
  t.day = *day;
  t.line = line_no;
  if (!ParseDouble(amount, &t.amount)) {
    return RowError(source, line_no, "amount " + Quote(amount) + " is not a finite number");
  }
  log->rows.push_back(std::move(t));
  return Status::Ok();
}

// ---- Optimization --------------------------------------------------------------------------

// Nelder-Mead minimization of f over R^n (we search log-parameters, so every point is a valid
// positive parameter vector). Restarts from the best point with a fresh simplex until a restart
// no longer improves the value: a single run can stall on a degenerate simplex.
struct Minimum {
  std::vector<double> x;
  double f = kInf;
  int evaluations = 0;
};

Minimum NelderMead(const std::function<double(const std::vector<double>&)>& f,
                   std::vector<double> start, double step) {
  const size_t n = start.size();
  Minimum best;
  best.x = start;
  auto eval = [&](const std::vector<double>& x) {
    ++best.evaluations;
    const double v = f(x);
    return std::isfinite(v) ? v : kInf;
  };
  best.f = eval(start);
  for (int restart = 0; restart < 8; ++restart) {
    std::vector<std::vector<double>> simplex(n + 1, best.x);
    std::vector<double> values(n + 1);
    for (size_t i = 0; i < n; ++i) simplex[i + 1][i] += step;
    for (size_t i = 0; i <= n; ++i) values[i] = eval(simplex[i]);
    std::vector<size_t> order(n + 1);
    for (int iter = 0; iter < 5000; ++iter) {
      for (size_t i = 0; i <= n; ++i) order[i] = i;
      std::sort(order.begin(), order.end(),
                [&](size_t a, size_t b) { return values[a] < values[b]; });
      const size_t lo = order[0], hi = order[n], second = order[n - 1];
      // Converged when the values and the simplex are both tight.
      double size = 0;
      for (size_t i = 0; i <= n; ++i) {
        for (size_t j = 0; j < n; ++j) {
          size = std::max(size, std::abs(simplex[i][j] - simplex[lo][j]));
        }
      }
      if (std::abs(values[hi] - values[lo]) <= 1e-11 * (1 + std::abs(values[lo])) && size < 1e-6) {
        break;
      }
      std::vector<double> centroid(n, 0.0);
      for (size_t i = 0; i <= n; ++i) {
        if (i == hi) continue;
        for (size_t j = 0; j < n; ++j) centroid[j] += simplex[i][j] / static_cast<double>(n);
      }
      auto along = [&](double coef) {
        std::vector<double> p(n);
        for (size_t j = 0; j < n; ++j) p[j] = centroid[j] + coef * (simplex[hi][j] - centroid[j]);
        return p;
      };
      std::vector<double> reflected = along(-1.0);
      const double fr = eval(reflected);
      if (fr < values[lo]) {
        std::vector<double> expanded = along(-2.0);
        const double fe = eval(expanded);
        if (fe < fr) {
          simplex[hi] = std::move(expanded);
          values[hi] = fe;
        } else {
          simplex[hi] = std::move(reflected);
          values[hi] = fr;
        }
      } else if (fr < values[second]) {
        simplex[hi] = std::move(reflected);
        values[hi] = fr;
      } else {
        const bool outside = fr < values[hi];
        std::vector<double> contracted = along(outside ? -0.5 : 0.5);
        const double fc = eval(contracted);
        if (fc < std::min(fr, values[hi])) {
          simplex[hi] = std::move(contracted);
          values[hi] = fc;
        } else {
          for (size_t i = 0; i <= n; ++i) {
            if (i == lo) continue;
            for (size_t j = 0; j < n; ++j) {
              simplex[i][j] = simplex[lo][j] + 0.5 * (simplex[i][j] - simplex[lo][j]);
            }
            values[i] = eval(simplex[i]);
          }
        }
      }
    }
    size_t lo = 0;
    for (size_t i = 1; i <= n; ++i) {
      if (values[i] < values[lo]) lo = i;
    }
    const double improvement = best.f - values[lo];
    if (values[lo] < best.f) {
      best.f = values[lo];
      best.x = simplex[lo];
    }
    if (!(improvement > 1e-9)) break;
    step = 0.05;  // restarts explore near the optimum
  }
  return best;
}

// ---- Grouped data --------------------------------------------------------------------------

// Customers with the same (x, t_x, T) contribute identically; grouping them makes a
// likelihood evaluation cost O(distinct histories) (CDNOW: ~2.5× fewer terms).
struct Group {
  int x;
  double t_x;
  double T;
  double count;
};

std::vector<Group> GroupHistories(const std::vector<CustomerSummary>& customers) {
  std::map<std::tuple<int, double, double>, double> counts;
  for (const auto& c : customers) counts[{static_cast<int>(c.x), c.t_x, c.T}] += 1;
  std::vector<Group> out;
  out.reserve(counts.size());
  for (const auto& [k, n] : counts)
    out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), n});
  return out;
}

int MaxX(const std::vector<Group>& groups) {
  int m = 0;
  for (const auto& g : groups) m = std::max(m, g.x);
  return m;
}

double LogAddExp(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

bool AllPositive(std::initializer_list<double> v) {
  for (double d : v) {
    if (!(d > 0) || !std::isfinite(d)) return false;
  }
  return true;
}

double BgNbdGroupedLL(const BgNbdParams& p, const std::vector<Group>& groups, int max_x) {
  if (!AllPositive({p.r, p.alpha, p.a, p.b})) return -kInf;
  // Terms that depend on x only, once per x.
  std::vector<double> by_x(max_x + 1);
  const double common =
      -std::lgamma(p.r) + p.r * std::log(p.alpha) + std::lgamma(p.a + p.b) - std::lgamma(p.b);
  for (int x = 0; x <= max_x; ++x) {
    by_x[x] = common + std::lgamma(p.r + x) + std::lgamma(p.b + x) - std::lgamma(p.a + p.b + x);
  }
  double ll = 0;
  for (const auto& g : groups) {
    const double rx = p.r + g.x;
    const double a1 = -rx * std::log(p.alpha + g.T);
    double term = a1;
    if (g.x > 0) {
      term = LogAddExp(a1, std::log(p.a / (p.b + g.x - 1)) - rx * std::log(p.alpha + g.t_x));
    }
    ll += g.count * (by_x[g.x] + term);
  }
  return ll;
}

// ln ∫_{t_x}^{T} (α+y)^{-(r+x)} (β+y)^{-(s+1)} dy: the Pareto/NBD density of dying at y after
// the last purchase, integrated over the possible death times. Closed form with 2F1 (Fader &
// Hardie, "A note on deriving the Pareto/NBD model"); Gauss-Legendre in log(y) as the fallback
// when the series argument is close to 1 (slow convergence) or the difference cancels.
double ParetoLogDeathIntegral(double r, double alpha, double s, double beta, int x, double t_x,
                              double T) {
  if (!(T > t_x)) return -kInf;
  const double rx = r + x;
  const double a = r + s + x;
  const bool alpha_ge = alpha >= beta;
  const double m = alpha_ge ? alpha : beta;
  const double b = alpha_ge ? s + 1 : rx;
  const double d = std::abs(alpha - beta);
  const double z1 = d / (m + t_x);
  if (z1 < 0.9) {
    auto h1 = Hypergeometric2F1(a, b, a + 1, z1, 20000);
    auto h2 = Hypergeometric2F1(a, b, a + 1, d / (m + T), 20000);
    if (h1.ok() && h2.ok() && *h1 > 0 && *h2 > 0) {
      const double l1 = std::log(*h1) - a * std::log(m + t_x);
      const double l2 = std::log(*h2) - a * std::log(m + T);
      if (l1 - l2 > 1e-6) return l1 + std::log(-std::expm1(l2 - l1)) - std::log(a);
    }
  }
  // u = ln(min(α, β) + y) makes the power-law integrand smooth on the whole interval.
  const double lo_shift = std::min(alpha, beta);
  const double u0 = std::log(lo_shift + t_x), u1 = std::log(lo_shift + T);
  auto g = [&](double y) { return -rx * std::log(alpha + y) - (s + 1) * std::log(beta + y); };
  const double g0 = g(t_x) + u0;  // the integrand's maximum (at u0) in u-space, for scaling
  auto integrand = [&](double u) {
    const double y = std::exp(u) - lo_shift;
    return std::exp(g(y) + u - g0);
  };
  // Panels keep the 30-point rule accurate across a wide range of u.
  const int panels = std::clamp(static_cast<int>(std::ceil((u1 - u0) * 2)), 1, 64);
  double sum = 0;
  for (int i = 0; i < panels; ++i) {
    const double lo = u0 + (u1 - u0) * i / panels, hi = u0 + (u1 - u0) * (i + 1) / panels;
    sum += boost::math::quadrature::gauss<double, 30>::integrate(integrand, lo, hi);
  }
  return g0 + std::log(sum);
}

// ln F(t) = ln[2F1(r+s+x, b; r+s+x+1; d/(m+t)) / (m+t)^{r+s+x}], the antiderivative term of
// the death integral (see ParetoLogDeathIntegral); NaN when the series argument is too close to
// 1 for the fast path.
double ParetoLogF(const ParetoNbdParams& p, int x, double t) {
  const bool alpha_ge = p.alpha >= p.beta;
  const double m = alpha_ge ? p.alpha : p.beta;
  const double z = std::abs(p.alpha - p.beta) / (m + t);
  if (!(z < 0.9)) return std::numeric_limits<double>::quiet_NaN();
  const double a = p.r + p.s + x;
  auto h = Hypergeometric2F1(a, alpha_ge ? p.s + 1 : p.r + x, a + 1, z, 20000);
  if (!h.ok() || !(*h > 0)) return std::numeric_limits<double>::quiet_NaN();
  return std::log(*h) - a * std::log(m + t);
}

// Distinct (x, t) points at which F is needed: each group's (x, t_x) and (x, T). F depends on
// (x, t) only and cohorts share T, so evaluating F once per distinct point (indexed once per
// fit, no hashing per evaluation) costs far fewer series than two per group.
struct ParetoPoints {
  std::vector<std::pair<int, double>> points;
  std::vector<std::pair<int, int>> index;  // per group: (F(t_x), F(T)) positions in points
};

ParetoPoints IndexParetoPoints(const std::vector<Group>& groups) {
  std::map<std::pair<int, double>, int> at;
  for (const auto& g : groups) {
    at.try_emplace({g.x, g.t_x}, 0);
    at.try_emplace({g.x, g.T}, 0);
  }
  ParetoPoints out;
  for (auto& [k, i] : at) {
    i = static_cast<int>(out.points.size());
    out.points.push_back(k);
  }
  for (const auto& g : groups) out.index.push_back({at[{g.x, g.t_x}], at[{g.x, g.T}]});
  return out;
}

double ParetoGroupedLL(const ParetoNbdParams& p, const std::vector<Group>& groups, int max_x,
                       const ParetoPoints& pts) {
  if (!AllPositive({p.r, p.alpha, p.s, p.beta})) return -kInf;
  std::vector<double> by_x(max_x + 1);
  const double common = -std::lgamma(p.r) + p.r * std::log(p.alpha) + p.s * std::log(p.beta);
  for (int x = 0; x <= max_x; ++x) by_x[x] = common + std::lgamma(p.r + x);
  std::vector<double> log_f(pts.points.size());
  for (size_t i = 0; i < pts.points.size(); ++i) {
    log_f[i] = ParetoLogF(p, pts.points[i].first, pts.points[i].second);
  }
  double ll = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const Group& g = groups[i];
    const double l1 = -(p.r + g.x) * std::log(p.alpha + g.T) - p.s * std::log(p.beta + g.T);
    double l_int = -kInf;
    if (g.T > g.t_x) {
      const double f1 = log_f[pts.index[i].first], f2 = log_f[pts.index[i].second];
      if (std::isfinite(f1) && std::isfinite(f2) && f1 - f2 > 1e-6) {
        l_int = f1 + std::log(-std::expm1(f2 - f1)) - std::log(p.r + p.s + g.x);
      } else {
        l_int = ParetoLogDeathIntegral(p.r, p.alpha, p.s, p.beta, g.x, g.t_x, g.T);
      }
    }
    ll += g.count * (by_x[g.x] + LogAddExp(l1, std::log(p.s) + l_int));
  }
  return ll;
}

struct SpendRow {
  double x;
  double z;
};

std::vector<SpendRow> SpendRows(const std::vector<CustomerSummary>& customers, int64_t* left_out) {
  std::vector<SpendRow> rows;
  *left_out = 0;
  for (const auto& c : customers) {
    if (c.x <= 0) continue;
    if (c.mean_spend > 0 && std::isfinite(c.mean_spend)) {
      rows.push_back({c.x, c.mean_spend});
    } else {
      ++*left_out;
    }
  }
  return rows;
}

double GammaGammaRowsLL(const GammaGammaParams& p, const std::vector<SpendRow>& rows) {
  if (!AllPositive({p.p, p.q, p.gamma})) return -kInf;
  const double common = -std::lgamma(p.q) + p.q * std::log(p.gamma);
  double ll = 0;
  for (const auto& r : rows) {
    const double px = p.p * r.x;
    ll += common + std::lgamma(px + p.q) - std::lgamma(px) + (px - 1) * std::log(r.z) +
          px * std::log(r.x) - (px + p.q) * std::log(p.gamma + r.x * r.z);
  }
  return ll;
}

}  // namespace

// ---- Parsing -------------------------------------------------------------------------------

Result<int32_t> ParseDate(std::string_view text) {
  text = Trim(text);
  std::string digits;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    digits = std::string(text.substr(0, 4)) + std::string(text.substr(5, 2)) +
             std::string(text.substr(8, 2));
  } else if (text.size() == 8) {
    digits = std::string(text);
  } else {
    return InvalidArgument("date " + Quote(text) + " is not YYYY-MM-DD or YYYYMMDD");
  }
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return InvalidArgument("date " + Quote(text) + " is not YYYY-MM-DD or YYYYMMDD");
    }
  }
  const int y = std::stoi(digits.substr(0, 4));
  const int m = std::stoi(digits.substr(4, 2));
  const int d = std::stoi(digits.substr(6, 2));
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0)) {
    return InvalidArgument("date " + Quote(text) + " is not a calendar day");
  }
  return static_cast<int32_t>(DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
}

std::string FormatDate(int32_t day) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

Result<TransactionLog> ParseTransactions(std::string_view text, std::string_view source,
                                         InputFormat format, const CsvColumns& columns) {
  TransactionLog log;
  log.source = std::string(source);
  Status st;
  if (format == InputFormat::kCdnow) {
    size_t fields = 0;  // 4 (master) or 5 (sample), fixed by the first data row
    st = ForEachLine(text, [&](std::string_view line, int64_t line_no, bool) -> Status {
      const auto f = SplitWhitespace(line);
      if (f.empty()) return Status::Ok();
      // The lifetimes copy of the master file starts with a header line; the original has none.
      if (line_no == 1 && !f[0].empty() && (f[0][0] < '0' || f[0][0] > '9')) {
        return Status::Ok();
      }
      if (fields == 0) {
        if (f.size() != 4 && f.size() != 5) {
          return RowError(source, line_no,
                          "expected 4 fields (id date cds dollars) or 5 (master_id sample_id "
                          "date cds dollars), found " +
                              std::to_string(f.size()));
        }
        fields = f.size();
      }
      if (f.size() != fields) {
        return RowError(source, line_no,
                        "expected " + std::to_string(fields) +
                            " fields like the first row, found " + std::to_string(f.size()));
      }
      const size_t o = fields - 4;
      double cds;
      if (!ParseDouble(f[o + 2], &cds)) {
        return RowError(source, line_no, "number of CDs " + Quote(f[o + 2]) + " is not a number");
      }
      return ParseRow(source, line_no, f[o], f[o + 1], f[o + 3], &log);
    });
  } else {
    int id_col = -1, date_col = -1, amount_col = -1;
    size_t ncols = 0;
    st = ForEachLine(text, [&](std::string_view line, int64_t line_no, bool) -> Status {
      if (Trim(line).empty()) return Status::Ok();
      const auto f = SplitComma(line);
      if (ncols == 0) {
        ncols = f.size();
        for (size_t i = 0; i < f.size(); ++i) {
          if (f[i] == columns.id) id_col = static_cast<int>(i);
          if (f[i] == columns.date) date_col = static_cast<int>(i);
          if (f[i] == columns.amount) amount_col = static_cast<int>(i);
        }
        for (const auto& [col, name] :
             {std::pair{id_col, &columns.id}, std::pair{date_col, &columns.date},
              std::pair{amount_col, &columns.amount}}) {
          if (col < 0) {
            return RowError(source, line_no, "header has no column " + Quote(*name));
          }
        }
        return Status::Ok();
      }
      if (f.size() != ncols) {
        return RowError(source, line_no,
                        "expected " + std::to_string(ncols) + " fields like the header, found " +
                            std::to_string(f.size()));
      }
      return ParseRow(source, line_no, f[id_col], f[date_col], f[amount_col], &log);
    });
  }
  if (!st.ok()) return st;
  if (log.rows.empty()) return InvalidArgument(std::string(source) + ": no transactions");
  return log;
}

Result<TransactionLog> LoadTransactions(const std::string& path, InputFormat format,
                                        const CsvColumns& columns) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseTransactions(*text, path, format, columns);
}

// ---- Summaries -----------------------------------------------------------------------------

Result<Summaries> Summarize(const TransactionLog& log, std::optional<int32_t> calibration_end) {
  Summaries out;
  int32_t last = std::numeric_limits<int32_t>::min();
  for (const auto& t : log.rows) last = std::max(last, t.day);
  out.calibration_end = calibration_end.value_or(last);

  // Rows by customer, in order of first appearance.
  std::unordered_map<std::string, size_t> index;
  std::vector<std::vector<const Transaction*>> by_customer;
  std::vector<std::string> ids;
  for (const auto& t : log.rows) {
    auto [it, inserted] = index.try_emplace(t.customer_id, by_customer.size());
    if (inserted) {
      by_customer.emplace_back();
      ids.push_back(t.customer_id);
    }
    by_customer[it->second].push_back(&t);
    if (t.amount < 0) ++out.return_rows;
  }
  for (size_t c = 0; c < by_customer.size(); ++c) {
    auto& rows = by_customer[c];
    // Input order is free; the model needs time order (stable: equal days keep file order).
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Transaction* a, const Transaction* b) { return a->day < b->day; });
    std::optional<int32_t> first;
    int32_t last_purchase = 0;
    int x = 0;
    double repeat_value = 0;
    std::optional<int32_t> current_day;  // the purchase day being accumulated
    for (const Transaction* t : rows) {
      if (t->day > out.calibration_end) break;
      if (t->amount < 0) {
        if (first && t->day > *first) repeat_value += t->amount;
        continue;
      }
      if (!first) {
        first = t->day;
        current_day = t->day;
        last_purchase = t->day;
        continue;
      }
      if (t->day != *current_day) {
        current_day = t->day;
        last_purchase = t->day;
        ++x;
      }
      if (t->day > *first) repeat_value += t->amount;
    }
    if (!first) {
      // Every purchase after the calibration end (or only returns): not in the calibration
      // cohort. Only customers with some purchase count as "after end".
      bool any_purchase = false;
      for (const Transaction* t : rows) any_purchase |= t->amount >= 0;
      if (any_purchase) ++out.customers_after_end;
      continue;
    }
    CustomerSummary s;
    s.id = ids[c];
    s.x = x;
    s.t_x = (last_purchase - *first) / 7.0;
    s.T = (out.calibration_end - *first) / 7.0;
    s.repeat_spend_count = x;
    s.mean_spend = x > 0 ? repeat_value / x : 0.0;
    if (x > 0) ++out.repeaters;
    out.customers.push_back(std::move(s));
  }
  if (out.customers.empty()) {
    return InvalidArgument(log.source + ": no customer has a purchase on or before the " +
                           "calibration end " + FormatDate(out.calibration_end));
  }
  return out;
}

// ---- 2F1 -----------------------------------------------------------------------------------

Result<double> Hypergeometric2F1(double a, double b, double c, double z, int64_t max_terms) {
  if (!(std::abs(z) < 1)) {
    return Status(ErrorCode::kOutOfRange, "2F1: |z| must be < 1, got " + std::to_string(z));
  }
  // Long double partial sums: near z = 1 many terms of similar size are added.
  long double term = 1, sum = 1;
  for (int64_t n = 0; n < max_terms; ++n) {
    const double cn = c + static_cast<double>(n);
    if (cn == 0) return Status(ErrorCode::kOutOfRange, "2F1: c is a non-positive integer");
    term *= static_cast<long double>((a + n) * (b + n) / (cn * (n + 1.0))) * z;
    sum += term;
    // Stop once terms are negligible and shrinking (they can grow at first when a·b > c).
    if (std::abs(term) <= 1e-17L * std::abs(sum) && n > 2 &&
        std::abs((a + n + 1) * (b + n + 1) / ((c + n + 1) * (n + 2.0)) * z) < 1) {
      return static_cast<double>(sum);
    }
    if (term == 0) return static_cast<double>(sum);
  }
  return Status(ErrorCode::kOutOfRange, "2F1: series did not converge in " +
                                            std::to_string(max_terms) +
                                            " terms (z=" + std::to_string(z) + ")");
}

// ---- Likelihoods and fits ------------------------------------------------------------------

double BgNbdLogLikelihood(const BgNbdParams& p, const std::vector<CustomerSummary>& customers) {
  const auto groups = GroupHistories(customers);
  return BgNbdGroupedLL(p, groups, MaxX(groups));
}

double ParetoNbdLogLikelihood(const ParetoNbdParams& p,
                              const std::vector<CustomerSummary>& customers) {
  const auto groups = GroupHistories(customers);
  return ParetoGroupedLL(p, groups, MaxX(groups), IndexParetoPoints(groups));
}

double GammaGammaLogLikelihood(const GammaGammaParams& p,
                               const std::vector<CustomerSummary>& customers) {
  int64_t left_out;
  return GammaGammaRowsLL(p, SpendRows(customers, &left_out));
}

namespace {
Status CheckIdentifiable(const std::vector<CustomerSummary>& customers, const char* model) {
  if (customers.empty()) {
    return Status(ErrorCode::kFailedPrecondition, std::string(model) + ": no customers");
  }
  for (const auto& c : customers) {
    if (c.x > 0) return Status::Ok();
  }
  return Status(ErrorCode::kFailedPrecondition,
                std::string(model) +
                    ": no customer has a repeat transaction in the calibration "
                    "period; the model cannot be fitted");
}
}  // namespace

Result<BgNbdFit> FitBgNbd(const std::vector<CustomerSummary>& customers) {
  KAIROS_RETURN_IF_ERROR(CheckIdentifiable(customers, "BG/NBD"));
  const auto groups = GroupHistories(customers);
  const int max_x = MaxX(groups);
  auto f = [&](const std::vector<double>& v) {
    return -BgNbdGroupedLL({std::exp(v[0]), std::exp(v[1]), std::exp(v[2]), std::exp(v[3])}, groups,
                           max_x);
  };
  // Start at r = α = a = b = 1 (log 0): a neutral point, scale-free in weeks.
  const Minimum m = NelderMead(f, {0, 0, 0, 0}, 0.5);
  if (!std::isfinite(m.f)) return Internal("BG/NBD: no finite likelihood found");
  BgNbdFit fit;
  fit.params = {std::exp(m.x[0]), std::exp(m.x[1]), std::exp(m.x[2]), std::exp(m.x[3])};
  fit.log_likelihood = -m.f;
  fit.evaluations = m.evaluations;
  return fit;
}

Result<ParetoNbdFit> FitParetoNbd(const std::vector<CustomerSummary>& customers) {
  KAIROS_RETURN_IF_ERROR(CheckIdentifiable(customers, "Pareto/NBD"));
  const auto groups = GroupHistories(customers);
  const int max_x = MaxX(groups);
  const ParetoPoints points = IndexParetoPoints(groups);
  auto f = [&](const std::vector<double>& v) {
    return -ParetoGroupedLL({std::exp(v[0]), std::exp(v[1]), std::exp(v[2]), std::exp(v[3])},
                            groups, max_x, points);
  };
  // Start with rate and drop-out scales at the mean observation length: α and β are in the
  // data's time unit (weeks), so this is a scale-free start that saves most of the search.
  double mean_T = 0;
  for (const auto& c : customers) mean_T += c.T / static_cast<double>(customers.size());
  const double scale = std::log(std::max(mean_T, 1e-3));
  const Minimum m = NelderMead(f, {std::log(0.5), scale, std::log(0.5), scale}, 0.5);
  if (!std::isfinite(m.f)) return Internal("Pareto/NBD: no finite likelihood found");
  ParetoNbdFit fit;
  fit.params = {std::exp(m.x[0]), std::exp(m.x[1]), std::exp(m.x[2]), std::exp(m.x[3])};
  fit.log_likelihood = -m.f;
  fit.evaluations = m.evaluations;
  return fit;
}

Result<GammaGammaFit> FitGammaGamma(const std::vector<CustomerSummary>& customers) {
  GammaGammaFit fit;
  const auto rows = SpendRows(customers, &fit.left_out);
  fit.used = static_cast<int64_t>(rows.size());
  if (rows.size() < 2) {
    return Status(ErrorCode::kFailedPrecondition,
                  "Gamma-Gamma: needs at least 2 repeaters with a positive mean repeat spend, "
                  "found " +
                      std::to_string(rows.size()) + " (" + std::to_string(fit.left_out) +
                      " left out with spend <= 0)");
  }
  // Start γ at the mean spend's scale so that the search begins near sensible values.
  double mean = 0;
  for (const auto& r : rows) mean += r.z / static_cast<double>(rows.size());
  auto f = [&](const std::vector<double>& v) {
    return -GammaGammaRowsLL({std::exp(v[0]), std::exp(v[1]), std::exp(v[2])}, rows);
  };
  const Minimum m = NelderMead(f, {0, std::log(2.0), std::log(mean)}, 0.5);
  if (!std::isfinite(m.f)) return Internal("Gamma-Gamma: no finite likelihood found");
  fit.params = {std::exp(m.x[0]), std::exp(m.x[1]), std::exp(m.x[2])};
  fit.log_likelihood = -m.f;
  fit.evaluations = m.evaluations;
  return fit;
}

// ---- Predictions ---------------------------------------------------------------------------

double BgNbdProbabilityAlive(const BgNbdParams& p, double x, double t_x, double T) {
  if (x <= 0) return 1.0;
  const double log_ratio = (p.r + x) * (std::log(p.alpha + T) - std::log(p.alpha + t_x));
  return 1.0 / (1.0 + std::exp(std::log(p.a / (p.b + x - 1)) + log_ratio));
}

double ParetoNbdProbabilityAlive(const ParetoNbdParams& p, double x, double t_x, double T) {
  const int xi = static_cast<int>(x);
  const double l1 = -(p.r + xi) * std::log(p.alpha + T) - p.s * std::log(p.beta + T);
  const double l2 = std::log(p.s) + ParetoLogDeathIntegral(p.r, p.alpha, p.s, p.beta, xi, t_x, T);
  return 1.0 / (1.0 + std::exp(l2 - l1));
}

Result<double> BgNbdExpectedTransactions(const BgNbdParams& p, double t) {
  if (!(t >= 0)) return InvalidArgument("t must be >= 0");
  if (std::abs(p.a - 1) < 1e-9) return InvalidArgument("BG/NBD: a = 1 is a removable singularity");
  auto h = Hypergeometric2F1(p.r, p.b, p.a + p.b - 1, t / (p.alpha + t));
  if (!h.ok()) return h.status();
  return (p.a + p.b - 1) / (p.a - 1) * (1 - std::pow(p.alpha / (p.alpha + t), p.r) * *h);
}

Result<double> BgNbdConditionalExpectedTransactions(const BgNbdParams& p, double x, double t_x,
                                                    double T, double t) {
  if (!(t >= 0)) return InvalidArgument("t must be >= 0");
  if (std::abs(p.a - 1) < 1e-9) return InvalidArgument("BG/NBD: a = 1 is a removable singularity");
  auto h = Hypergeometric2F1(p.r + x, p.b + x, p.a + p.b + x - 1, t / (p.alpha + T + t));
  if (!h.ok()) return h.status();
  const double num = (p.a + p.b + x - 1) / (p.a - 1) *
                     (1 - std::pow((p.alpha + T) / (p.alpha + T + t), p.r + x) * *h);
  const double den =
      1 + (x > 0 ? p.a / (p.b + x - 1) * std::pow((p.alpha + T) / (p.alpha + t_x), p.r + x) : 0);
  return num / den;
}

namespace {
// (1 − (β/(β+t))^{s−1}) / (s − 1), continuous at s = 1 (where it is ln((β+t)/β)).
double ParetoTail(double s, double beta, double t) {
  const double l = std::log(beta / (beta + t));
  if (std::abs(s - 1) < 1e-10) return -l;
  return -std::expm1((s - 1) * l) / (s - 1);
}
}  // namespace

Result<double> ParetoNbdExpectedTransactions(const ParetoNbdParams& p, double t) {
  if (!(t >= 0)) return InvalidArgument("t must be >= 0");
  return p.r * p.beta / p.alpha * ParetoTail(p.s, p.beta, t);
}

Result<double> ParetoNbdConditionalExpectedTransactions(const ParetoNbdParams& p, double x,
                                                        double t_x, double T, double t) {
  if (!(t >= 0)) return InvalidArgument("t must be >= 0");
  return (p.r + x) * (p.beta + T) / (p.alpha + T) * ParetoTail(p.s, p.beta + T, t) *
         ParetoNbdProbabilityAlive(p, x, t_x, T);
}

double GammaGammaExpectedSpend(const GammaGammaParams& p, double x, double mean_spend) {
  if (x <= 0) return p.q > 1 ? p.p * p.gamma / (p.q - 1) : kInf;
  return p.p * (p.gamma + x * mean_spend) / (p.p * x + p.q - 1);
}

Result<double> CustomerLifetimeValue(const BgNbdParams& transactions, const GammaGammaParams& spend,
                                     const CustomerSummary& customer, const ClvOptions& options) {
  if (!(options.margin >= 0 && options.margin <= 1)) {
    return InvalidArgument("margin must be in [0, 1]");
  }
  if (!(options.annual_discount_rate >= 0)) {
    return InvalidArgument("annual discount rate must be >= 0");
  }
  if (!(options.horizon_weeks >= 0) || !(options.step_weeks > 0)) {
    return InvalidArgument("horizon must be >= 0 weeks and the step > 0 weeks");
  }
  const double value = GammaGammaExpectedSpend(spend, customer.x, customer.mean_spend);
  if (!std::isfinite(value)) {
    return InvalidArgument("Gamma-Gamma: q <= 1, the expected spend is infinite");
  }
  double clv = 0, previous = 0;
  for (double end = 0; end < options.horizon_weeks - 1e-9;) {
    end = std::min(end + options.step_weeks, options.horizon_weeks);
    auto e = BgNbdConditionalExpectedTransactions(transactions, customer.x, customer.t_x,
                                                  customer.T, end);
    if (!e.ok()) return e.status();
    clv += options.margin * value * (*e - previous) /
           std::pow(1 + options.annual_discount_rate, end / 52.0);
    previous = *e;
  }
  return clv;
}

}  // namespace kairos::analytics
