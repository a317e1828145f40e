"""Joining a real, separately started Ray cluster through RAY_ADDRESS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

CONFIG = {"name": "cluster", "env": "RepeatedPD-v1", "episodes": 40, "seed": 3,
          "agents": {"player_0": "tit_for_tat", "player_1": "random"},
          "sweep": {"params.delta": [0.0, 0.7]}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def ray_cluster():
    """A head node started with `ray start`, stopped by killing its own process group.

    (`ray stop` would also stop any other Ray on the machine.)
    """
    ray = pytest.importorskip("ray")
    if ray.is_initialized():  # this process must not hold a driver of its own
        ray.shutdown()
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    head = subprocess.Popen(
        [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
         "--num-cpus", "2", "--port", str(port), "--include-dashboard=false",
         "--disable-usage-stats"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        start_new_session=True)
    address = f"127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        os.killpg(head.pid, signal.SIGKILL)
        pytest.fail("the Ray head did not open its port within 60 s")
    yield address
    os.killpg(head.pid, signal.SIGKILL)
    head.wait(timeout=30)
    current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
    if current.exists() and current.read_text().strip().endswith(f":{port}"):
        current.unlink()  # what `ray stop` would remove; later ray.init() must not join it


@pytest.mark.slow
def test_run_on_an_existing_cluster_matches_a_local_run(tmp_path, ray_cluster):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    cmd = [sys.executable, "-m", "agora.experiments.cli", "run", str(path), "--quiet"]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_ADDRESS": ray_cluster}
    on_cluster = subprocess.run([*cmd, "--workers", "2", "--out", str(tmp_path / "c")],
                                env=env, capture_output=True, text=True, timeout=300)
    assert on_cluster.returncode == 0, on_cluster.stderr[-2000:]
    local_env = {k: v for k, v in env.items() if k != "RAY_ADDRESS"}
    local = subprocess.run([*cmd, "--out", str(tmp_path / "l")], env=local_env,
                           capture_output=True, text=True, timeout=300)
    assert local.returncode == 0, local.stderr[-2000:]
    a = pd.read_parquet(tmp_path / "c" / "episodes.parquet").drop(columns="duration_s")
    b = pd.read_parquet(tmp_path / "l" / "episodes.parquet").drop(columns="duration_s")
    assert len(a) == 80
    pd.testing.assert_frame_equal(a, b)
