// Whole profiles (model/profile.h): written with their fixed fields by number and every
// length a varint; read as they are written now and as state format 5 wrote them, to
// the same slots.
#include "model/profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "model/model.h"

namespace leadscore::model {
namespace {

// A small model reading texts and numbers of both profiles, and one lead and one
// account attribute.
std::shared_ptr<const Model> ModelWithAttributes() {
  std::string text = R"(version: whole-profile-test
fit:
  rules:
    - { name: target_industry, when: { account.industry: { in: [software, fintech] } }, points: 25 }
    - { name: mid_market, when: { account.employee_count: { between: [200, 5000] } }, points: 25 }
    - { name: big_spender, when: { account.annual_revenue: { gte: 1000000 } }, points: 10 }
    - { name: senior_buyer, when: { lead.seniority: { in: [vp, c_level, director] } }, points: 20 }
    - { name: paying, when: { lead.attributes.plan: { eq: enterprise } }, points: 10 }
    - { name: partner, when: { account.attributes.channel: { eq: partner } }, points: 5 }
  grades: { A: 80, B: 60, C: 40, D: 20 }
intent:
  signals:
    pricing_page_view: { points: 15, half_life: 7d, cap: 45 }
lead:
  score: { fit_weight: 0.5, intent_weight: 0.5 }
  tiers:
    - { name: high, min_score: 60 }
    - { name: low, min_score: 0 }
account:
  score: { fit_weight: 0.5, intent_weight: 0.3, committee_weight: 0.2 }
  committee:
    roles: { economic_buyer: 3, champion: 2 }
    role_min_intent: 20
    contact_window: 30d
  tiers:
    - { name: A, min_score: 60 }
    - { name: C, min_score: 0 }
)";
  auto r = LoadModelFromString(text);
  EXPECT_TRUE(r.ok()) << r.ErrorText();
  return r.model;
}

// State format 5's layout, written here as it was: u8 kind, u16 name length, name,
// then u32 length and text, or f64.
class Format5Writer {
 public:
  void Text(std::string_view name, std::string_view text) { Head(0, name), Length32(text.size()), out_ += text; }
  void Number(std::string_view name, double n) {
    Head(1, name);
    out_.append(reinterpret_cast<const char*>(&n), sizeof n);
  }
  void Attribute(std::string_view key, std::string_view text) { Head(2, key), Length32(text.size()), out_ += text; }
  std::string Take() { return std::move(out_); }

 private:
  void Head(uint8_t kind, std::string_view name) {
    out_.push_back(static_cast<char>(kind));
    const auto n = static_cast<uint16_t>(name.size());
    out_.append(reinterpret_cast<const char*>(&n), sizeof n);
    out_ += name;
  }
  void Length32(size_t n) {
    const auto v = static_cast<uint32_t>(n);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  std::string out_;
};

// One profile in both layouts at once.
struct BothLayouts {
  WholeProfileWriter now;
  Format5Writer then;
  void Text(uint16_t field, std::string_view name, std::string_view text) { now.Text(field, text), then.Text(name, text); }
  void Number(uint16_t field, std::string_view name, double n) { now.Number(field, n), then.Number(name, n); }
  void Attribute(std::string_view key, std::string_view text) { now.Attribute(key, text), then.Attribute(key, text); }
};

void ExpectSameSlots(const std::vector<FieldValue>& a, const std::vector<FieldValue>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].present, b[i].present) << "slot " << i;
    EXPECT_EQ(a[i].has_number, b[i].has_number) << "slot " << i;
    EXPECT_EQ(a[i].symbol, b[i].symbol) << "slot " << i;
    EXPECT_EQ(a[i].number, b[i].number) << "slot " << i;
  }
}

size_t PresentSlots(const std::vector<FieldValue>& slots) {
  size_t n = 0;
  for (const auto& s : slots) n += s.present;
  return n;
}

TEST(WholeProfileTest, ALeadWrittenByFieldNumberReadsAsTheNamedLayoutDidWithoutItsNames) {
  const auto m = ModelWithAttributes();
  ASSERT_TRUE(m);
  BothLayouts p;
  p.Text(kLeadRole, "role", "economic_buyer");
  p.Text(kLeadSeniority, "seniority", "vp");
  p.Text(kLeadTitle, "title", "VP Engineering");
  p.Text(kLeadCountry, "country", "NL");
  p.Text(kLeadEmailDomain, "email_domain", "example.com");
  p.Attribute("plan", "enterprise");
  p.Attribute("source", "webinar");  // no model reads it
  const std::string compact = p.now.Take(), named = p.then.Take();
  std::vector<FieldValue> from_compact, from_named;
  ASSERT_TRUE(LeadSlotsOf(*m, compact, &from_compact));
  ASSERT_TRUE(LeadSlotsOf(*m, named, &from_named));
  ExpectSameSlots(from_compact, from_named);
  EXPECT_EQ(PresentSlots(from_compact), 6u) << "five fixed fields and the attribute the model reads";
  // A fixed field no longer carries its name, its name's length (2 B) and a text length
  // of 4 B but a varint of 1; an attribute keeps its key, with both lengths varints.
  const size_t names = std::strlen("role") + std::strlen("seniority") + std::strlen("title") +
                       std::strlen("country") + std::strlen("email_domain");
  EXPECT_EQ(named.size() - compact.size(), names + 5 * (2 + 3) + 2 * (1 + 3));
}

