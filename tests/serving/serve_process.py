"""A real `deepfm-gluon serve` process on a free loopback port, for the tests
that meet the server as clients do (tests/serving, tests/reliability)."""
import signal
import subprocess
import sys
import threading

START_TIMEOUT_S = 120


class Server:
    """`python -m deepfm_gluon serve ... --port 0`; the port is read from its first line."""

    def __init__(self, model_dir, *flags):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deepfm_gluon", "serve", "--model-dir", model_dir,
             "--port", "0", *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines, self.errors = [], []  # stdout and stderr lines, read as they come
        ready = threading.Event()

        def read_stdout():
            for line in self.proc.stdout:
                self.lines.append(line)
                if " on http://" in line:
                    ready.set()
            ready.set()
        def read_stderr():  # a full pipe would stall the server's logging
            for line in self.proc.stderr:
                self.errors.append(line)
        self.readers = [threading.Thread(target=target, daemon=True) for target in (read_stdout, read_stderr)]
        for reader in self.readers:
            reader.start()
        if not ready.wait(START_TIMEOUT_S) or self.proc.poll() is not None:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"server did not start: {self.lines} {self.log()}")
        self.url = self.lines[-1].split(" on ")[1].split()[0]
        self.port = int(self.url.rsplit(":", 1)[1])

    def log(self):
        """Everything the server wrote to stderr so far (all of it once stopped)."""
        if self.proc.poll() is not None:
            for reader in self.readers:
                reader.join(10)
        return "".join(self.errors)

    def stop(self):
        """SIGTERM, then its exit code (killed after 60 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
