// Decay arithmetic (SPEC.md section 3): a signal sum R(t) = sum p*m*2^(-(t-t_e)/h).
// Sums are stored as their value at the entity clock and multiplied forward, so a
// late event is added already decayed to the clock and arrival order does not matter.
//
// The envelope functions give a LOWER BOUND on how soon a decaying sum can cross a
// threshold. The engine re-checks the entity at that time and asks again, so crossings
// are found at their exact millisecond without polling every entity.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

namespace leadscore::engine {

constexpr double kInf = std::numeric_limits<double>::infinity();

inline double DecayFactor(int64_t dt_ms, double half_life_ms) {
  return dt_ms <= 0 ? 1.0 : std::exp2(-static_cast<double>(dt_ms) / half_life_ms);
}

inline double Clamp100(double v) { return std::clamp(v, 0.0, 100.0); }

// A sum of decaying terms, split by sign. The positive terms (each already capped)
// can only fall and the negative ones only rise towards zero, so:
//   lower(dt) = sum pos_i * 2^(-(dt - s_i)+/h_i) + neg   (negatives held where they are)
//   upper(dt) = pos + sum neg_i * 2^(-dt/h_i)            (positives held where they are)
// bound the real sum from below and above. A capped term whose uncapped sum is above
// its cap stays at the cap until that sum falls to it, s_i from now (0 for the others).
// Between those moments lower is convex and decreasing, upper is concave and
// increasing throughout; Newton's method started at the beginning of a stretch never
// steps past its root, so it gives a safe lower bound on the crossing time that is
// exact when no cap binds, in a few steps.
struct DecayEnvelope {
  static constexpr int kMaxTerms = 64 + 8;  // the model's signals, and its feedback signals
  double pos = 0, neg = 0;
  int n_pos = 0, n_neg = 0;
  bool any_pinned = false;
  double pos_value[kMaxTerms], pos_rate[kMaxTerms];  // rate = ln2 / half-life
  double pos_pinned[kMaxTerms];                      // s_i: ms the term stays at its value
  double neg_value[kMaxTerms], neg_rate[kMaxTerms];