TEST(WholeProfileTest, AnAccountsNumbersAndTextsReadAsTheNamedLayoutDid) {
  const auto m = ModelWithAttributes();
  ASSERT_TRUE(m);
  BothLayouts p;
  p.Text(kAccountName, "name", "Acme");
  p.Text(kAccountIndustry, "industry", "software");
  p.Number(kAccountEmployeeCount, "employee_count", 1200);
  p.Number(kAccountAnnualRevenue, "annual_revenue", 2.5e6);
  p.Text(kAccountCountry, "country", "DE");
  p.Text(kAccountMarket, "market", "DACH");
  p.Attribute("channel", "partner");
  std::vector<FieldValue> from_compact, from_named;
  ASSERT_TRUE(AccountSlotsOf(*m, p.now.Take(), &from_compact));
  ASSERT_TRUE(AccountSlotsOf(*m, p.then.Take(), &from_named));
  ExpectSameSlots(from_compact, from_named);
  EXPECT_EQ(from_compact[kAccountEmployeeCount].number, 1200);
  EXPECT_EQ(from_compact[kAccountAnnualRevenue].number, 2.5e6);
  EXPECT_EQ(PresentSlots(from_compact), 7u);
}

// A later wire format's field (a number this build has no slot for) is passed over; the
// fields around it are read. Bytes that end inside a field are refused whole.
TEST(WholeProfileTest, AFieldNumberThisBuildDoesNotKnowIsSkippedAndTruncatedBytesAreRefused) {
  const auto m = ModelWithAttributes();
  ASSERT_TRUE(m);
  WholeProfileWriter before, after;
  before.Text(kLeadSeniority, "vp");
  before.Text(15, "a field of a later schema");
  after.Number(14, 42);
  after.Attribute("plan", "enterprise");
  const std::string bytes = before.Take() + after.Take();
  std::vector<FieldValue> slots;
  ASSERT_TRUE(LeadSlotsOf(*m, bytes, &slots));
  EXPECT_TRUE(slots[kLeadSeniority].present);
  EXPECT_EQ(PresentSlots(slots), 2u) << "seniority and the plan attribute";

  // Cut anywhere: read only where a field ends (seniority 1 + 1 + 2 B, the later field
  // 1 + 1 + 25, the number 1 + 8, then the attribute), refused with no slot read elsewhere.
  const std::vector<size_t> field_ends = {4, 31, 40, bytes.size()};
  ASSERT_EQ(bytes.size(), 40u + 1 + 1 + 4 + 1 + 10);
  for (size_t cut = 1; cut <= bytes.size(); ++cut) {
    std::vector<FieldValue> partial;
    const bool read = LeadSlotsOf(*m, bytes.substr(0, cut), &partial);
    const bool at_an_end = std::find(field_ends.begin(), field_ends.end(), cut) != field_ends.end();
    EXPECT_EQ(read, at_an_end) << "cut at " << cut;
    if (!read) EXPECT_EQ(PresentSlots(partial), 0u) << "refused at " << cut << ": no slot read";
  }
}

// A kind byte neither layout has (4-0x0f, 0x30 on) is refused; an account's field
// numbers past its six fixed fields are passed over like a lead's.
TEST(WholeProfileTest, AnUnknownKindIsRefusedAndAnAccountsLaterFieldsArePassedOver) {
  const auto m = ModelWithAttributes();
  ASSERT_TRUE(m);
  WholeProfileWriter w;
  w.Text(kAccountIndustry, "software");
  const std::string industry = w.Take();
  for (const char kind : {'\x04', '\x0f', '\x30', '\xff'}) {
    std::vector<FieldValue> slots;
    EXPECT_FALSE(AccountSlotsOf(*m, industry + std::string(1, kind) + "\x02xy", &slots)) << int(kind);
    EXPECT_EQ(PresentSlots(slots), 0u);
  }
  WholeProfileWriter later;
  later.Text(9, "a field of a later schema");
  later.Number(kAccountEmployeeCount, 300);
  std::vector<FieldValue> slots;
  ASSERT_TRUE(AccountSlotsOf(*m, industry + later.Take(), &slots));
  EXPECT_EQ(PresentSlots(slots), 2u) << "industry and employee_count";
  EXPECT_EQ(slots[kAccountEmployeeCount].number, 300);
}

}  // namespace
}  // namespace leadscore::model
