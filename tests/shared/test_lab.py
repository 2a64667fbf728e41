"""JupyterLab's kernel, started the way ./run_lab.sh registers it, runs the project's Python
with `lib` importable from a notebook folder."""

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_kernel_spec_names_the_project_and_its_python(tmp_path):
    from lib import lab

    spec_dir = lab.install_kernel(tmp_path)
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec_dir == tmp_path / "share" / "jupyter" / "kernels" / "python3"
    assert spec["argv"][0] == sys.executable  # the .venv Python the install ran in
    assert spec["env"]["PYTHONPATH"] == str(ROOT)
    assert lab.current(tmp_path)  # so run_all.sh and run_lab.sh leave it as it is
    assert not lab.current(tmp_path / "elsewhere")


def _run_in_kernel(spec_dir, code: str) -> tuple[dict, list[dict]]:
    """Start the kernel of `spec_dir` as JupyterLab would (cwd a notebook folder, no PYTHONPATH
    from outside, none of pytest's variables: ipykernel leaves output below Python alone under
    pytest) and run `code`; returns the execute reply and the iopub messages."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_CURRENT_TEST")}
    outputs: list[dict] = []
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ksm)
    km.start_kernel(cwd=str(ROOT / "notebooks" / "chimpact"), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        assert km.kernel_spec.resource_dir == str(spec_dir)
        reply = kc.execute_interactive(code, timeout=120, output_hook=outputs.append)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return reply, outputs


@pytest.mark.slow
def test_progress_bars_are_widgets_in_the_lab_kernel(tmp_path):
    from lib import lab

    code = "from tqdm.auto import tqdm\nfor _ in tqdm(range(3), desc='demo'): pass"
    reply, outputs = _run_in_kernel(lab.install_kernel(tmp_path), code)
    assert reply["content"]["status"] == "ok", reply["content"]
    mimes = {k for m in outputs if m["msg_type"] == "display_data" for k in m["content"]["data"]}
    assert "application/vnd.jupyter.widget-view+json" in mimes


@pytest.mark.slow
def test_registered_kernel_imports_lib_from_a_notebook_folder(tmp_path):
    from lib import lab

    code = "import lib, lib.paths, os; print(lib.paths.ROOT, os.getcwd())"
    reply, outputs = _run_in_kernel(lab.install_kernel(tmp_path), code)
    assert reply["content"]["status"] == "ok", reply["content"]
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    assert text.split() == [str(ROOT), str(ROOT / "notebooks" / "chimpact")]


@pytest.mark.slow
def test_output_below_python_stays_out_of_the_notebook(tmp_path):
    """What C++ writes to the process's standard error (TensorFlow's start-up lines) goes to
    the kernel's own stderr, not into the notebook; Python's own stderr still does."""
    from lib import lab

    code = (
        "import os, sys, time\nos.write(2, b'below python\\n')\ntime.sleep(1)\n"
        "print('from python', file=sys.stderr)\nsys.stderr.flush()"
    )
    reply, outputs = _run_in_kernel(lab.install_kernel(tmp_path), code)
    assert reply["content"]["status"] == "ok", reply["content"]
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    assert "from python" in text and "below python" not in text
