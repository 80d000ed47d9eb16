#include "cli/replay.h"

#include "cli/replay_loop.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "codec/codec.h"
#include "stream/partition_task.h"

namespace leadscore::cli {

namespace {
std::string UtcMinute(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}
}  // namespace

std::string ReadableLine(const engine::RoutingEvent& ev) {
  const bool lead = ev.entity == engine::EntityKind::kLead;
  char nums[128];
  std::snprintf(nums, sizeof nums, "fit %.0f intent %.1f score %.1f grade %s", ev.fit, ev.intent, ev.score,
                ev.grade.c_str());
  std::string line = UtcMinute(ev.occurred_at_ms) + "  " + (lead ? "LEAD    " : "ACCOUNT ") +
                     (lead ? ev.lead_id + " @ " + ev.account_id : ev.account_id) + "  " + ev.from_tier + " -> " +
                     ev.to_tier + (ev.direction == engine::Direction::kUp ? " (up)" : " (down)") + "  " + nums;
  if (!lead) {
    line += " contacts " + std::to_string(ev.engaged_contacts) + " roles [";
    for (size_t i = 0; i < ev.committee_roles.size(); ++i) line += (i ? "," : "") + ev.committee_roles[i];
    line += "]";
  }
  line += "\n      why: " + ev.reason;
  if (!ev.factors.empty()) {
    line += "\n      top: ";
    for (size_t i = 0; i < ev.factors.size(); ++i) {
      char f[96];
      std::snprintf(f, sizeof f, "%s%s %+.1f", i ? ", " : "", ev.factors[i].name.c_str(), ev.factors[i].points);
      line += f;
    }
  }
  if (!ev.action.empty() || ev.sla_due_at_ms) {
    line += "\n      do:  " + (ev.action.empty() ? std::string("-") : ev.action);
    if (ev.sla_due_at_ms) line += ", due " + UtcMinute(ev.sla_due_at_ms) + " UTC";
    if (!ev.feedback.empty()) line += ", feedback " + ev.feedback;
  }
  return line;
}

std::string OneLine(const engine::RoutingEvent& ev) {
  const bool lead = ev.entity == engine::EntityKind::kLead;
  char head[256];
  std::snprintf(head, sizeof head, "%s  %-7s %-20s %-4s %9s -> %-12s fit %3.0f intent %5.1f score %5.1f",
                UtcMinute(ev.occurred_at_ms).c_str(), lead ? "LEAD" : "ACCOUNT",
                (lead ? ev.lead_id : ev.account_id).c_str(), ev.direction == engine::Direction::kUp ? "UP" : "DOWN",
                ev.from_tier.c_str(), ev.to_tier.c_str(), ev.fit, ev.intent, ev.score);
  std::string line = head;
  if (!lead) line += " contacts " + std::to_string(ev.engaged_contacts) + " roles " + std::to_string(ev.committee_roles.size());
  line += "  top:";
  for (size_t i = 0; i < ev.factors.size() && i < 3; ++i) {
    char f[80];
    std::snprintf(f, sizeof f, "%s %s %.0f", i ? "," : "", ev.factors[i].name.c_str(), ev.factors[i].points);
    line += f;
  }
  if (ev.sla_due_at_ms) line += "  SLA due " + UtcMinute(ev.sla_due_at_ms);
  return line;
}

ReplayLoopCounts RunReplayLoop(stream::PartitionTask& task, std::istream& in, std::optional<int64_t> until_ms,
                               std::ostream& errors, const std::function<void(const engine::RoutingEvent&)>& on_event,
                               stream::BatchOutcome* totals, const std::function<void()>& after_chunk,
                               size_t chunk_lines) {
  ReplayLoopCounts counts;
  // Lines go to the task in chunks; a refusal names its line.
  const size_t kChunk = std::max<size_t>(1, chunk_lines);
  std::vector<std::string> lines;
  std::vector<uint64_t> line_numbers;
  stream::BatchOutcome outcome;
  auto flush = [&] {
    for (const auto& ev : outcome.events) on_event(ev);
  };
  auto run = [&] {
    std::vector<stream::InputRecord> records;
    records.reserve(lines.size());
    for (const auto& l : lines) records.push_back({"replay", codec::Format::kJson, -1, std::nullopt, l});
    outcome.Clear();
    Status s = task.Process(records, std::nullopt, &outcome);  // no store: cannot fail
    if (!s.ok()) errors << "replay: " << s.message() << '\n';
    totals->AddCounts(outcome);
    for (const auto& r : outcome.refused) {
      ++counts.bad_lines;
      errors << "line " << line_numbers[r.record] << ": " << r.error << '\n';
    }
    flush();
    lines.clear();
    line_numbers.clear();
    if (after_chunk) after_chunk();
  };
  std::string line;
  while (std::getline(in, line)) {
    ++counts.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    lines.push_back(std::move(line));
    line_numbers.push_back(counts.lines);
    if (lines.size() == kChunk) run();
  }
  if (!lines.empty()) run();
  if (until_ms) {
    outcome.Clear();
    task.AdvanceTo(*until_ms, &outcome);
    totals->AddCounts(outcome);
    flush();
  }
  return counts;
}

stream::TaskOptions ReplayTaskOptions(const engine::EngineOptions& engine) {
  // The service's own partition task, without a store, a clock or Kafka keys.
  stream::TaskOptions task_options;
  task_options.engine = engine;
  task_options.require_key = false;
  return task_options;
}

ReplaySummary Replay(std::shared_ptr<const model::Model> model, std::istream& in, std::ostream& out,
                     std::ostream& errors, const ReplayOptions& options) {
  stream::PartitionTask task(0, model, ReplayTaskOptions(options.engine), nullptr);
  ReplaySummary summary;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> routed;  // entity, direction, tier
  stream::BatchOutcome totals;
  const ReplayLoopCounts counts = RunReplayLoop(
      task, in, options.until_ms, errors,
      [&](const engine::RoutingEvent& ev) {
        out << (options.text ? ReadableLine(ev) : codec::ToJson(ev)) << '\n';
        ++routed[{ev.entity == engine::EntityKind::kLead ? "lead" : "account",
                  ev.direction == engine::Direction::kUp ? "up" : "down", ev.to_tier}];
        ++summary.routed;
      },
      &totals);
  summary.lines = counts.lines;
  summary.bad_lines = counts.bad_lines;
  engine::Engine& eng = task.engine();
  summary.stats = eng.stats();
  const auto& s = summary.stats;
  const stream::BatchOutcome& c = totals;
  errors << "replay: " << summary.lines << " lines, " << summary.bad_lines << " bad, " << s.events_scored
         << " events scored, skipped " << s.skipped_unknown_signal << " unknown signal / " << s.skipped_duplicate
         << " duplicate / " << s.skipped_too_late << " too late, " << s.profiles_applied << " profiles, "
         << s.outcomes << " outcomes, " << s.forgets << " forgets; " << s.decay_checks << " decay checks; stream time "
         << eng.stream_time() << "\n";
  const model::Model& m = *model;
  if (!m.filters.empty()) {
    // Held events still held at the end: the hold is in stream time, which stops at the
    // last record (or --until).
    summary.filtered = c.filtered;
    summary.filtered.resize(m.filters.size());
    summary.held_at_end = c.count(engine::ApplyOutcome::kHeld) - c.released -
                          (m.burst_filter >= 0 ? summary.filtered[static_cast<size_t>(m.burst_filter)] : 0);
    errors << "filtered " << c.filtered_total();
    for (size_t i = 0; i < m.filters.size(); ++i) {
      errors << (i ? ", " : ": ") << m.filters[i].name << " " << summary.filtered[i];
    }
    if (m.burst_filter >= 0) {
      errors << "; " << summary.held_at_end << (summary.held_at_end == 1 ? " event" : " events")
             << " still held at the end (--until ends their hold)";
    }
    errors << "\n";
  }
  errors << "routed " << summary.routed << " (model " << model->version << ")";
  for (const auto& [k, n] : routed) {
    errors << (k == routed.begin()->first ? ": " : ", ") << std::get<0>(k) << " " << std::get<1>(k) << " to "
           << std::get<2>(k) << " " << n;
  }
  errors << "\n";
  return summary;
}

}  // namespace leadscore::cli
