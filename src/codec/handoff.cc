#include "codec/handoff.h"

#include "leadscore/v1/handoff.pb.h"

namespace leadscore::codec {

namespace pb = ::leadscore::v1::internal;

std::string EncodeHandoff(int32_t source_partition, uint64_t seq, std::span<const engine::Handoff> handoffs) {
  pb::Handoff m;
  m.set_source_partition(source_partition);
  m.set_seq(seq);
  for (const engine::Handoff& h : handoffs) {
    switch (h.kind) {
      case engine::Handoff::Kind::kClaim: {
        pb::ClaimedLead* lead = m.mutable_claim()->add_leads();
        lead->set_lead_id(h.lead_id);
        lead->set_at_ms(h.at_ms);
        break;
      }
      case engine::Handoff::Kind::kTransfer:
        m.mutable_transfer()->set_lead_id(h.lead_id);
        m.mutable_transfer()->set_state(h.state);
        m.mutable_transfer()->set_at_ms(h.at_ms);
        break;
      case engine::Handoff::Kind::kForget: m.mutable_forget()->set_lead_id(h.lead_id); break;
    }
  }
  return m.SerializeAsString();
}

Result<HandoffRecord> DecodeHandoff(std::string_view bytes, engine::IdTable& leads) {
  pb::Handoff m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || m.source_partition() < 0) {
    return Status::InvalidArgument("not a leadscore handoff record");
  }
  HandoffRecord r;
  r.source_partition = m.source_partition();
  r.seq = m.seq();
  switch (m.body_case()) {
    case pb::Handoff::kClaim:
      for (const auto& lead : m.claim().leads()) {
        if (lead.lead_id().empty()) return Status::InvalidArgument("handoff claim without a lead");
        r.inputs.push_back(
            engine::LeadReleaseInput{leads.Intern(lead.lead_id()), engine::kNoEntity, r.source_partition, lead.at_ms()});
      }
      return r;
    case pb::Handoff::kTransfer: {
      if (m.transfer().lead_id().empty()) break;
      engine::LeadAdoptInput in;
      in.lead = leads.Intern(m.transfer().lead_id());
      in.state = m.transfer().state();
      in.at_ms = m.transfer().at_ms();
      r.inputs.push_back(std::move(in));
      return r;
    }
    case pb::Handoff::kForget:
      if (m.forget().lead_id().empty()) break;
      r.inputs.push_back(engine::ForgetInput{leads.Intern(m.forget().lead_id()), engine::kNoEntity, true});
      return r;
    case pb::Handoff::BODY_NOT_SET: break;
  }
  return Status::InvalidArgument("handoff record without a lead");
}

}  // namespace leadscore::codec
