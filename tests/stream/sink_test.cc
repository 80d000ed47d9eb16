// The sink on its own, without a broker: a failed delivery is counted for good (the
// metric), and reported once by the next Flush (the loop's error).
#include "stream/sink.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

namespace leadscore::stream {
namespace {

TEST(KafkaSinkTest, FailedDeliveriesAreCountedAndReportedByTheNextFlush) {
  auto sink = KafkaSink::Open({"127.0.0.1:1", {}});  // nothing listens there; nothing is sent
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  EXPECT_EQ((*sink)->delivery_errors(), 0u);
  (*sink)->OnDelivery(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "routing-events", 0, -1, 7);
  (*sink)->OnDelivery(RD_KAFKA_RESP_ERR_NO_ERROR, "routing-events", 0, 41, 8);
  EXPECT_EQ((*sink)->delivery_errors(), 1u);
  EXPECT_FALSE((*sink)->Flush(0).ok());
  EXPECT_TRUE((*sink)->Flush(0).ok()) << "reported once";
  EXPECT_EQ((*sink)->delivery_errors(), 1u) << "counted for good";
  EXPECT_EQ((*sink)->TakeDeliveredTags(), std::vector<uint64_t>{8});
}

}  // namespace
}  // namespace leadscore::stream
