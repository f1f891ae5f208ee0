// Random numbers with a specified bit stream: a small generator and samplers of our own (the
// synthetic world, bootstrap resampling, exploration).
//
// Why not <random>: std::default_random_engine and every std:: distribution are
// implementation-defined, so the same seed would give different worlds with another standard
// library. Everything here is specified bit for bit (xoshiro256** seeded by splitmix64, as
// published by Blackman and Vigna); the samplers use only +, *, /, sqrt (exact in IEEE 754) and
// log/exp from the C library. Same seed, same platform libm → same bytes.
//
// Pure value types: the caller owns the state and passes it explicitly; nothing is global.
#pragma once

#include <cmath>
#include <cstdint>

namespace kairos {

// splitmix64: a one-word generator, used to expand seeds and to hash (seed, index, stream).
inline uint64_t SplitMix64Next(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A well-mixed 64-bit key for (seed, index, stream): different streams of one subscriber, and
// the same stream of neighbouring subscribers, must not be correlated.
inline uint64_t MixKey(uint64_t seed, uint64_t index, uint64_t stream) {
  uint64_t s = seed;
  uint64_t h = SplitMix64Next(s);
  s = h ^ (index * 0xd1b54a32d192ed03ULL);
  h = SplitMix64Next(s);
  s = h ^ (stream * 0x8cb92ba72f3d8dd7ULL);
  return SplitMix64Next(s);
}

// xoshiro256**: 32 bytes of state, fast, passes BigCrush; enough for one subscriber's life.
class Rng {
 public:
  Rng() : Rng(0) {}
  explicit Rng(uint64_t seed) {
    uint64_t sm = seed;
    for (uint64_t& w : s_) w = SplitMix64Next(sm);
  }
  Rng(uint64_t seed, uint64_t index, uint64_t stream) : Rng(MixKey(seed, index, stream)) {}

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n) for n > 0 (Lemire's multiply-shift; the tiny bias for huge n does
  // not matter here and keeps it branch-free and reproducible).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform integer in [lo, hi] (inclusive).
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool Bernoulli(double p) { return Uniform() < p; }

  // Two independent standard normals from one draw of Marsaglia's polar method. Callers that
  // need many normals keep the second (the state stays a plain 32-byte value).
  void NormalPair(double* first, double* second) {
    double u, v, s;
    do {
      u = 2.0 * Uniform() - 1.0;
      v = 2.0 * Uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    *first = u * f;
    *second = v * f;
  }
  // Standard normal: the first of a pair (the second is dropped).
  double Normal() {
    double first, second;
    NormalPair(&first, &second);
    return first;
  }
  double Normal(double mean, double sd) { return mean + sd * Normal(); }
  // exp(N(mu, sigma^2)).
  double LogNormal(double mu, double sigma) { return std::exp(mu + sigma * Normal()); }
  // A log-normal multiplier with mean 1 (noise that scales a rate without biasing it).
  double UnitLogNormal(double sigma) { return std::exp(sigma * Normal() - 0.5 * sigma * sigma); }
  // Exponential with the given mean.
  double Exponential(double mean) { return -mean * std::log(1.0 - Uniform()); }

  // Poisson: Knuth's product method for small means (exact), rounded normal for large ones
  // (our large means are usage counts where the approximation is invisible).
  int64_t Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean < 30.0) {
      const double limit = std::exp(-mean);
      int64_t k = 0;
      double p = Uniform();
      while (p > limit) {
        ++k;
        p *= Uniform();
      }
      return k;
    }
    const double x = std::floor(mean + std::sqrt(mean) * Normal() + 0.5);
    return x < 0 ? 0 : static_cast<int64_t>(x);
  }

  // Beta(a, b) for a, b >= 1 via two gammas (Marsaglia-Tsang), used for latent traits in [0,1].
  double Beta(double a, double b) {
    const double x = Gamma(a);
    const double y = Gamma(b);
    return x / (x + y);
  }
  // Gamma(shape, 1) for shape >= 1 (Marsaglia and Tsang 2000).
  double Gamma(double shape) {
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = Normal();
        v = 1.0 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const double u = Uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace kairos
