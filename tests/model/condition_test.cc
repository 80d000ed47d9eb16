#include "model/condition.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace leadscore::model {
namespace {

FieldValue Text(int32_t symbol) { return {true, false, symbol, 0}; }
FieldValue Number(double n) { return {true, true, kOtherSymbol, n}; }

Condition On(Op op) {
  Condition c;
  c.source = Source::kAccount;
  c.slot = 0;
  c.op = op;
  return c;
}

TEST(ConditionTest, UnknownValueIsFalseForEveryOperatorNotInIncluded) {
  FieldValue absent[1] = {};
  FieldContext ctx{nullptr, absent, nullptr};
  FieldContext no_profile{nullptr, nullptr, nullptr};
  for (Op op : {Op::kEq, Op::kIn, Op::kNotIn, Op::kGte, Op::kLte, Op::kBetween}) {
    Condition c = On(op);
    c.symbols = {1};
    EXPECT_FALSE(c.Matches(ctx));
    EXPECT_FALSE(c.Matches(no_profile));
  }
}

TEST(ConditionTest, ExistsTestsPresence) {
  FieldValue present[1] = {Text(3)};
  FieldValue absent[1] = {};
  Condition c = On(Op::kExists);
  EXPECT_TRUE(c.Matches({nullptr, present, nullptr}));
  EXPECT_FALSE(c.Matches({nullptr, absent, nullptr}));
  c.exists_expected = false;
  EXPECT_TRUE(c.Matches({nullptr, absent, nullptr}));
  EXPECT_TRUE(c.Matches({nullptr, nullptr, nullptr}));
}

TEST(ConditionTest, TextOperators) {
  Condition in = On(Op::kIn);
  in.symbols = {1, 2};
  Condition not_in = On(Op::kNotIn);
  not_in.symbols = {1, 2};
  FieldValue one[1] = {Text(1)}, other[1] = {Text(kOtherSymbol)};
  EXPECT_TRUE(in.Matches({nullptr, one, nullptr}));
  EXPECT_FALSE(not_in.Matches({nullptr, one, nullptr}));
  EXPECT_FALSE(in.Matches({nullptr, other, nullptr}));
  EXPECT_TRUE(not_in.Matches({nullptr, other, nullptr})) << "a value that is no constant is 'not in'";
}

TEST(ConditionTest, NumericOperatorsAreInclusive) {
  Condition between = On(Op::kBetween);
  between.numeric = true;
  between.lo = 200;
  between.hi = 5000;
  for (double v : {200.0, 5000.0, 1200.0}) {
    FieldValue f[1] = {Number(v)};
    EXPECT_TRUE(between.Matches({nullptr, f, nullptr})) << v;
  }
  FieldValue low[1] = {Number(199.5)};
  EXPECT_FALSE(between.Matches({nullptr, low, nullptr}));
  Condition gte = On(Op::kGte);
  gte.lo = 10;
  FieldValue ten[1] = {Number(10)}, text[1] = {Text(1)};
  EXPECT_TRUE(gte.Matches({nullptr, ten, nullptr}));
  EXPECT_FALSE(gte.Matches({nullptr, text, nullptr})) << "text that is not a number never compares";
}

TEST(ConditionTest, EveryOperatorAnswersAlikeOnValuesAndOnTheirPackedSlots) {
  // An entity keeps its profile's slots packed (field_value.h); an event's attributes
  // are values. Every condition must not tell the two apart, on any source.
  FieldValue number_and_text = Number(250);
  number_and_text.symbol = 2;
  const std::vector<FieldValue> kinds{Text(1),   Text(2),      Text(kOtherSymbol), {},
                                      Number(0), Number(250),  Number(-3.5),       number_and_text,
                                      Text(int32_t{1} << 30)};
  std::mt19937 rng(5);
  for (int round = 0; round < 2000; ++round) {
    std::vector<FieldValue> values(4);
    for (FieldValue& v : values) v = kinds[rng() % kinds.size()];
    std::vector<unsigned char> packed(packed_slots::Bytes(values));
    packed_slots::Write(values, 0, packed.data());
    Condition c;
    c.source = static_cast<Source>(rng() % 2);  // the sources an entity's slots serve
    c.slot = static_cast<uint16_t>(rng() % values.size());
    c.op = static_cast<Op>(rng() % (static_cast<int>(Op::kExists) + 1));
    c.numeric = rng() % 2;
    c.exists_expected = rng() % 2;
    c.symbols = {static_cast<int32_t>(rng() % 3)};
    c.numbers = {rng() % 2 ? 250.0 : 0.0};
    c.lo = -4;
    c.hi = rng() % 2 ? 0 : 300;
    auto on = [&](SlotView v) { return c.source == Source::kLead ? FieldContext{v, {}, {}} : FieldContext{{}, v, {}}; };
    EXPECT_EQ(c.Matches(on(values.data())), c.Matches(on(SlotView::Packed(packed.data(), values.size()))))
        << "round " << round;
  }
}

}  // namespace
}  // namespace leadscore::model
