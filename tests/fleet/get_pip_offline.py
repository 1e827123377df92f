"""Offline stand-in for get-pip.py, the script `ansible-test` downloads to put pip into its empty virtualenvs.

ansible-test (ansible_test/_util/target/setup/requirements.py, `bootstrap`) fetches
https://ci-files.testing.ansible.com/ansible-test/get-pip-<version>.py unless it finds it in
~/.ansible/test/cache/get_pip_<version>.py, then runs it with pip's install arguments (pip==X, setuptools,
wheel). Without network that download fails, so the sanity test puts this file in that cache: the
standard library's ensurepip installs the bundled pip, then pip installs the requested packages from the
configured index. Nothing else differs from a normal ansible-test run.
"""

import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *sys.argv[1:]]))
