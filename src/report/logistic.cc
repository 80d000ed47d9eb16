// The regression behind the suggested model, and the choice of its L2 weight.
#include <algorithm>
#include <cmath>
#include <limits>

#include "report/suggest.h"

namespace leadscore::report {

Result<Logistic> FitLogistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double l2) {
  const Eigen::Index n = x.rows(), k = x.cols();
  // Standardised, so one L2 weight means the same for points of 3 and of 25.
  Eigen::VectorXd mean = x.colwise().mean().transpose();
  Eigen::VectorXd sd(k);
  for (Eigen::Index j = 0; j < k; ++j) {
    sd(j) = std::sqrt((x.col(j).array() - mean(j)).square().sum() / static_cast<double>(std::max<Eigen::Index>(1, n)));
  }
  Eigen::MatrixXd z(n, k + 1);
  z.col(0).setOnes();
  for (Eigen::Index j = 0; j < k; ++j) {
    if (sd(j) > 1e-12) {
      z.col(j + 1) = ((x.col(j).array() - mean(j)) / sd(j)).matrix();
    } else {
      z.col(j + 1).setZero();
    }
  }
  Eigen::MatrixXd penalty = Eigen::MatrixXd::Identity(k + 1, k + 1) * l2;
  penalty(0, 0) = 0;  // the intercept is the base rate, not a preference
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(k + 1);
  Logistic out;
  for (int it = 1; it <= 100; ++it) {
    const Eigen::VectorXd prob = (1.0 / (1.0 + (-(z * beta)).array().exp())).matrix();
    const Eigen::VectorXd w = (prob.array() * (1 - prob.array())).max(1e-12).matrix();
    const Eigen::VectorXd gradient = z.transpose() * (y - prob) - penalty * beta;
    const Eigen::MatrixXd hessian = z.transpose() * w.asDiagonal() * z + penalty;
    // A column of zeros (constant) leaves the Hessian singular without L2 on it.
    const Eigen::MatrixXd h = hessian + 1e-9 * Eigen::MatrixXd::Identity(k + 1, k + 1);
    const Eigen::VectorXd step = h.ldlt().solve(gradient);
    if (!step.allFinite()) return Status::InvalidArgument("the regression diverged");
    beta += step;
    out.iterations = it;
    if (step.norm() < 1e-10) break;
    if (it == 100) return Status::InvalidArgument("the regression did not converge in 100 steps");
  }
  out.coefficients.resize(k);
  out.intercept = beta(0);
  for (Eigen::Index j = 0; j < k; ++j) {
    out.coefficients(j) = sd(j) > 1e-12 ? beta(j + 1) / sd(j) : 0;
    out.intercept -= out.coefficients(j) * mean(j);
  }
  return out;
}

double ChooseL2(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const std::vector<double>& grid, int folds) {
  // Held-out log-likelihood, not accuracy: with few wins, accuracy is the base rate's.
  double best = grid.front(), best_ll = -std::numeric_limits<double>::infinity();
  const Eigen::Index n = x.rows();
  for (double l2 : grid) {
    double ll = 0;
    bool ok = true;
    for (int f = 0; f < folds && ok; ++f) {
      std::vector<Eigen::Index> train, test;
      for (Eigen::Index i = 0; i < n; ++i) (i % folds == f ? test : train).push_back(i);
      if (train.empty() || test.empty()) continue;
      Eigen::MatrixXd xt(static_cast<Eigen::Index>(train.size()), x.cols());
      Eigen::VectorXd yt(static_cast<Eigen::Index>(train.size()));
      for (size_t r = 0; r < train.size(); ++r) {
        xt.row(static_cast<Eigen::Index>(r)) = x.row(train[r]);
        yt(static_cast<Eigen::Index>(r)) = y(train[r]);
      }
      auto fit = FitLogistic(xt, yt, l2);
      if (!fit.ok()) {
        ok = false;
        break;
      }
      for (Eigen::Index i : test) {
        const double eta = fit->intercept + x.row(i).dot(fit->coefficients);
        const double p = std::clamp(1.0 / (1.0 + std::exp(-eta)), 1e-12, 1 - 1e-12);
        ll += y(i) > 0.5 ? std::log(p) : std::log(1 - p);
      }
    }
    if (ok && ll > best_ll) {
      best_ll = ll;
      best = l2;
    }
  }
  return best;
}

}  // namespace leadscore::report
