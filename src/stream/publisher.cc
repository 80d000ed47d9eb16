#include "stream/publisher.h"

#include <spdlog/spdlog.h>

#include <unordered_set>

#include "codec/codec.h"
#include "stream/sink.h"
#include "stream/source.h"
#include "stream/topic_tail.h"

namespace leadscore::stream {

namespace {
// A delivery report's tag: which partition's outbox record it was (0 means no tag).
constexpr uint64_t kSeqMask = (uint64_t{1} << 40) - 1;
uint64_t OutboxTag(int32_t partition, uint64_t seq) {
  return (static_cast<uint64_t>(partition) + 1) << 40 | (seq & kSeqMask);
}
int32_t PartitionOfTag(uint64_t tag) { return static_cast<int32_t>((tag >> 40) - 1); }
constexpr size_t kMaxUnconfirmed = 100000;  // past this, a batch waits for deliveries first
}  // namespace

Result<std::unique_ptr<Publisher>> Publisher::Open(const ServiceOptions& options, store::StateStore* store) {
  std::unique_ptr<Publisher> p(new Publisher());
  p->options_ = options;
  p->store_ = store;
  auto props = options.kafka;
  for (const auto& [k, v] : options.kafka_producer) props[k] = v;
  auto sink = KafkaSink::Open({options.brokers, props});
  if (!sink.ok()) return sink.status();
  p->sink_ = std::move(*sink);
  if (Status known = p->sink_->LearnTopic(options.output_topic, 2000); !known.ok()) {
    spdlog::warn("output {}: {} (the first routing event learns it)", options.output_topic, known.message());
  }
  return p;
}

Publisher::~Publisher() = default;

// `kafka` with `kafka_consumer` on top: the outbox check reads as the group member does.
std::map<std::string, std::string> Publisher::ConsumerProperties() const {
  auto props = options_.kafka;
  for (const auto& [k, v] : options_.kafka_consumer) props[k] = v;
  return props;
}

Status Publisher::DeadLetter(const SourceRecord& r, const Refused& why) {
  spdlog::debug("dead letter: topic={} partition={} offset={} reason={}", r.topic, r.partition, r.offset,
                codec::RefusalName(why.reason));
  std::vector<std::pair<std::string, std::string>> headers = {{"error", why.error},
                                                              {"source.topic", r.topic},
                                                              {"source.partition", std::to_string(r.partition)},
                                                              {"source.offset", std::to_string(r.offset)}};
  if (r.key.size() + r.value.size() <= options_.max_dead_letter_bytes) {
    return sink_->Produce(options_.dlq_topic, r.key, r.value, headers);
  }
  // Too large for the DLQ: the coordinates find the original on its topic.
  headers.push_back({"truncated", std::to_string(r.key.size() + r.value.size())});
  return sink_->Produce(options_.dlq_topic, "", "", headers);
}

Status Publisher::Flush() {
  bool warned = false;
  for (;;) {
    Status s = sink_->Flush(1000);
    if (s.ok() || !sink_->InFlight()) return s;
    if (stop_ && stop_->load()) return Status::Unavailable("stopping with deliveries outstanding");
    if (!warned) spdlog::warn("waiting for the broker to take {}: {}", options_.output_topic, s.message());
    warned = true;
  }
}

void Publisher::RecordOutputEnds(PartitionTask& task) {
  if (!store_ || !task.outbox().output_offsets().empty()) return;
  auto ends = sink_->HighWatermarks(options_.output_topic, 10000);
  if (ends.ok() && store_->SetOutputOffsets(task.partition(), *ends).ok()) {
    task.outbox().SetOutputOffsets(std::move(*ends));
  } else {
    spdlog::warn("partition {}: output ends unknown ({}): a later check reads the output topic from its start",
                 task.partition(), ends.ok() ? "store" : ends.status().message());
  }
}

Status Publisher::Check(PartitionTask& task) {
  Outbox& outbox = task.outbox();
  auto records = ReadToEnd(options_.brokers, ConsumerProperties(), options_.output_topic, outbox.output_offsets(), 30000);
  if (!records.ok()) return records.status();
  std::unordered_set<std::string> published;
  for (const auto& r : *records) {
    auto ev = options_.output_format == codec::Format::kJson ? codec::RoutingEventFromJson(r.value)
                                                              : codec::RoutingEventFromBinary(r.value);
    if (ev.ok()) published.insert(ev->routing_id);
  }
  const size_t before = outbox.size();
  store::DeliveryCommit done = outbox.Check(published);
  if (store_) LEADSCORE_RETURN_IF_ERROR(store_->CommitDelivered({done}));
  spdlog::info("partition {}: outbox checked against {} ({} records read): {} already published, {} to publish",
               task.partition(), options_.output_topic, records->size(), before - outbox.size(), outbox.size());
  return Status::Ok();
}

Status Publisher::Publish(const std::vector<PartitionTask*>& tasks, bool wait) {
  size_t unconfirmed = 0;
  for (PartitionTask* task : tasks) {
    Outbox& outbox = task->outbox();
    for (const auto& r : outbox.Unproduced()) {
      const int32_t handoff = r.handoff_partition();
      if (handoff >= 0) {
        LEADSCORE_RETURN_IF_ERROR(sink_->Produce(options_.handoff(), r.key, r.value, {},
                                                 OutboxTag(task->partition(), r.seq), handoff));
        continue;
      }
      LEADSCORE_RETURN_IF_ERROR(
          sink_->Produce(options_.output_topic, r.key, r.value, {}, OutboxTag(task->partition(), r.seq)));
    }
    outbox.MarkProduced();
    unconfirmed += outbox.produced();
  }
  if (unconfirmed == 0) return Status::Ok();
  if (wait || unconfirmed > kMaxUnconfirmed) LEADSCORE_RETURN_IF_ERROR(Flush());
  else sink_->Poll(0);
  std::map<int32_t, int64_t> reached;
  for (const auto& [tp, next] : sink_->TakeDelivered()) {
    if (tp.first == options_.output_topic) reached[tp.second] = next;
  }
  std::map<int32_t, std::unordered_set<uint64_t>> delivered;
  for (uint64_t tag : sink_->TakeDeliveredTags()) delivered[PartitionOfTag(tag)].insert(tag & kSeqMask);
  if (delivered.empty() && reached.empty()) return Status::Ok();
  std::vector<store::DeliveryCommit> commits;
  for (PartitionTask* task : tasks) {
    // Every partition's next record lands past what was delivered just now (an outbox
    // not yet checked keeps its offsets: Outbox::Delivered says so).
    commits.push_back(task->outbox().Delivered(delivered[task->partition()], reached));
  }
  return store_ ? store_->CommitDelivered(commits) : Status::Ok();
}

void Publisher::Poll() { sink_->Poll(); }

bool Publisher::InFlight() const { return sink_->InFlight(); }

uint64_t Publisher::DeliveryErrors() const { return sink_->delivery_errors(); }

KafkaStats Publisher::ProducerStatistics() const { return sink_->statistics(); }

}  // namespace leadscore::stream
