#!/usr/bin/env python3
"""Every metric the Grafana dashboard and the alert rules query is exposed by a running
service: `leadscore run --embedded-broker` with a small config, /metrics read once
/readyz answers 200, the names compared with those of the queries
(scripts/deploy_queries.py). Fails listing each name missing and where it is queried.
Also runs the image's health check (deploy/healthcheck.sh) against it.

  metrics_exposed_test.py --leadscore BINARY --source-dir DIR   (ctest: DeployMetricsQueriedAreExposed)

Every wait is bounded and ends as soon as what it waits for is there.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

# Series Prometheus makes itself, not the service.
PROMETHEUS_OWN = {"up"}


class Child:
    """A process whose stderr is read on a thread as it comes."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.err = []
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self.cv:
                self.err.append(line)
                self.cv.notify_all()
        with self.cv:
            self.err.append(None)  # end of output
            self.cv.notify_all()

    def stderr(self):
        with self.cv:
            return "".join(line for line in self.err if line)

    def wait_for(self, pattern, limit):
        """The first match of `pattern` in stderr, waiting at most `limit` seconds."""
        deadline = time.monotonic() + limit
        with self.cv:
            while True:
                m = re.search(pattern, "".join(line for line in self.err if line))
                if m or None in self.err:
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def wait_for_more(self, limit):
        """Until the child says something new, at most `limit` seconds."""
        with self.cv:
            seen = len(self.err)
            self.cv.wait_for(lambda: len(self.err) != seen, limit)


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return None, ""


def exposed(text):
    """Sample names in a Prometheus text exposition (histograms as _bucket, _sum, _count)."""
    return {re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0)
            for line in text.splitlines() if line and not line.startswith("#")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--leadscore", required=True)
    parser.add_argument("--source-dir", required=True)
    args = parser.parse_args()
    src = args.source_dir
    sys.path.insert(0, os.path.join(src, "scripts"))
    import deploy_queries  # noqa: E402

    files = [os.path.join(src, "deploy", "grafana", "leadscore-dashboard.json"),
             os.path.join(src, "deploy", "prometheus", "leadscore-rules.yml")]
    queried = {}
    for path in files:
        for expr, where in deploy_queries.queries(path):
            for name in deploy_queries.metric_names(expr):
                queried.setdefault(name, []).append(os.path.relpath(where, src))
    for name in PROMETHEUS_OWN:
        queried.pop(name, None)

    with tempfile.TemporaryDirectory(prefix="leadscore-metrics-") as tmp:
        config = os.path.join(tmp, "leadscore.yaml")
        with open(config, "w") as f:
            f.write(f"state_dir: {tmp}/state\n"
                    "http: { address: \"127.0.0.1:0\" }\n"
                    "embedded_broker: { partitions: 2 }\n"
                    "kafka_consumer: { session.timeout.ms: 6000, heartbeat.interval.ms: 500 }\n")
        run = Child([args.leadscore, "run", "--config", config, "--model",
                     os.path.join(src, "examples", "model.yaml"), "--embedded-broker"])
        try:
            m = run.wait_for(r"http=port (\d+)", 60)
            if not m:
                print(f"FAIL: the service did not start:\n{run.stderr()}")
                return 1
            port = int(m.group(1))

            deadline = time.monotonic() + 60
            while get(port, "/readyz")[0] != 200:
                if time.monotonic() > deadline or run.proc.poll() is not None:
                    print(f"FAIL: /readyz did not answer 200 within 60 s:\n{run.stderr()}")
                    return 1
                run.wait_for_more(0.2)

            # Some series come with the first fetch after the assignment (the lag needs
            # the high watermark): read again until all are there, at most 30 s.
            deadline = time.monotonic() + 30
            while True:
                status, text = get(port, "/metrics")
                missing = sorted(set(queried) - exposed(text)) if status == 200 else sorted(queried)
                if not missing or time.monotonic() > deadline:
                    break
                run.wait_for_more(0.5)

            health = subprocess.run(["bash", os.path.join(src, "deploy", "healthcheck.sh"), str(port)],
                                    capture_output=True, text=True, timeout=30)
            run.proc.send_signal(signal.SIGTERM)
            code = run.proc.wait(timeout=60)
        finally:
            if run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()

    failed = False
    if missing:
        failed = True
        print(f"FAIL: {len(missing)} of the {len(queried)} metric names queried are not exposed by "
              "leadscore run (/metrics):")
        for name in missing:
            print(f"  {name}: {'; '.join(sorted(set(queried[name])))}")
    else:
        print(f"ok: all {len(queried)} metric names the dashboard and the rules query are exposed")
    if health.returncode != 0:
        failed = True
        print(f"FAIL: the image's health check refused the running service: {health.stdout}{health.stderr}")
    if code != 0:
        failed = True
        print(f"FAIL: leadscore run exited {code} after SIGTERM:\n{run.stderr()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
