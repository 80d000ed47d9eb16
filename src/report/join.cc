#include "report/join.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace leadscore::report {

Joined Join(const std::vector<engine::RoutingEvent>& routed, const std::vector<codec::WireOutcome>& outcomes) {
  Joined j;
  j.answers.resize(routed.size());
  std::unordered_map<std::string, size_t> by_id;
  // UP routing events per lead and per account (accounts' own events only), in time
  // order; equal times keep the output order, so the later one is found first below.
  std::unordered_map<std::string, std::vector<size_t>> by_lead, by_account;
  for (size_t i = 0; i < routed.size(); ++i) {
    const auto& ev = routed[i];
    by_id.emplace(ev.routing_id, i);
    if (ev.direction != engine::Direction::kUp) continue;
    if (ev.entity == engine::EntityKind::kLead) {
      by_lead[ev.lead_id].push_back(i);
    } else {
      by_account[ev.account_id].push_back(i);
    }
  }
  for (auto* index : {&by_lead, &by_account}) {
    for (auto& [id, list] : *index) {
      std::stable_sort(list.begin(), list.end(),
                       [&](size_t a, size_t b) { return routed[a].occurred_at_ms < routed[b].occurred_at_ms; });
    }
  }
  for (size_t o = 0; o < outcomes.size(); ++o) {
    const auto& out = outcomes[o];
    if (!out.routing_id.empty()) {
      const auto it = by_id.find(out.routing_id);
      if (it == by_id.end()) {
        j.unmatched.push_back(o);
      } else {
        j.answers[it->second].push_back(o);
        ++j.by_routing_id;
      }
      continue;
    }
    const auto& index = out.lead_id.empty() ? by_account : by_lead;
    const auto it = index.find(out.lead_id.empty() ? out.account_id : out.lead_id);
    if (it == index.end()) {
      j.unmatched.push_back(o);
      continue;
    }
    const auto& list = it->second;
    // The last routing event at or before the outcome.
    const auto after = std::upper_bound(list.begin(), list.end(), out.occurred_at_ms,
                                        [&](int64_t t, size_t i) { return t < routed[i].occurred_at_ms; });
    if (after == list.begin()) {
      j.unmatched.push_back(o);
      continue;
    }
    j.answers[*(after - 1)].push_back(o);
    ++j.by_time;
  }
  for (auto& a : j.answers) {
    std::stable_sort(a.begin(), a.end(),
                     [&](size_t x, size_t y) { return outcomes[x].occurred_at_ms < outcomes[y].occurred_at_ms; });
  }
  return j;
}

}  // namespace leadscore::report
