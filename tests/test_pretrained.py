"""Tests for skfsrcnn.pretrained: registry hashes, safe loading, and pooch downloads.

Downloads are tested against a real HTTP server on 127.0.0.1 (no internet).
"""

import hashlib
import http.server
import shutil
import threading
import time
import types
from functools import partial
from pathlib import Path

import numpy as np
import pooch
import pytest
import torch

import skfsrcnn
from skfsrcnn import _registry, pretrained, upscale
from skfsrcnn.models import FSRCNN, PRESETS
from skfsrcnn.pretrained import REGISTRY, available_weights, input_range, load_model, save_weights, weights_path


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _same_parameters(model, other):
    a, b = model.state_dict(), other.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)


# ---------------------------------------------------------------- registry and bundled files


def test_registry_entries_are_complete():
    assert available_weights() == sorted(REGISTRY)
    for name, entry in REGISTRY.items():
        assert name.startswith(entry["architecture"]) and name.endswith(f"-x{entry['scale']}")
        assert entry["architecture"] in PRESETS
        assert entry["scale"] in (2, 3, 4)
        assert len(entry["sha256"]) == 64 and int(entry["sha256"], 16) >= 0
        assert entry["file"].endswith(".safetensors")
    assert {(e["architecture"], e["scale"]) for e in REGISTRY.values()} >= {
        (preset, scale) for preset in PRESETS for scale in (2, 3, 4)
    }


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_input_range_is_the_files(name):
    recorded = input_range(weights_path(name))  # the file's metadata (none: photo luma)
    assert input_range(name) == tuple(REGISTRY[name]["input_range"]) == recorded


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_weights_path_matches_registry_hash(name):
    path = weights_path(name)
    assert path.is_file()
    assert path.name == REGISTRY[name]["file"]
    assert _sha256(path) == REGISTRY[name]["sha256"]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_bundled_weights_were_written_by_the_run_of_their_recipe(name):
    _, metadata = pretrained.read_tensors(weights_path(name))
    assert metadata["run"] == REGISTRY[name]["stage"]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_load_registered_model(name):
    entry = REGISTRY[name]
    model = load_model(name)
    assert model.config == {"scale": entry["scale"], **PRESETS[entry["architecture"]]}
    assert not model.training
    assert load_model(name) is model  # cached


def test_unknown_registry_name():
    with pytest.raises(
        ValueError, match=r"Unknown weights 'fsrcnn-x9'; registered: .*fsrcnn-s-x2, .*fsrcnn-x4, or pass the path"
    ):
        weights_path("fsrcnn-x9")
    with pytest.raises(ValueError, match=r"`weights`='fsrcnn-x9' is neither a registered name"):
        load_model("fsrcnn-x9")


def test_weights_must_be_a_name_or_path():
    with pytest.raises(TypeError, match=r"`weights` must be a registry name or a file path, got int"):
        load_model(3)


def _damaged_copy(tmp_path, name):
    copy = tmp_path / REGISTRY[name]["file"]
    data = bytearray(weights_path(name).read_bytes())
    data[-1] ^= 0xFF  # flip bits in the last tensor's data: still valid safetensors
    copy.write_bytes(bytes(data))
    return copy


@pytest.mark.parametrize("how", ["file", "hash"])
def test_corrupt_bundled_file_is_detected(tmp_path, monkeypatch, how):
    name = "fsrcnn-s-x2"
    if how == "file":
        copy = _damaged_copy(tmp_path, name)
        monkeypatch.setattr(pretrained, "_bundled", lambda filename: copy)
    else:
        monkeypatch.setitem(REGISTRY, name, {**REGISTRY[name], "sha256": "0" * 64})
    with pytest.raises(ValueError, match=r"bundled weights file .* has sha256 .*installation is damaged; reinstall"):
        weights_path(name)
    with pytest.raises(ValueError, match=r"installation is damaged"):
        load_model(name)
    with pytest.raises(ValueError, match=r"installation is damaged"):
        upscale(np.zeros((8, 8)), 2, model="fsrcnn-s")


# ---------------------------------------------------------------- weights files


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_load_safetensors_file(random_weights, preset, scale):
    path = random_weights(preset, scale)
    model = load_model(path)
    assert model.config == {"scale": scale, **PRESETS[preset]}
    assert load_model(str(path)) is model  # cached
    assert _same_parameters(load_model(path, scale=scale), model)


