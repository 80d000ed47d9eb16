#include "stream/standby.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include "stream/kafka_handle.h"

namespace leadscore::stream {

Result<std::unique_ptr<Standby>> Standby::Start(const ChangelogTopicOptions& changelog, store::StateStore* store) {
  std::unique_ptr<Standby> s(new Standby());
  s->options_ = changelog;
  s->store_ = store;
  auto consumer = HandAssignedConsumer(changelog.brokers, "leadscore-standby", changelog.kafka,
                                       {{"fetch.wait.max.ms", "100"}, {"log_level", "4"}});
  if (!consumer.ok()) return consumer.status();
  s->consumer_ = consumer->release();
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

Standby::~Standby() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (consumer_) {
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
  }
}

void Standby::Follow(int32_t partition) {
  std::lock_guard lock(mu_);
  if (wanted_.insert(partition).second) dirty_ = true;
}

void Standby::Release(int32_t partition) {
  std::lock_guard lock(mu_);  // waits for a batch of it being written
  if (wanted_.erase(partition)) dirty_ = true;
  follows_.erase(partition);  // a batch held without its end is the owner's to restore
}

size_t Standby::following() const {
  std::lock_guard lock(mu_);
  return follows_.size();
}

void Standby::Reassign() {
  follows_.clear();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(wanted_.size()) + 1));
  for (int32_t p : wanted_) {
    auto position = store_->ChangelogPosition(p);
    if (!position.ok()) {
      spdlog::warn("standby: partition {} not followed: {}", p, position.status().message());
      continue;
    }
    int64_t from = position->value_or(0);
    if (!*position) {
      // State without a position was written by a release without a changelog: its
      // owner seeds the changelog from it; a standby must not mix the two.
      auto has = store_->HasPartitionState(p);
      if (!has.ok() || *has) continue;
    }
    follows_[p].next = from;
    rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), p)->offset = from;
  }
  // An assignment replaces the last one; records fetched for it are not delivered.
  const rd_kafka_resp_err_t err = rd_kafka_assign(consumer_, list.get());
  if (err) spdlog::warn("standby: assign: {}", rd_kafka_err2str(err));
  dirty_ = false;
}

void Standby::Loop() {
  while (!stop_.load()) {
    {
      std::lock_guard lock(mu_);
      if (dirty_) Reassign();
    }
    MessagePtr m(rd_kafka_consumer_poll(consumer_, 100));
    if (!m || m->err) continue;
    std::lock_guard lock(mu_);
    auto it = follows_.find(m->partition);
    if (it == follows_.end() || m->offset < it->second.next) continue;  // released, or already applied
    Follow_& f = it->second;
    f.next = m->offset + 1;
    auto value = ChangelogValue(m->payload, m->len);
    const std::string_view key(static_cast<const char*>(m->key), m->key_len);
    if (!value.ok()) {
      spdlog::warn("standby: partition {} offset {}: {}; no longer followed", m->partition, m->offset,
                   value.status().message());
      follows_.erase(it);
      continue;
    }
    if (!store::StateStore::IsBatchEnd(m->partition, key)) {
      f.batch.push_back({std::string(key), *value ? std::optional<std::string>(std::string(**value)) : std::nullopt});
      continue;
    }
    Status s = store_->ApplyFollowed(m->partition, f.batch, f.next);
    if (!s.ok()) {
      spdlog::warn("standby: partition {}: {}; no longer followed", m->partition, s.message());
      follows_.erase(it);
      continue;
    }
    applied_records_.fetch_add(f.batch.size() + 1, std::memory_order_relaxed);
    f.batch.clear();
  }
}

}  // namespace leadscore::stream
