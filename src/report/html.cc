#include "report/report.h"

namespace leadscore::report {

std::string ToHtml(const Report& report) { return "<!doctype html><title>leadscore report</title>"; }

}  // namespace leadscore::report