def _random_model(preset="fsrcnn-s", scale=2, seed=3):
    torch.manual_seed(seed)
    model = FSRCNN.from_preset(preset, scale)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.1)
    return model.eval()


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_load_torch_state_dict(tmp_path, preset, suffix):
    model = _random_model(preset, 3)
    path = tmp_path / f"state{suffix}"
    torch.save(model.state_dict(), path)
    loaded = load_model(path, scale=3)
    assert loaded.config == model.config
    assert _same_parameters(loaded, model)
    with pytest.raises(ValueError, match=r"does not record its scale, and its weights do not show it .*; pass `scale`"):
        load_model(path)


def test_load_training_checkpoint(tmp_path):
    model = _random_model("fsrcnn", 4)
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": model.state_dict(), "config": {"model": "fsrcnn", "scale": 4}, "iteration": 7}, path)
    loaded = load_model(path)
    assert loaded.config == model.config
    assert _same_parameters(loaded, model)
    with pytest.raises(ValueError, match=r"trained for scale 4, but `scale`=2"):
        load_model(path, scale=2)


def test_saved_weights_round_trip_with_metadata(tmp_path):
    model = _random_model("fsrcnn", 2)
    path = tmp_path / "mine.safetensors"
    save_weights(model, path, metadata={"psnr": 36.5})
    loaded = load_model(path)
    assert _same_parameters(loaded, model)
    x = torch.rand(1, 1, 9, 9)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_scale_mismatch(random_weights, scale):
    other = 2 if scale != 2 else 3
    path = random_weights("fsrcnn", scale)
    with pytest.raises(ValueError, match=rf"trained for scale {scale}, but `scale`={other}; use scale={scale}"):
        load_model(path, scale=other)
    with pytest.raises(ValueError, match=rf"trained for scale {scale}"):
        upscale(np.zeros((8, 8)), other, weights=path)


class _Payload:
    """Unpickling this object runs code that creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def test_payload_is_live(tmp_path):
    """The payload used below does run code when unpickled naively."""
    import pickle

    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


@pytest.mark.parametrize("wrap", [lambda p: p, lambda p: {"feature.0.weight": p}], ids=["object", "in-dict"])
def test_pickled_code_is_refused_and_never_run(tmp_path, wrap):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save(wrap(_Payload(marker)), path)
    match = r"`weights` file .*evil\.pt.* was refused: .*pickled code, which is never run"
    with pytest.raises(ValueError, match=match):
        load_model(path, scale=2)
    with pytest.raises(ValueError, match=r"was refused"):
        upscale(np.zeros((8, 8)), 2, weights=path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content",
    [
        lambda: torch.zeros(3),
        lambda: {"a": torch.zeros(3)},
        lambda: {"feature.0.weight": 1.5},
        lambda: [1, 2, 3],
    ],
    ids=["tensor", "wrong-keys", "not-tensors", "list"],
)
def test_torch_file_that_is_not_fsrcnn(tmp_path, content):
    path = tmp_path / "other.pt"
    torch.save(content(), path)
    with pytest.raises(ValueError, match=r"`weights` file .*other\.pt"):
        load_model(path, scale=2)


def test_state_dict_of_another_architecture(tmp_path):
    state = _random_model("fsrcnn", 2).state_dict()
    del state["deconv.bias"]
    path = tmp_path / "partial.pt"
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"does not match the FSRCNN .* deconv\.bias is missing"):
        load_model(path, scale=2)


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_garbage_files(tmp_path, suffix):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(b"\x00\x01 this is not a weights file" * 10)
    with pytest.raises(ValueError, match=r"`weights` file .*garbage"):
        load_model(path, scale=2)


def test_truncated_safetensors(tmp_path, random_weights):
    path = tmp_path / "cut.safetensors"
    path.write_bytes(Path(random_weights("fsrcnn-s", 2)).read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"is not valid safetensors"):
        load_model(path, scale=2)


# ---------------------------------------------------------------- pooch downloads


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``server.status`` maps a path to an error status to send instead.

    ``server.faults`` maps a path to a list of faults, one per request (then
    the file is served normally): ``"drop"`` announces the whole file, sends
    half and hangs up; ``"short"`` announces and sends half (a well-formed
    but truncated response); ``"slow"`` answers nothing; ``"trickle"`` sends
    the file in small pieces, never idle long enough for a read timeout.
    """

    def do_GET(self):
        self.server.requests.append(self.path)
        name = self.path.lstrip("/")
        status = self.server.status.get(name)
        if status:
            self.send_error(status)
            return
        faults = self.server.faults.get(name)
        if faults:
            getattr(self, f"_{faults.pop(0)}")(Path(self.directory) / name)
            return
        super().do_GET()

    def _headers(self, length):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _drop(self, path):
        data = path.read_bytes()
        self._headers(len(data))
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True

    def _short(self, path):
        data = path.read_bytes()[:-100]
        self._headers(len(data))
        self.wfile.write(data)

    def _slow(self, path):
        self.server.released.wait(10)  # until the test ends
        self.close_connection = True

    def _trickle(self, path):
        data = path.read_bytes()
        self._headers(len(data))
        for start in range(0, len(data), 512):
            if self.server.released.wait(0.02):
                break
            try:
                self.wfile.write(data[start : start + 512])
                self.wfile.flush()
            except OSError:  # the client gave up
                break
        self.close_connection = True

    def log_message(self, *args):
        pass


