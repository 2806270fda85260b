"""guardian's pytest plugin: reports the test run to guardian over a Unix socket.

Active only when GUARDIAN_EVENTS_SOCKET names guardian's event socket (guardian sets it,
puts this directory on PYTHONPATH and adds ``-p guardian_pytest`` to PYTEST_ADDOPTS).
Each event is one JSON line sent as one datagram (SOCK_DGRAM): message boundaries come
for free, there is no connection to lose, and every xdist worker sends on its own.
If guardian is gone, the plugin goes quiet and never disturbs the test run.
"""
import json
import os
import signal
import socket
import time

ENV_SOCKET = "GUARDIAN_EVENTS_SOCKET"
# "<pid>:<socket>" of the pytest process that reports to guardian, set in its environment so
# every process it starts inherits it: a pytest started by a test (a nested session) sees it
# and stays silent, while the session's own xdist workers (its direct children) still report.
ENV_OWNER = "GUARDIAN_PYTEST_OWNER"
_dump_file = None  # where faulthandler writes stack dumps (a dup of the real stderr)
MAX_TEXT = 2000  # bytes of failure text kept per test: a summary, not the whole log


class _Sender:
    def __init__(self, path):
        self.path = path
        self.sock = None
        self.broken = False
        try:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            # Never hang a test run on a stuck guardian: give up on an event after 2 s.
            self.sock.settimeout(2.0)
        except OSError:
            self.broken = True

    def send(self, event):
        if self.broken:
            return
        try:
            event.setdefault("pid", os.getpid())
            event.setdefault("time", time.time())
            data = (json.dumps(event, default=str) + "\n").encode("utf-8", "replace")
            self.sock.sendto(data, self.path)
        except (socket.timeout, BlockingIOError, InterruptedError):
            pass  # guardian busy for 2 s: this event is lost, later ones may get through
        except Exception:
            # guardian gone (ENOENT/ECONNREFUSED) or anything else: stay silent from now on.
            self.broken = True


def _worker_id(config):
    worker = getattr(config, "workerinput", None)
    if worker:
        return worker.get("workerid")
    return os.environ.get("PYTEST_XDIST_WORKER") or None


def _short_text(report):
    try:
        crash = getattr(report.longrepr, "reprcrash", None)
        if crash is not None:
            text = "%s:%s: %s" % (crash.path, crash.lineno, crash.message)
        else:
            text = str(report.longrepr)
    except Exception:
        text = "(no failure text)"
    return text[:MAX_TEXT]


class GuardianReporter:
    def __init__(self, config, path):
        self.config = config
        self.sender = _Sender(path)
        self.worker = _worker_id(config)
        # The xdist controller only relays its workers' reports: the workers send their own
        # events (with their own pid, which guardian needs to dump or stop a hung worker).
        self.relaying = self.worker is None and getattr(config.option, "dist", "no") != "no"
        self.outcomes = {}  # nodeid -> outcome so far (setup/call/teardown merged)
        self.durations = {}
        self.texts = {}
        self.started = None

    def _send(self, kind, **fields):
        fields["event"] = kind
        fields["worker"] = self.worker
        self.sender.send(fields)

    def pytest_sessionstart(self, session):
        self.started = time.time()
        self._send("session_start", rootdir=str(self.config.rootpath))

    def pytest_collectreport(self, report):
        if report.failed and not self.relaying:
            self._send("collection_error", nodeid=report.nodeid, text=_short_text(report))

    def pytest_runtest_logstart(self, nodeid, location):
        if not self.relaying:
            self._send("test_start", nodeid=nodeid)

    def pytest_runtest_logreport(self, report):
        if self.relaying:
            return
        nodeid = report.nodeid
        self.durations[nodeid] = self.durations.get(nodeid, 0.0) + report.duration
        outcome = self.outcomes.get(nodeid, "passed")
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
            self.texts.setdefault(nodeid, _short_text(report))
        elif report.skipped and outcome == "passed":
            outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        elif report.passed and hasattr(report, "wasxfail"):
            outcome = "xpassed"
        self.outcomes[nodeid] = outcome

    def pytest_runtest_logfinish(self, nodeid, location):
        if self.relaying:
            return
        self._send("test_finish", nodeid=nodeid, outcome=self.outcomes.get(nodeid, "passed"),
                   duration_s=round(self.durations.get(nodeid, 0.0), 6),
                   text=self.texts.get(nodeid))

    def pytest_sessionfinish(self, session, exitstatus):
        self._send("session_finish", exitstatus=int(exitstatus),
                   duration_s=round(time.time() - (self.started or time.time()), 6),
                   collected=getattr(session, "testscollected", None))


def _register_stack_dump():
    # guardian sends SIGUSR2 to a hung test's process to get its Python stacks on stderr
    # before stopping it (--test-timeout); never override a handler someone else installed.
    try:
        import faulthandler
        if signal.getsignal(signal.SIGUSR2) in (signal.SIG_DFL, None):
            # pytest's fd capture redirects fd 2 while a test runs: dump to a copy of the
            # real stderr taken now, kept open for the life of the process.
            global _dump_file
            _dump_file = os.fdopen(os.dup(2), "w")
            faulthandler.register(signal.SIGUSR2, file=_dump_file, all_threads=True, chain=False)
            return True
    except Exception:
        pass
    return False


def _reports(config, path):
    """Whether this pytest process is the outermost session of this guardian run (or one of
    its xdist workers); a session started from inside a test is not counted."""
    owner_pid, _, owner_socket = os.environ.get(ENV_OWNER, "").partition(":")
    if owner_socket != path:  # no owner yet, or the owner reported to another guardian
        os.environ[ENV_OWNER] = "%d:%s" % (os.getpid(), path)
        return True
    if owner_pid == str(os.getpid()):
        return True
    return getattr(config, "workerinput", None) is not None and owner_pid == str(os.getppid())


def pytest_configure(config):
    path = os.environ.get(ENV_SOCKET)
    if not path or config.pluginmanager.has_plugin("guardian-reporter"):
        return
    if not _reports(config, path):
        return
    reporter = GuardianReporter(config, path)
    config.pluginmanager.register(reporter, "guardian-reporter")
    reporter._send("process_start", stack_dump_signal="SIGUSR2" if _register_stack_dump() else None,
                   role="worker" if reporter.worker else "controller")
