#include "stream/outbox.h"

#include <iterator>

#include "codec/codec.h"
#include "codec/handoff.h"

namespace leadscore::stream {

void Outbox::Resume(std::vector<store::OutboxRecord> records, std::map<int32_t, int64_t> output_offsets) {
  records_ = std::move(records);
  produced_ = 0;
  next_seq_ = records_.empty() ? 0 : records_.back().seq + 1;
  needs_check_ = !records_.empty();
  output_offsets_ = std::move(output_offsets);
  Counted();
}

std::vector<store::OutboxRecord> Outbox::Stage(const std::vector<engine::RoutingEvent>& events, codec::Format format) {
  std::vector<store::OutboxRecord> staged;
  staged.reserve(events.size());
  for (const auto& ev : events) {
    store::OutboxRecord r;
    r.seq = next_seq_++;
    r.id = ev.routing_id;
    r.key = ev.account_id;
    r.value = format == codec::Format::kJson ? codec::ToJson(ev) : codec::ToBinary(ev);
    staged.push_back(std::move(r));
  }
  return staged;
}

std::vector<store::OutboxRecord> Outbox::StageHandoffs(const std::vector<engine::Handoff>& handoffs,
                                                       int32_t partitions, uint64_t* handoff_seq) {
  std::vector<store::OutboxRecord> staged;
  auto stage = [&](std::span<const engine::Handoff> hs, int32_t to) {
    store::OutboxRecord r;
    r.seq = next_seq_++;
    r.id = std::string(store::OutboxRecord::kHandoffId) + std::to_string(to);
    r.key = hs.front().lead_id;
    r.value = codec::EncodeHandoff(partition_, ++*handoff_seq, hs);
    staged.push_back(std::move(r));
  };
  for (size_t i = 0; i < handoffs.size();) {
    const engine::Handoff& h = handoffs[i];
    if (h.kind == engine::Handoff::Kind::kTransfer) {
      stage({&h, 1}, h.to_partition);
      ++i;
      continue;
    }
    // A run of claims (every lead new to this partition in the commit) is one record for
    // each other partition: a claim per lead would multiply the inputs' traffic.
    size_t n = 1;
    if (h.kind == engine::Handoff::Kind::kClaim) {
      while (i + n < handoffs.size() && handoffs[i + n].kind == engine::Handoff::Kind::kClaim) ++n;
    }
    for (int32_t p = 0; p < partitions; ++p) {
      if (p != partition_) stage({&handoffs[i], n}, p);
    }
    i += n;
  }
  return staged;
}

void Outbox::Committed(std::vector<store::OutboxRecord> records) {
  std::move(records.begin(), records.end(), std::back_inserter(records_));
  Counted();
}

std::vector<uint64_t> Outbox::DropUnproduced(const std::set<std::string>& leads, const std::set<std::string>& accounts,
                                             codec::Format format) {
  std::vector<uint64_t> seqs;
  for (size_t i = produced_; i < records_.size(); ++i) {
    if (records_[i].handoff_partition() >= 0) continue;  // a lead's state in transit is not output
    auto ev = format == codec::Format::kJson ? codec::RoutingEventFromJson(records_[i].value)
                                             : codec::RoutingEventFromBinary(records_[i].value);
    if (ev.ok() && (accounts.count(ev->account_id) || (!ev->lead_id.empty() && leads.count(ev->lead_id)))) {
      seqs.push_back(records_[i].seq);
    }
  }
  return seqs;
}

void Outbox::Dropped(const std::vector<uint64_t>& seqs) {
  const std::set<uint64_t> gone(seqs.begin(), seqs.end());
  // Only unproduced records are dropped: the produced prefix stays as it is.
  std::erase_if(records_, [&](const store::OutboxRecord& r) { return gone.count(r.seq) > 0; });
  Counted();
}

store::DeliveryCommit Outbox::Check(const std::unordered_set<std::string>& published_ids) {
  store::DeliveryCommit done{partition_, {}, {}};
  std::vector<store::OutboxRecord> rest;
  for (auto& r : records_) {
    if (published_ids.count(r.id)) done.delivered.push_back(r.seq);
    else rest.push_back(std::move(r));
  }
  records_ = std::move(rest);
  produced_ = 0;
  needs_check_ = false;
  Counted();
  return done;
}

std::span<const store::OutboxRecord> Outbox::Unproduced() const {
  if (needs_check_) return {};  // nothing before the check
  return std::span<const store::OutboxRecord>(records_).subspan(produced_);
}

store::DeliveryCommit Outbox::Delivered(const std::unordered_set<uint64_t>& seqs,
                                        const std::map<int32_t, int64_t>& reached) {
  store::DeliveryCommit c{partition_, {}, reached};
  // A partition whose outbox is not checked yet keeps its offsets: its check must read
  // from where its earlier run's records may be.
  if (needs_check_) {
    c.output_offsets.clear();
    return c;
  }
  std::erase_if(records_, [&](const store::OutboxRecord& r) {
    if (!seqs.count(r.seq)) return false;
    c.delivered.push_back(r.seq);
    return true;
  });
  produced_ -= c.delivered.size();  // only produced records are delivered
  for (const auto& [q, next] : reached) output_offsets_[q] = next;
  Counted();
  return c;
}

}  // namespace leadscore::stream
