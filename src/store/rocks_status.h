// RocksDB's status as ours: corruption stays corruption, the rest is an I/O error.
// Internal to src/store/.
#pragma once

#include <rocksdb/status.h>

#include <string>

#include "common/status.h"

namespace leadscore::store {

inline Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  return s.IsCorruption() ? Status::Corruption(what + ": " + s.ToString()) : Status::IoError(what + ": " + s.ToString());
}

}  // namespace leadscore::store
