"""Start and stop the real OpenAI-compatible servers the tests and benchmarks run on 127.0.0.1.

One place for the command lines (``transformers serve``, llama.cpp's ``python -m
llama_cpp.server`` and ``llama-server``) and for waiting until a server answers. Commands go through
:func:`host_exec.host_command`, so the newest Home Assistant leg (inside a root
filesystem) runs them on the host, where the trainer and llama.cpp environments live.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from host_exec import host_command

ROOT = Path(__file__).resolve().parents[1]
TRAINER_BIN = ROOT / ".venv" / "trainer" / "bin"
LLAMA_PYTHON = ROOT / ".venv" / "llama" / "bin" / "python"
LLAMA_SERVER = ROOT / ".venv" / "llama" / "bin" / "llama-server"  # a link to the binary scripts/llama_server.sh built
LLAMA_MODEL_ALIAS = "statewise"  # the name the llama.cpp servers list in /v1/models (--model_alias, --alias)


def post_json(url: str, body: object) -> dict:
    """One JSON POST, its JSON answer (blocking: from async code run it in the executor)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)


def get_json(url: str) -> object:
    """One GET, its JSON answer (blocking)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the harness allows no other address)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def transformers_serve(model_dir: str | Path, port: int) -> list[str]:
    """``transformers serve`` of a merged model folder on the CPU."""
    return [str(TRAINER_BIN / "transformers"), "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]


def llama_cpp_server(gguf: str | Path, port: int, *, n_ctx: int = 8192) -> list[str]:
    """llama-cpp-python's server of a GGUF: its chat template is the GGUF's own (Jinja).

    With its default flags it reuses the previous request's KV for the longest common prefix
    (one slot), which is what the prefix-cache figures measure.
    """
    return [str(LLAMA_PYTHON), "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", LLAMA_MODEL_ALIAS,
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx)]  # fmt: skip


def llama_server(gguf: str | Path, port: int, *, n_ctx: int = 8192, loras: Sequence[str | Path] = (), lora_init_without_apply: bool = False) -> list[str]:
    """llama.cpp's own ``llama-server`` of a GGUF with its chat template (``--jinja``), greedy by default; ``loras`` on top.

    ``--reasoning off``: llama-server passes ``enable_thinking`` to every template that knows it,
    true unless told otherwise, which overrides the exported template's non-thinking default for
    a request without ``chat_template_kwargs`` (the agent sends them; other clients may not).

    One slot and no host-memory prompt cache (``--cache-ram 0``), so a prompt whose prefix was
    replaced by another's is evaluated again: the prefix-cache figures compare exactly that
    with a reused prefix (``cache_prompt``, on by default, keeps the slot's last prompt).
    """
    argv = [str(LLAMA_SERVER), "-m", str(gguf), "--alias", LLAMA_MODEL_ALIAS, "--jinja", "--reasoning", "off", "--temp", "0", "-c", str(n_ctx),
            "--parallel", "1", "--cache-ram", "0", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    for lora in loras:
        argv += ["--lora", str(lora)]
    return argv + (["--lora-init-without-apply"] if lora_init_without_apply else [])


@contextmanager
def running(argv: list[str], log_path: Path, ready_path: str, *, timeout: float = 180, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run the server, wait until ``GET ready_path`` answers, yield its URL; stop it afterwards."""
    port = argv[argv.index("--port") + 1]
    url = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        proc = subprocess.Popen(host_command(argv, log_path.parent), cwd=log_path.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{Path(argv[0]).name} exited ({proc.returncode}): {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + ready_path, timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{Path(argv[0]).name} did not answer in {timeout:.0f} s; see {log_path}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
