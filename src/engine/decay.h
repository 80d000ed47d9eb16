// Decay arithmetic (SPEC.md section 3): a signal sum R(t) = sum p*m*2^(-(t-t_e)/h).
// Sums are stored as their value at the entity clock and multiplied forward, so a
// late event is added already decayed to the clock and arrival order does not matter.
//
// The envelope functions give a LOWER BOUND on how soon a decaying sum can cross a
// threshold, in closed form (one log2). The engine re-checks the entity at that time
// and asks again, so crossings are found at their exact millisecond without polling.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace leadscore::engine {

constexpr double kInf = std::numeric_limits<double>::infinity();

inline double DecayFactor(int64_t dt_ms, double half_life_ms) {
  return dt_ms <= 0 ? 1.0 : std::exp2(-static_cast<double>(dt_ms) / half_life_ms);
}

inline double Clamp100(double v) { return std::clamp(v, 0.0, 100.0); }

// A sum of decaying terms seen as: pos = the positive terms (each already capped),
// decaying no faster than 2^(-dt/pos_half_life); neg = the negative terms, rising to
// zero no faster than 2^(-dt/neg_half_life).
struct DecayEnvelope {
  double pos = 0, neg = 0;
  double pos_half_life = kInf, neg_half_life = kInf;

  void Add(double value, double half_life_ms) {
    if (value > 0) {
      pos += value;
      pos_half_life = std::min(pos_half_life, half_life_ms);
    } else if (value < 0) {
      neg += value;
      neg_half_life = std::min(neg_half_life, half_life_ms);
    }
  }
  double value() const { return pos + neg; }
};

// No sooner than the returned dt (ms) can the sum fall below theta; kInf: never.
inline double EarliestBelow(const DecayEnvelope& e, double theta) {
  if (e.value() < theta) return 0;
  const double gap = theta - e.neg;  // pos must decay below this
  if (e.pos <= 0 || gap <= 0) return kInf;
  return e.pos_half_life * std::log2(e.pos / gap);
}

// No sooner than the returned dt (ms) can the sum reach theta or more; kInf: never.
inline double EarliestAtLeast(const DecayEnvelope& e, double theta) {
  if (e.value() >= theta) return 0;
  if (e.neg >= 0 || theta >= e.pos) return kInf;  // only rising negatives help, up to pos
  const double r = (theta - e.pos) / e.neg;       // in (0, 1)
  return e.neg_half_life * std::log2(1.0 / r);
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
