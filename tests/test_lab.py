"""JupyterLab's kernel, started the way ./run_lab.sh registers it, runs the project's Python
with `lib` importable from a notebook folder."""

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_kernel_spec_names_the_project_and_its_python(tmp_path):
    from lib import lab

    spec_dir = lab.install_kernel(tmp_path)
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec_dir == tmp_path / "share" / "jupyter" / "kernels" / "python3"
    assert spec["argv"][0] == sys.executable  # the .venv Python the install ran in
    assert spec["env"]["PYTHONPATH"] == str(ROOT)
    assert lab.current(tmp_path)  # so run_all.sh and run_lab.sh leave it as it is
    assert not lab.current(tmp_path / "elsewhere")


@pytest.mark.slow
def test_registered_kernel_imports_lib_from_a_notebook_folder(tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    from lib import lab

    spec_dir = lab.install_kernel(tmp_path)
    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    outputs: list[dict] = []
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ksm)
    km.start_kernel(cwd=str(ROOT / "notebooks" / "chimpact"), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        assert km.kernel_spec.resource_dir == str(spec_dir)
        reply = kc.execute_interactive(
            "import lib, lib.paths, os; print(lib.paths.ROOT, os.getcwd())", timeout=120,
            output_hook=lambda msg: outputs.append(msg),
        )  # fmt: skip
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", reply["content"]
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    assert text.split() == [str(ROOT), str(ROOT / "notebooks" / "chimpact")]
