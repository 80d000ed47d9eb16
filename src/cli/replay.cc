#include "cli/replay.h"

#include <iostream>
#include <map>
#include <string>
#include <tuple>

#include "codec/codec.h"

namespace leadscore::cli {

ReplaySummary Replay(std::shared_ptr<const model::Model> model, std::istream& in, std::ostream& out,
                     std::ostream& errors, const ReplayOptions& options) {
  engine::Engine eng(model, options.engine);
  codec::Decoder decoder(*model, eng.lead_ids(), eng.account_ids());
  ReplaySummary summary;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> routed;  // entity, direction, tier
  std::vector<engine::RoutingEvent> events;
  auto flush = [&] {
    for (const auto& ev : events) {
      out << codec::ToJson(ev) << '\n';
      ++routed[{ev.entity == engine::EntityKind::kLead ? "lead" : "account",
                ev.direction == engine::Direction::kUp ? "up" : "down", ev.to_tier}];
    }
    summary.routed += events.size();
    events.clear();
  };
  std::string line;
  while (std::getline(in, line)) {
    ++summary.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto input = decoder.Decode(line, codec::Format::kJson);
    if (!input.ok()) {
      ++summary.bad_lines;
      errors << "line " << summary.lines << ": " << input.status().message() << '\n';
      continue;
    }
    eng.Apply(*input, &events);
    flush();
  }
  if (options.until_ms) {
    eng.Advance(*options.until_ms, &events);
    flush();
  }
  summary.stats = eng.stats();
  const auto& s = summary.stats;
  errors << "replay: " << summary.lines << " lines, " << summary.bad_lines << " bad, " << s.events_scored
         << " events scored, skipped " << s.skipped_unknown_signal << " unknown signal / " << s.skipped_duplicate
         << " duplicate / " << s.skipped_too_late << " too late, " << s.profiles_applied << " profiles, "
         << s.outcomes << " outcomes, " << s.forgets << " forgets; stream time " << eng.stream_time() << "\n";
  errors << "routed " << summary.routed << " (model " << model->version << ")";
  for (const auto& [k, n] : routed) {
    errors << (k == routed.begin()->first ? ": " : ", ") << std::get<0>(k) << " " << std::get<1>(k) << " to "
           << std::get<2>(k) << " " << n;
  }
  errors << "\n";
  return summary;
}

}  // namespace leadscore::cli
