// Internal to src/report: the suggestion's arithmetic, apart from the model file.
//   FitLogistic  L2-regularised logistic regression by Newton's method (IRLS), on
//                standardised columns with an unpenalised intercept; coefficients come
//                back per unit of the raw columns.
#pragma once

#include <Eigen/Dense>

#include "common/status.h"

namespace leadscore::report {

struct Logistic {
  double intercept = 0;
  Eigen::VectorXd coefficients;  // per unit of each raw column; 0 for a constant column
  int iterations = 0;
};

// `x`: rows of observations; `y`: 0/1. An error when it does not converge.
Result<Logistic> FitLogistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double l2);

}  // namespace leadscore::report
