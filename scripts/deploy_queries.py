#!/usr/bin/env python3
"""The PromQL queries of the deploy files, and the metric names they read.

  deploy_queries.py names FILE...     every metric name queried, one a line: NAME<TAB>where
  deploy_queries.py as-rules FILE...  the queries as a Prometheus rules file (recording
                                      rules), so that `promtool check rules` parses them

FILE is a Grafana dashboard (.json) or a Prometheus rules file (.yml). Grafana's
variables ($job, $__rate_interval, ...) are replaced by values Prometheus accepts.
Used by scripts/check-deploy.sh and tests/deploy/metrics_exposed_test.py.
"""
import json
import re
import sys

import yaml

# Words of PromQL that are not metric names: aggregations (followed by `by`/`without` or
# a parenthesis), binary operators, modifiers.
_KEYWORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "limitk", "limit_ratio", "and", "or", "unless", "atan2", "by",
    "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan",
}
# Keywords followed by a parenthesised list of label names.
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}

_GRAFANA_VARS = [
    (re.compile(r"\$__rate_interval|\$__interval|\$\{__rate_interval\}|\$\{__interval\}"), "5m"),
    (re.compile(r"\$__range|\$\{__range\}"), "1h"),
    (re.compile(r"\$\{?(\w+)\}?"), "leadscore"),
]


def promql(expr):
    """A Grafana query as plain PromQL."""
    for pattern, value in _GRAFANA_VARS:
        expr = pattern.sub(value, expr)
    return expr


def metric_names(expr):
    """The metric names an expression selects."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', promql(expr))
    text = re.sub(r"\{[^{}]*\}", " ", text)   # label matchers
    text = re.sub(r"\[[^\[\]]*\]", " ", text)  # ranges and subqueries
    tokens = re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*|\d[\w.]*|\S", text)
    names, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if t.lower() in _LABEL_LISTS and following == "(":
            i = tokens.index(")", i) + 1  # skip the label names
            continue
        if re.match(r"[A-Za-z_:]", t) and following != "(" and t.lower() not in _KEYWORDS:
            names.append(t)
        i += 1
    return names


def _dashboard_queries(path):
    with open(path) as f:
        dashboard = json.load(f)
    out = []

    def walk(node, title):
        if isinstance(node, dict):
            title = node.get("title", title)
            if isinstance(node.get("expr"), str):
                out.append((node["expr"], f"{path}: panel '{title}'"))
            for value in node.values():
                walk(value, title)
        elif isinstance(node, list):
            for value in node:
                walk(value, title)

    walk(dashboard.get("panels", []), "")
    # Variables: label_values(METRIC_SELECTOR, label) is Grafana's, not PromQL.
    for var in dashboard.get("templating", {}).get("list", []):
        query = var.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query
        if var.get("type") == "query" and isinstance(query, str):
            m = re.match(r"\s*label_values\((.*),\s*\w+\s*\)\s*$", query)
            out.append((m.group(1) if m else query, f"{path}: variable '{var.get('name')}'"))
    return out


def _rules_queries(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    out = []
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            out.append((rule["expr"], f"{path}: {name}"))
    return out


def queries(path):
    """(expression, where) for every query of a dashboard or a rules file."""
    return _dashboard_queries(path) if path.endswith(".json") else _rules_queries(path)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("names", "as-rules"):
        sys.stderr.write(__doc__)
        return 2
    pairs = [q for path in argv[2:] for q in queries(path)]
    if argv[1] == "names":
        for expr, where in pairs:
            for name in metric_names(expr):
                print(f"{name}\t{where}")
    else:
        rules = [{"record": f"check:query_{i}", "expr": promql(expr)} for i, (expr, _) in enumerate(pairs)]
        yaml.safe_dump({"groups": [{"name": "queries", "rules": rules}]}, sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
