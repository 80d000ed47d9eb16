// Internal to src/codec/: how leadscore prints its own records as JSON (the output
// topic's json format, routing snapshots, export): the protobuf JSON mapping with the
// proto field names and every field printed, zeros included.
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <string>

namespace leadscore::codec {

inline std::string PrintAllFieldsJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

}  // namespace leadscore::codec
