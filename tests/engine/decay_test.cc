#include "engine/decay.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace leadscore::engine {
namespace {

struct Term {
  double value, half_life;
};

double SumAt(const std::vector<Term>& terms, double dt) {
  double s = 0;
  for (const auto& t : terms) s += t.value * std::exp2(-dt / t.half_life);
  return s;
}

TEST(DecayTest, HalfLifeHalvesExactly) {
  EXPECT_DOUBLE_EQ(DecayFactor(7 * 86400000LL, 7 * 86400000.0), 0.5);
  EXPECT_DOUBLE_EQ(DecayFactor(14 * 86400000LL, 7 * 86400000.0), 0.25);
  EXPECT_EQ(DecayFactor(0, 1000), 1.0);
  EXPECT_EQ(DecayFactor(-5, 1000), 1.0) << "never grows backwards";
}

TEST(DecayTest, SingleTermCrossingIsExact) {
  DecayEnvelope e;
  e.Add(40, 1000);
  // 40 * 2^(-dt/1000) < 30  <=>  dt > 1000 * log2(4/3)
  const double exact = 1000 * std::log2(40.0 / 30.0);
  EXPECT_LE(EarliestBelow(e, 30), exact + 1e-9);
  EXPECT_NEAR(EarliestBelow(e, 30), exact, 0.25) << "Newton stops within a quarter millisecond";
  EXPECT_EQ(EarliestBelow(e, 50), 0) << "already below";
  EXPECT_EQ(EarliestBelow(e, 0), kInf) << "a positive sum never falls below zero";
}

TEST(DecayTest, RisingNegativeCrossingIsExact) {
  DecayEnvelope e;
  e.Add(-50, 1000);
  // -50 * 2^(-dt/1000) >= -25  <=>  dt >= 1000
  EXPECT_LE(EarliestAtLeast(e, -25), 1000 + 1e-9);
  EXPECT_NEAR(EarliestAtLeast(e, -25), 1000, 0.25);
  EXPECT_EQ(EarliestAtLeast(e, 0), kInf) << "approaches zero, never reaches it";
}

// The bound must never be later than the real crossing, whatever the mix of terms.
TEST(DecayTest, BoundsAreNeverLaterThanTheRealCrossing) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> value(-60, 60), half_life(100, 5000), theta(-20, 80);
  for (int round = 0; round < 300; ++round) {
    std::vector<Term> terms;
    DecayEnvelope env;
    for (int i = 0; i < 4; ++i) {
      terms.push_back({value(rng), half_life(rng)});
      env.Add(terms.back().value, terms.back().half_life);
    }
    const double th = theta(rng);
    const double below = EarliestBelow(env, th), at_least = EarliestAtLeast(env, th);
    for (double dt = 0; dt < 50000; dt += 7) {
      const double v = SumAt(terms, dt);
      if (v < th) {
        ASSERT_LE(below, dt + 1e-6) << "round " << round;
        break;
      }
    }
    for (double dt = 0; dt < 50000; dt += 7) {
      if (SumAt(terms, dt) >= th) {
        ASSERT_LE(at_least, dt + 1e-6) << "round " << round;
        break;
      }
    }
  }
}

// With caps: a term stays at its cap while its uncapped sum is above it. The bound
// uses that, and must still never be later than the real crossing.
TEST(DecayTest, CappedBoundsAreNeverLaterThanTheRealCrossing) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> value(-40, 120), cap(5, 40), half_life(100, 5000), theta(-20, 80);
  int pinned_rounds = 0;
  for (int round = 0; round < 500; ++round) {
    struct Capped {
      double value, cap, half_life;
    };
    std::vector<Capped> terms;
    DecayEnvelope env;
    for (int i = 0; i < 4; ++i) {
      terms.push_back({value(rng), i % 2 ? cap(rng) : kInf, half_life(rng)});
      env.AddCapped(terms.back().value, terms.back().cap, terms.back().half_life);
    }
    pinned_rounds += env.any_pinned;
    const double th = theta(rng);
    const double below = EarliestBelow(env, th);
    for (double dt = 0; dt < 50000; dt += 3) {
      double v = 0;
      for (const auto& t : terms) v += std::min(t.cap, t.value * std::exp2(-dt / t.half_life));
      if (v < th) {
        ASSERT_LE(below, dt + 1e-6) << "round " << round;
        break;
      }
    }
  }
  EXPECT_GT(pinned_rounds, 100);
}

