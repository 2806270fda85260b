import os
import subprocess
import sys
import time


def test_before_hang():
    pass


def test_hangs_with_subprocess(tmp_path):
    # A child that would outlive the test: guardian must end it with the hung test.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    pid_file = os.environ.get("HANG_CHILD_PID_FILE")
    if pid_file:
        with open(pid_file, "w") as f:
            f.write(str(child.pid))
    time.sleep(300)
