"""The run folder after a kill at any point (issue 58): the log has its header and no row twice."""

import pytest
import torch
from train_helpers import log_rows, tiny_config

from skfsrcnn.train import Trainer
from skfsrcnn.train._runfiles import _atomic_write, best_on_disk, prepare_log

pytestmark = pytest.mark.usefixtures("one_torch_thread")

HEADER = "iteration,loss,lr,val_psnr,elapsed_s,lr_pixels_per_s\n"


def _row(iteration):
    return f"{iteration},0.5,0.001,,{iteration / 10:.1f},1000\n"


@pytest.mark.parametrize(
    "text",
    [
        "",  # killed before the header was written
        "itera",  # ... while it was written
        HEADER + _row(10) + _row(20),  # tidy: nothing to change
        HEADER + _row(10) + _row(20) + "3",  # a partial last row
        HEADER + _row(10) + _row(20) + _row(30) + _row(40),  # rows past the checkpoint
        HEADER + _row(10) + _row(10) + _row(20),  # a row written twice
        HEADER.replace("\n", "\r\n") + _row(10).replace("\n", "\r\n") + _row(20).replace("\n", "\r\n"),  # CRLF
        _row(10) + _row(20),  # no header at all
    ],
    ids=["empty", "cut-header", "tidy", "partial-row", "past-checkpoint", "duplicate", "crlf", "no-header"],
)
def test_a_damaged_log_is_repaired_to_the_checkpoint(tmp_path, text):
    path = tmp_path / "log.csv"
    path.write_bytes(text.encode())
    prepare_log(path, 20)
    expected = HEADER + (_row(10) + _row(20) if "10," in text else "")
    assert path.read_text() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]  # no temporary file left


def test_a_failed_write_keeps_the_file_and_leaves_no_temporary_one(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("scale: 3\n")

    def fail(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _atomic_write(path, fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]
    assert path.read_text() == "scale: 3\n"


def test_a_missing_log_gets_its_header(tmp_path):
    prepare_log(tmp_path / "log.csv", 0)
    assert (tmp_path / "log.csv").read_text() == HEADER


def test_resume_after_a_kill_that_left_an_empty_log(data_dirs, tmp_path):
    config = tiny_config(data_dirs, tmp_path, iterations=20, log_every=5, val_every=10, checkpoint_every=10)
    Trainer(config, progress=False).run()
    log = config.run_dir / "log.csv"
    log.write_text("")  # a kill just after the log was created
    (config.run_dir / "config.yaml").unlink()
    longer = tiny_config(data_dirs, tmp_path, iterations=30, log_every=5, val_every=10, checkpoint_every=10)
    Trainer(longer, resume=True, progress=False).run()
    assert [row["iteration"] for row in log_rows(config.run_dir)] == ["25", "30"]
    assert (config.run_dir / "config.yaml").read_text().startswith("name: tiny\n")


def test_resume_keeps_a_best_saved_after_the_checkpoint(data_dirs, tmp_path):
    """A kill between saving the best weights and the checkpoint: the better score on disk is kept."""
    config = tiny_config(data_dirs, tmp_path, iterations=20, val_every=10, checkpoint_every=10)
    trainer = Trainer(config, progress=False)
    trainer.run()
    state = torch.load(config.run_dir / "checkpoint.pt", weights_only=True)
    state["best_psnr"] = trainer.best_psnr - 5.0  # as if the checkpoint predates the best weights
    torch.save(state, config.run_dir / "checkpoint.pt")
    resumed = Trainer(config, resume=True, progress=False)
    assert best_on_disk(config.run_dir) == (pytest.approx(trainer.best_psnr, abs=1e-4), trainer.best_iteration)
    assert resumed.best_psnr == pytest.approx(trainer.best_psnr, abs=1e-4)
