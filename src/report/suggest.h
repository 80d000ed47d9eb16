// Internal to src/report: the suggestion's arithmetic, apart from the model file.
//   FitLogistic  L2-regularised logistic regression by Newton's method (IRLS), on
//                standardised columns with an unpenalised intercept; coefficients come
//                back per unit of the raw columns (logistic.cc).
//   ChooseL2     the L2 weight of a grid with the best held-out log-likelihood over
//                k interleaved folds of the rows (logistic.cc).
//   TopK         precision and recall of picking the k highest scores (suggest.cc).
#pragma once

#include <Eigen/Dense>

#include <utility>
#include <vector>

#include "common/status.h"

namespace leadscore::report {

struct Logistic {
  double intercept = 0;
  Eigen::VectorXd coefficients;  // per unit of each raw column; 0 for a constant column
  int iterations = 0;
};

// `x`: rows of observations; `y`: 0/1. An error when it does not converge.
Result<Logistic> FitLogistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double l2);

// Row i is in fold i % folds (rows in time order: each fold spans the whole period). A
// grid weight whose fit fails on a fold is skipped; the first grid weight when all fail.
double ChooseL2(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const std::vector<double>& grid, int folds = 5);

// Picking the `k` highest of `score` (ties: the earlier first): {precision, recall}
// against `positive`; recall 0 when nothing is positive.
std::pair<double, double> TopK(const std::vector<double>& score, const std::vector<bool>& positive, size_t k);

}  // namespace leadscore::report