  void Add(double value, double half_life_ms) { AddCapped(value, kInf, half_life_ms); }
  // A term of `uncapped` points at most `cap`: while the uncapped sum is above the cap
  // the term does not move, so decay cannot lower it before then.
  void AddCapped(double uncapped, double cap, double half_life_ms) {
    const double rate = std::numbers::ln2 / half_life_ms;
    const double value = std::min(cap, uncapped);
    if (value > 0 && n_pos < kMaxTerms) {
      // Held at the cap for log2(uncapped / cap) half-lives; a millisecond less, so
      // that rounding never puts it past the real moment.
      double pinned = uncapped > cap ? std::max(0.0, std::log2(uncapped / cap) * half_life_ms - 1) : 0;
      if (!(pinned < 1e15)) pinned = 1e15;
      any_pinned |= pinned > 0;
      pos += value;
      pos_value[n_pos] = value;
      pos_pinned[n_pos] = pinned;
      pos_rate[n_pos++] = rate;
    } else if (value < 0 && n_neg < kMaxTerms) {
      neg += value;
      neg_value[n_neg] = value;
      neg_rate[n_neg++] = rate;
    }
  }
  double value() const { return pos + neg; }
};

// First dt >= 0 at which sum value_i * e^(-rate_i * dt) + constant reaches zero, for
// terms of one sign, approached from dt = 0 by Newton steps (never past the root).
// A caller that only asks whether `offset + dt < before` (a stretch of EarliestBelow)
// gets the first step that answers no: the later steps only move on, so they would
// answer no as well, and taking them cost exps for nothing.
inline double NewtonFirstRoot(const double* value, const double* rate, int n, double constant, double offset = 0,
                              double before = kInf) {
  double dt = 0;
  bool start_positive = true;
  for (int iteration = 0; iteration < 12; ++iteration) {
    double f = constant, df = 0;
    for (int i = 0; i < n; ++i) {
      const double term = value[i] * std::exp(-rate[i] * dt);
      f += term;
      df -= rate[i] * term;
    }
    if (iteration == 0) start_positive = f > 0;
    // On the root, or a rounding step past it: this is the crossing.
    if (f == 0 || (f > 0) != start_positive) return dt;
    if (df == 0 || (f > 0) == (df > 0)) return kInf;  // moving away from zero: never
    const double step = -f / df;
    dt += step;
    if (step < 0.25 || dt > 1e15) break;  // a quarter of a millisecond: close enough
    if (!(offset + dt < before)) break;
  }
  return dt;
}

// No sooner than the returned dt (ms) can the sum fall below theta; kInf: never.
inline double EarliestBelow(const DecayEnvelope& e, double theta) {
  if (e.value() < theta) return 0;
  if (e.pos <= 0 || theta - e.neg <= 0) return kInf;
  if (!e.any_pinned) return NewtonFirstRoot(e.pos_value, e.pos_rate, e.n_pos, e.neg - theta);
  // Stretch by stretch between the moments capped terms start to fall: in each, the
  // terms still at their cap are a constant and the others decay from where they are.
  double from = 0;
  while (from < kInf) {
    double value[DecayEnvelope::kMaxTerms], rate[DecayEnvelope::kMaxTerms];
    int n = 0;
    double constant = e.neg - theta, until = kInf;
    for (int i = 0; i < e.n_pos; ++i) {
      if (e.pos_pinned[i] > from) {
        constant += e.pos_value[i];
        until = std::min(until, e.pos_pinned[i]);
      } else {
        value[n] = e.pos_value[i] * std::exp(-e.pos_rate[i] * (from - e.pos_pinned[i]));
        rate[n++] = e.pos_rate[i];
      }
    }
    // Nothing decays in this stretch: the sum stays where it is until `until`.
    const double dt = n == 0 ? kInf : NewtonFirstRoot(value, rate, n, constant, from, until);
    if (from + dt < until) return from + dt;
    from = until;
  }
  return kInf;
}

// No sooner than the returned dt (ms) can the sum reach theta or more; kInf: never.
inline double EarliestAtLeast(const DecayEnvelope& e, double theta) {
  if (e.value() >= theta) return 0;
  if (e.neg >= 0 || theta >= e.pos) return kInf;  // only rising negatives help, up to pos
  return NewtonFirstRoot(e.neg_value, e.neg_rate, e.n_neg, e.pos - theta);
}

// Newton's first step from dt = 0, taken exactly as NewtonFirstRoot takes it (e^0 is 1:
// the same sums in the same order): no exp, and a lower bound on what NewtonFirstRoot
// returns, since its later steps only move on. 0 and kInf where it answers 0 and kInf
// at once; 0 also when the step is not a number.
inline double NewtonFirstStep(const double* value, const double* rate, int n, double constant) {
  double f = constant, df = 0;
  for (int i = 0; i < n; ++i) {
    f += value[i];
    df -= rate[i] * value[i];
  }
  if (f == 0) return 0;
  if (df == 0 || (f > 0) == (df > 0)) return kInf;
  const double step = -f / df;
  return step == step ? step : 0;
}

// Lower bounds on EarliestBelow / EarliestAtLeast, exact in floating point (what they
// return is never less), for skipping a solve that cannot come first. An envelope with
// capped terms gets 0: no bound.
inline double EarliestBelowFirstStep(const DecayEnvelope& e, double theta) {
  if (e.value() < theta) return 0;
  if (e.pos <= 0 || theta - e.neg <= 0) return kInf;
  if (e.any_pinned) return 0;
  return NewtonFirstStep(e.pos_value, e.pos_rate, e.n_pos, e.neg - theta);
}
inline double EarliestAtLeastFirstStep(const DecayEnvelope& e, double theta) {
  if (e.value() >= theta) return 0;
  if (e.neg >= 0 || theta >= e.pos) return kInf;
  return NewtonFirstStep(e.neg_value, e.neg_rate, e.n_neg, e.pos - theta);
}

// The same for a value clamped to 0..100, as intent is.
inline double EarliestClampedBelow(const DecayEnvelope& e, double theta) {
  if (theta <= 0) return kInf;
  if (theta > 100) return 0;
  return EarliestBelow(e, theta);
}
inline double EarliestClampedAtLeast(const DecayEnvelope& e, double theta) {
  if (theta <= 0) return 0;
  if (theta > 100) return kInf;
  return EarliestAtLeast(e, theta);
}

}  // namespace leadscore::engine
