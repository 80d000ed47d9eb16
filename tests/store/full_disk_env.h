// A RocksDB Env whose file writes fail once armed: a full disk, as RocksDB sees it.
#pragma once

#include <rocksdb/env.h>

#include <atomic>
#include <memory>
#include <string>

namespace leadscore::testing {

class FullDiskEnv : public rocksdb::EnvWrapper {
 public:
  FullDiskEnv() : EnvWrapper(rocksdb::Env::Default()) {}
  const char* Name() const override { return "FullDiskEnv"; }
  std::atomic<bool> full{false};
  rocksdb::Status NewWritableFile(const std::string& name, std::unique_ptr<rocksdb::WritableFile>* result,
                                  const rocksdb::EnvOptions& options) override {
    std::unique_ptr<rocksdb::WritableFile> file;
    rocksdb::Status s = target()->NewWritableFile(name, &file, options);
    if (s.ok()) *result = std::make_unique<File>(std::move(file), &full);
    return s;
  }

 private:
  class File : public rocksdb::WritableFileWrapper {
   public:
    File(std::unique_ptr<rocksdb::WritableFile> f, std::atomic<bool>* full)
        : WritableFileWrapper(f.get()), owned_(std::move(f)), full_(full) {}
    rocksdb::Status Append(const rocksdb::Slice& data) override {
      return *full_ ? rocksdb::Status::NoSpace("disk full (test)") : WritableFileWrapper::Append(data);
    }
    rocksdb::Status Append(const rocksdb::Slice& data, const rocksdb::DataVerificationInfo& info) override {
      return *full_ ? rocksdb::Status::NoSpace("disk full (test)") : WritableFileWrapper::Append(data, info);
    }

   private:
    std::unique_ptr<rocksdb::WritableFile> owned_;
    std::atomic<bool>* full_;
  };
};

}  // namespace leadscore::testing