class _Server:
    def __init__(self, folder):
        self.folder = folder
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(folder)))
        self.httpd.requests, self.httpd.status, self.httpd.faults = [], {}, {}
        self.httpd.released = threading.Event()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    @property
    def requests(self):
        return self.httpd.requests

    @property
    def status(self):
        return self.httpd.status

    @property
    def faults(self):
        return self.httpd.faults

    def stop(self):
        if self.running:
            self.httpd.released.set()
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
            self.running = False


NAME, FILE = "fsrcnn-s-x3-mirror", "fsrcnn_s_x3_mirror.safetensors"


@pytest.fixture
def remote(tmp_path, monkeypatch, random_weights):
    """A local server with one weights file, registered under a name that is not bundled."""
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(random_weights("fsrcnn-s", 3), served / FILE)
    server = _Server(served)
    registry = {
        **_registry.REGISTRY,
        NAME: {
            "file": FILE,
            "sha256": _sha256(served / FILE),
            "architecture": "fsrcnn-s",
            "scale": 3,
            "input_range": list(pretrained.LUMA_RANGE),
        },
    }
    monkeypatch.setattr(_registry, "REGISTRY", registry)
    monkeypatch.setattr(pretrained, "REGISTRY", registry)
    monkeypatch.setenv(pretrained.BASE_URL_ENV, server.url)
    monkeypatch.setenv(pretrained.CACHE_ENV, str(tmp_path / "cache"))
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(variable, "127.0.0.1,localhost")
    import pooch.core

    monkeypatch.setattr(pooch.core, "time", types.SimpleNamespace(sleep=lambda seconds: None))  # no retry waits
    server.cache = tmp_path / "cache"
    server.registry = registry
    yield server
    server.stop()


def test_remote_name_is_not_bundled(remote):
    assert pretrained._bundled(FILE) is None
    assert NAME in available_weights()


def test_download_hash_check_and_load(remote):
    path = weights_path(NAME)
    assert remote.requests == [f"/{FILE}"]
    assert remote.cache in path.parents  # SKFSRCNN_CACHE_DIR (pooch appends a version folder)
    assert path.parent.name == pooch.check_version(skfsrcnn.__version__, fallback="main")
    assert _sha256(path) == remote.registry[NAME]["sha256"]
    model = load_model(NAME)
    assert model.config == {"scale": 3, **PRESETS["fsrcnn-s"]}
    assert _same_parameters(model, load_model(remote.folder / FILE))
    image = np.random.default_rng(0).random((12, 12), dtype=np.float32)
    np.testing.assert_array_equal(upscale(image, 3, weights=NAME), upscale(image, 3, weights=remote.folder / FILE))


def test_cache_hit_with_server_down(remote):
    first = weights_path(NAME)
    remote.stop()
    assert weights_path(NAME) == first
    assert remote.requests == [f"/{FILE}"]  # one download in all
    assert load_model(NAME).scale == 3


def test_wrong_registry_hash_refuses_download(remote):
    remote.registry[NAME] = {**remote.registry[NAME], "sha256": "0" * 64}
    with pytest.raises(ValueError, match=r"hash of downloaded file .* does not match the known hash"):
        weights_path(NAME)
    with pytest.raises(ValueError, match=r"does not match the known hash"):
        load_model(NAME)
    assert not list(remote.cache.rglob(FILE))  # nothing kept, nothing loaded


def test_corrupt_cached_file_is_downloaded_again(remote):
    path = weights_path(NAME)
    path.write_bytes(b"corrupted" + path.read_bytes()[9:])
    assert weights_path(NAME) == path
    assert len(remote.requests) == 2
    assert _sha256(path) == remote.registry[NAME]["sha256"]