// The regression behind it: a sum exactly on the threshold, held there by a capped term,
// cannot fall until the uncapped sum reaches the cap (it was "now", every millisecond).
TEST(DecayTest, ASumHeldOnTheThresholdByACapFallsWhenTheCapCanMove) {
  DecayEnvelope e;
  const double day = 86400000.0;
  e.AddCapped(50, 25, 30 * day);  // at 25 for 30 days
  EXPECT_EQ(e.value(), 25);
  EXPECT_NEAR(EarliestBelow(e, 25), 30 * day, 2);
  EXPECT_LE(EarliestBelow(e, 25), 30 * day);
  e.Add(1e-12, 3600000);  // and a trace of a fast signal on top
  EXPECT_GT(EarliestBelow(e, 25), 3600000.0);
  EXPECT_LE(EarliestBelow(e, 25), 30 * day);
}

// Regression: a Newton step that lands on the root and rounds past it is the crossing,
// not "never" (that once lost a demotion).
TEST(DecayTest, AThresholdAHairBelowTheValueIsCrossedSoon) {
  DecayEnvelope e;
  const double day = 86400000.0;
  e.Add(26.0, 7 * day);
  e.Add(28.1, 21 * day);
  e.Add(19.2, 30 * day);
  for (double gap : {1e-12, 1e-10, 3e-8, 1e-6}) {
    const double dt = EarliestBelow(e, e.value() - gap);
    EXPECT_LT(dt, 100) << gap;
  }
}

TEST(DecayTest, ClampedThresholdsOutsideTheRange) {
  DecayEnvelope e;
  e.Add(150, 1000);
  EXPECT_EQ(EarliestClampedBelow(e, 0), kInf) << "clamped intent is never below 0";
  EXPECT_EQ(EarliestClampedBelow(e, 101), 0) << "clamped intent is always below 101";
  EXPECT_EQ(EarliestClampedAtLeast(e, 101), kInf);
  EXPECT_NEAR(EarliestClampedBelow(e, 75), 1000, 0.25);
}

// The first Newton step is never more than what solving returns, in floating point,
// not only in real numbers: an account's check skips solving a role on it, and a bound
// a hair too late would move the check. Random envelopes, with and without capped
// terms, and a review's case where a differently ordered sum of the same terms was
// 9.7 s too late (a tiny negative term against a sum just above the threshold).
TEST(DecayTest, TheFirstNewtonStepIsNeverLaterThanTheSolvedCrossing) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> value(-60, 60), half_life(100, 1e9), theta(-20, 80);
  std::uniform_int_distribution<int> terms(1, 6);
  for (int round = 0; round < 20000; ++round) {
    DecayEnvelope env;
    for (int i = 0, n = terms(rng); i < n; ++i) {
      if (round % 2) env.AddCapped(value(rng), 30, half_life(rng));
      else env.Add(value(rng), half_life(rng));
    }
    const double th = theta(rng);
    ASSERT_LE(EarliestBelowFirstStep(env, th), EarliestBelow(env, th)) << "round " << round;
    ASSERT_LE(EarliestAtLeastFirstStep(env, th), EarliestAtLeast(env, th)) << "round " << round;
  }
  DecayEnvelope review;
  review.Add(0x1.4000000009935p+4, 7 * 86400000.0);
  review.Add(-0x1.32f3021078bc0p-33, 7 * 86400000.0);
  EXPECT_LE(EarliestAtLeastFirstStep(review, 20), EarliestAtLeast(review, 20));
  EXPECT_LE(EarliestBelowFirstStep(review, 20), EarliestBelow(review, 20));
}

}  // namespace
}  // namespace leadscore::engine
