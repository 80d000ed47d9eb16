#include "cli/progress_bar.h"

#include <algorithm>
#include <ostream>

namespace leadscore::cli {

ProgressBar::ProgressBar(std::ostream& out, bool tty, std::string what)
    : out_(out), tty_(tty), what_(std::move(what)) {}

std::string ProgressBar::Line(uint64_t done, uint64_t total) const {
  const int percent = total == 0 ? 100 : static_cast<int>(std::min<uint64_t>(done, total) * 100 / total);
  constexpr int kWidth = 30;
  std::string bar(kWidth, ' ');
  std::fill_n(bar.begin(), percent * kWidth / 100, '#');
  std::string pct = std::to_string(percent);
  pct.insert(0, 3 - std::min<size_t>(3, pct.size()), ' ');
  return "[" + bar + "] " + pct + "%  " + std::to_string(done) + "/" + std::to_string(total) + " " + what_;
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  const int percent = total == 0 ? 100 : static_cast<int>(std::min<uint64_t>(done, total) * 100 / total);
  if (tty_) {
    if (percent == last_percent_) return;  // a redraw per per cent, not per batch
    last_percent_ = percent;
    out_ << '\r' << Line(done, total) << std::flush;
    return;
  }
  if (percent / 10 == last_tenth_) return;
  last_tenth_ = percent / 10;
  out_ << Line(done, total) << '\n' << std::flush;
}

void ProgressBar::Finish(uint64_t done, uint64_t total) {
  if (tty_) {
    out_ << '\r' << Line(done, total) << '\n' << std::flush;
  } else if (last_tenth_ != 10) {
    out_ << Line(done, total) << '\n' << std::flush;
  }
}

}  // namespace leadscore::cli
