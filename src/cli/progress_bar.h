// A progress bar for long commands (`rebuild`): on a terminal one line redrawn in place
// ("[#####     ]  50%  1200/2400 records"); otherwise (a log file, a pipe) a plain line
// per tenth, so logs stay readable. Not thread-safe (one caller).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace leadscore::cli {

class ProgressBar {
 public:
  // `tty`: redraw in place; `what`: the unit ("records").
  ProgressBar(std::ostream& out, bool tty, std::string what);
  // `done` of `total` (the total may grow: records that arrived meanwhile).
  void Update(uint64_t done, uint64_t total);
  // The last line, ended.
  void Finish(uint64_t done, uint64_t total);

 private:
  std::string Line(uint64_t done, uint64_t total) const;
  std::ostream& out_;
  const bool tty_;
  const std::string what_;
  int last_tenth_ = -1;  // plain lines: the last tenth printed
  int last_percent_ = -1;
};

}  // namespace leadscore::cli