def test_corrupt_cached_file_is_refused_with_server_down(remote):
    path = weights_path(NAME)
    path.write_bytes(path.read_bytes()[:-5] + b"evil!")
    remote.stop()
    with pytest.raises(OSError, match=r"Could not download the weights 'fsrcnn-s-x3-mirror'"):
        weights_path(NAME)
    with pytest.raises(OSError, match=r"Could not download"):
        load_model(NAME)


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors_are_clear(remote, status):
    remote.status[FILE] = status
    with pytest.raises(OSError) as info:
        weights_path(NAME)
    message = str(info.value)
    assert f"Could not download the weights {NAME!r} from {remote.url}{FILE}" in message
    assert str(status) in message
    assert pretrained.BASE_URL_ENV in message and pretrained.CACHE_ENV in message and "`weights=`" in message
    assert remote.requests  # the server was asked
    assert not list(remote.cache.rglob(FILE))


def test_no_server_at_all(remote):
    remote.stop()
    with pytest.raises(OSError, match=rf"Could not download the weights {NAME!r}.*{pretrained.BASE_URL_ENV}"):
        weights_path(NAME)


def _assert_nothing_kept(remote):
    """No file at all in the cache: no partial download, nothing that could be loaded later."""
    assert not [path for path in remote.cache.rglob("*") if path.is_file()]


def test_dropped_connection_is_retried(remote):
    remote.faults[FILE] = ["drop"]
    path = weights_path(NAME)
    assert remote.requests == [f"/{FILE}"] * 2
    assert _sha256(path) == remote.registry[NAME]["sha256"]
    assert load_model(NAME).scale == 3


@pytest.mark.parametrize(
    "fault, error, match",
    [
        ("drop", OSError, rf"Could not download the weights {NAME!r} .*(Connection broken|IncompleteRead)"),
        ("short", ValueError, r"hash of downloaded file .* does not match the known hash"),
    ],
    ids=["dropped-connection", "truncated-body"],
)
def test_broken_download_is_never_kept_or_loaded(remote, monkeypatch, fault, error, match):
    remote.faults[FILE] = [fault] * 3  # every attempt (pooch retries twice)
    loaded = []
    monkeypatch.setattr(pretrained, "_load_cached", lambda *args: loaded.append(args))
    with pytest.raises(error, match=match):
        load_model(NAME)
    assert len(remote.requests) == 3
    assert not loaded
    _assert_nothing_kept(remote)


@pytest.mark.parametrize(
    "fault, setting, match",
    [
        ("slow", "DOWNLOAD_TIMEOUT", r"[Rr]ead timed out"),
        ("trickle", "DOWNLOAD_DEADLINE", r"the download took more than 0\.2 s"),
    ],
    ids=["no-answer", "trickling"],
)
def test_slow_server_is_an_error_not_a_hang(remote, monkeypatch, fault, setting, match):
    monkeypatch.setattr(pretrained, setting, 0.2)
    remote.faults[FILE] = [fault] * 3
    start = time.monotonic()
    with pytest.raises(OSError, match=rf"Could not download the weights {NAME!r} .*{match}"):
        weights_path(NAME)
    assert time.monotonic() - start < 10
    assert len(remote.requests) == 3
    _assert_nothing_kept(remote)


# ---------------------------------------------------------------- input range


def test_save_weights_records_the_input_range(tmp_path):
    path = tmp_path / "full.safetensors"
    save_weights(FSRCNN(2, d=8, s=4, m=1), path, input_range=(0.0, 1.0))
    assert input_range(path) == (0.0, 1.0)
    save_weights(FSRCNN(2, d=8, s=4, m=1), path)
    assert input_range(path) == pretrained.LUMA_RANGE  # none recorded: photo luma


@pytest.mark.parametrize("bad", [(0.5, 0.5), (-0.1, 1.0), (0.0, 1.5), ("a", 1)])
def test_save_weights_refuses_a_malformed_input_range(tmp_path, bad):
    path = tmp_path / "bad.safetensors"
    with pytest.raises(ValueError, match=r"input_range"):
        save_weights(FSRCNN(2, d=8, s=4, m=1), path, input_range=bad)
    assert not path.exists()


def test_malformed_recorded_input_range_is_a_clear_error(tmp_path):
    from safetensors.torch import save_file

    model = FSRCNN(2, d=8, s=4, m=1)
    path = tmp_path / "edited.safetensors"
    save_file(
        dict(model.state_dict()),
        str(path),
        metadata={"architecture": '{"d": 8, "s": 4, "m": 1}', "input_range": "[1, 0]"},
    )
    with pytest.raises(ValueError, match=r"input_range of `weights` file .* 0 <= low < high <= 1, got \[1, 0\]"):
        input_range(path)
