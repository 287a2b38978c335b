"""Training: resume after a kill gives the same weights, NaN stops cleanly, the recipe command exports a
usable model + card, colorize trains with the bin loss, and DDP runs under torchrun on CPU (gloo, 2 ranks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from anisketch_desktop.core import pipeline
from anisketch_desktop.core.errors import Cancelled, ModelLoadError
from anisketch_desktop.core.model_io import read_metadata
from training import cli, data, loop, losses

ROOT = Path(__file__).resolve().parents[1]
TINY = {"base_channels": 4, "depth": 2, "input_norm": "levels"}


def _pair(rng: np.random.Generator, size=(160, 192)):
    """A flat-coloured picture of random shapes and its line art (the shapes' outlines)."""
    h, w = size
    color = np.full((h, w, 3), 235, np.uint8)
    sketch = np.full((h, w), 255, np.uint8)
    for _ in range(6):
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        center = (int(rng.integers(20, w - 20)), int(rng.integers(20, h - 20)))
        r = int(rng.integers(10, 40))
        cv2.circle(color, center, r, c, -1)
        cv2.circle(sketch, center, r, 0, 2)
    return color, sketch


@pytest.fixture
def pairs_dir(tmp_path):
    root = tmp_path / "pairs"
    (root / "color").mkdir(parents=True)
    (root / "sketch").mkdir()
    rng = np.random.default_rng(0)
    rows = ["file\tcolor_size\tsketch_size\tclean_aligned"]
    for i in range(5):
        color, sketch = _pair(rng)
        name = f"p{i}.png"
        cv2.imwrite(str(root / "color" / name), color[..., ::-1])
        cv2.imwrite(str(root / "sketch" / name), sketch)
        rows.append(f"{name}\t192x160\t192x160\t1")
    (root / "pairs.tsv").write_text("\n".join(rows) + "\n")
    return root


def _recipe(tmp_path, task="sketch", steps=4, **train):
    recipe = {
        "name": f"tiny-{task}", "task": task, "model": TINY, "val_names": ["p4.png"],
        "stages": [{"name": "real", "data": {"clean": 1.0},
                    "train": {"steps": steps, "batch_size": 2, "crop": 64, "eval_every": 2, "ckpt_every": 2,
                              "robust_images": 0, "warmup": 1, "threads": 1, **train}}],
    }
    path = tmp_path / f"{task}.json"
    path.write_text(json.dumps(recipe))
    return path


def _samples(pairs_dir):
    return data.load_pairs(data.list_pairs(pairs_dir, "clean"))


def _args(run_dir, **kw):
    kw = {"steps": 6, **kw}
    return loop.TrainArgs(run_dir=str(run_dir), model=TINY, batch_size=2, crop=64, eval_every=3,
                          ckpt_every=2, robust_images=0, warmup=1, threads=1, **kw)


def test_resume_after_a_kill_matches_an_uninterrupted_run(pairs_dir, tmp_path):
    samples = _samples(pairs_dir)
    train, val = samples[:4], samples[4:]
    straight = loop.train(_args(tmp_path / "a"), train, val, quiet=True)
    calls = {"n": 0}

    def cancel_after_3():
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(Cancelled, match="resumed"):
        loop.train(_args(tmp_path / "b"), train, val, cancel=cancel_after_3, quiet=True)
    assert loop.load_checkpoint(tmp_path / "b" / "ckpt.pt")["step"] == 3
    resumed = loop.train(_args(tmp_path / "b"), train, val, quiet=True)
    assert resumed["step"] == straight["step"] == 6
    a = loop.load_checkpoint(tmp_path / "a" / "ckpt.pt")["model"]
    b = loop.load_checkpoint(tmp_path / "b" / "ckpt.pt")["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["best"] == straight["best"]
    # logs: CSV/JSON rows for every step, an eval table and the loss curve
    run = tmp_path / "b"
    assert (run / "loss.png").stat().st_size > 1000
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert sorted(set(steps)) == list(range(1, 7))
    assert "f1" in (run / "eval.csv").read_text().splitlines()[0]


def test_wise_exports_the_average_of_the_start_and_the_tuned_weights(pairs_dir, tmp_path):
    samples = _samples(pairs_dir)
    train, val = samples[:4], samples[4:]
    loop.train(_args(tmp_path / "start", steps=2), train, quiet=True)
    start = loop.load_checkpoint(tmp_path / "start" / "ckpt.pt")["best_model"]
    init = {"init_from": str(tmp_path / "start" / "ckpt.pt"), "photometric": 0.0}
    tuned = loop.train(_args(tmp_path / "tuned", **init), train, val, quiet=True)
    calls = {"n": 0}

    def cancel_after_4():
        calls["n"] += 1
        return calls["n"] > 4

    with pytest.raises(Cancelled):  # interrupted and resumed: the start weights come from the checkpoint
        loop.train(_args(tmp_path / "wise", wise=0.5, **init), train, val, cancel=cancel_after_4, quiet=True)
    wise = loop.train(_args(tmp_path / "wise", wise=0.5, **init), train, val, quiet=True)
    a = loop.load_checkpoint(tmp_path / "tuned" / "ckpt.pt")
    b = loop.load_checkpoint(tmp_path / "wise" / "ckpt.pt")
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])  # the same fine-tuning
    for key, value in b["best_model"].items():
        if value.is_floating_point():
            assert torch.allclose(value, 0.5 * start[key] + 0.5 * a["best_model"][key], atol=1e-6), key
            moved = not torch.equal(start[key], a["best_model"][key])
            assert not moved or not torch.equal(value, a["best_model"][key])
    # the figures reported are those of the exported (averaged) weights, the tuned ones kept beside them
    assert wise["best"]["wise"] == 0.5 and wise["best"]["tuned_score"] == pytest.approx(tuned["best"]["score"])
    exported = loop.best_model_from(tmp_path / "wise")
    assert loop.evaluate(exported, val)["f1"] == pytest.approx(wise["best"]["f1"])
    with pytest.raises(ValueError, match="wise must be within"):
        loop.train(_args(tmp_path / "bad", wise=1.5, **init), train, val, quiet=True)
    assert not (tmp_path / "bad" / "ckpt.pt").exists()  # refused before a step was trained
    again = loop.train(_args(tmp_path / "wise", wise=0.5, **init), train, val, quiet=True)  # finished: no 2nd mix
    c = loop.load_checkpoint(tmp_path / "wise" / "ckpt.pt")["best_model"]
    assert again["best"] == wise["best"] and all(torch.equal(c[k], b["best_model"][k]) for k in c)


def test_nan_loss_stops_with_a_clear_message(pairs_dir, tmp_path, monkeypatch):
    real = losses.sketch_loss

    def poisoned(logits, target, *a, **kw):
        loss, parts = real(logits, target, *a, **kw)
        return loss * float("nan"), parts

    monkeypatch.setattr(losses, "sketch_loss", poisoned)
    with pytest.raises(loop.TrainingDiverged, match=r"loss became nan at step 0"):
        loop.train(_args(tmp_path / "nan"), _samples(pairs_dir), quiet=True)


def test_recipe_command_exports_a_model_the_app_uses_with_a_card(pairs_dir, tmp_path):
    out = tmp_path / "models" / "tiny.safetensors"
    out.parent.mkdir()
    code = cli.main(["--recipe", str(_recipe(tmp_path)), "--pairs", str(pairs_dir),
                     "--runs", str(tmp_path / "runs"), "--output", str(out)])
    assert code == 0
    meta = read_metadata(out)
    assert json.loads(meta["anisketch_config"])["task"] == "sketch"
    assert "f1" in json.loads(meta["metrics"])["real"]
    card = out.with_suffix(".md").read_text()
    assert "tiny-sketch" in card and "python -m training" in card and "| real |" in card
    picture = cv2.imread(str(pairs_dir / "color" / "p0.png"))[..., ::-1]
    sketch = pipeline.sketch(picture, model=out, device="cpu")
    assert sketch.shape == picture.shape[:2] and sketch.dtype == np.uint8


def test_colorize_recipe_trains_and_reports_psnr(pairs_dir, tmp_path):
    summary = cli.run_recipe(str(_recipe(tmp_path, "colorize")), str(pairs_dir), str(tmp_path / "runs"),
                             str(tmp_path / "c.safetensors"))
    best = summary["real"]["best"]
    assert 0 < best["psnr"] < 60 and 0 <= best["ssim"] <= 1 and best["colorfulness"] >= 0
    lines = cv2.imread(str(pairs_dir / "sketch" / "p0.png"), cv2.IMREAD_GRAYSCALE)
    rgb = pipeline.colorize(lines, model=tmp_path / "c.safetensors", device="cpu")
    assert rgb.shape == (*lines.shape, 3)


def test_ddp_on_cpu_with_two_processes(pairs_dir, tmp_path):
    out = tmp_path / "ddp.safetensors"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "training", "--recipe", str(_recipe(tmp_path, steps=4)), "--pairs", str(pairs_dir),
         "--runs", str(tmp_path / "runs"), "--output", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out.is_file() and out.with_suffix(".md").is_file()
    summaries = [json.loads(chunk) for chunk in _json_objects(proc.stdout)]
    assert len(summaries) == 2  # one per rank
    assert all(s["real"]["world"] == 2 and s["real"]["ranks_in_sync"] for s in summaries)


def _json_objects(text: str):
    """Top-level JSON objects printed one after another (each rank prints its summary)."""
    depth, start = 0, None
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                yield text[start : i + 1]


def test_train_on_a_dataset_saves_to_the_user_models_folder(pairs_dir, tmp_path, _isolated_home):
    from anisketch_desktop import cli as app_cli
    from anisketch_desktop.core import models

    code = app_cli.main(["train", "--dataset", str(pairs_dir), "--recipe", str(_recipe(tmp_path, steps=2)),
                         "--runs", str(tmp_path / "runs")])
    assert code == 0
    saved = _isolated_home / "models" / "pairs-sketch.safetensors"
    assert saved.is_file() and saved.with_suffix(".md").is_file()
    assert [m.path for m in models.list_models("sketch") if not m.shipped] == [saved]
    before = saved.read_bytes()
    assert app_cli.main(["train", "--dataset", str(pairs_dir), "--recipe", str(_recipe(tmp_path, steps=2)),
                         "--runs", str(tmp_path / "runs2")]) == 0
    assert saved.read_bytes() == before  # the earlier model is kept; the new one gets its own name
    assert (_isolated_home / "models" / "pairs-sketch-2.safetensors").is_file()


def test_train_reports_a_missing_folder(tmp_path, capsys):
    assert cli.main(["--pairs", str(tmp_path / "nope")]) == 2
    assert "not found" in capsys.readouterr().err


def test_colour_folder_with_xdog_targets_trains_without_line_art(pairs_dir, tmp_path, _isolated_home, monkeypatch,
                                                                  capsys):
    monkeypatch.chdir(tmp_path)  # the XDoG cache goes to ./runs/cache
    code = cli.main(["--colors", str(pairs_dir / "color"), "--xdog", "default",
                     "--recipe", str(_recipe(tmp_path, steps=2)), "--runs", str(tmp_path / "runs")])
    assert code == 0
    assert (_isolated_home / "models" / "color-sketch.safetensors").is_file()
    cached = sorted((tmp_path / "runs" / "cache" / "xdog-default-color").glob("*.png"))
    assert [p.stem for p in cached] == [f"p{i}" for i in range(5)]
    target = cv2.imread(str(cached[0]), cv2.IMREAD_GRAYSCALE)
    assert target.shape == (160, 192) and (target < 128).mean() > 0.005  # the circles' outlines are ink
    code = cli.main(["--colors", str(pairs_dir / "color"), "--xdog", "nope",
                     "--recipe", str(_recipe(tmp_path, steps=2))])
    assert code == 1 and "Unknown XDoG preset 'nope'" in capsys.readouterr().err  # one line, no traceback


def test_evaluate_scores_models_against_xdog_and_colour_baselines(pairs_dir, tmp_path, tiny_sketch_model,
                                                                   tiny_colorize_model):
    from training import evaluate

    recipe = str(_recipe(tmp_path))  # validation: p4.png
    sk = evaluate.evaluate_sketch(str(pairs_dir), [str(tiny_sketch_model)], robust=True, recipe=recipe)
    assert {"xdog:default", "xdog:auto", "tiny_sketch"} <= set(sk)
    # XDoG finds the outlines of flat circles well; a random tiny U-Net does not
    assert sk["xdog:default"]["f1"] > 0.5 > sk["tiny_sketch"]["f1"]
    assert set(sk["xdog:default"]["robust_each"]) == {"dark x0.5", "washed out", "contrast x0.45", "gamma 2.2",
                                                      "noise s8", "jpeg q30", "half res"}
    grid = tmp_path / "grid.png"
    col = evaluate.evaluate_colorize(str(pairs_dir), str(tiny_colorize_model), str(grid), recipe=recipe)
    assert set(col) == {"model", "sketch as gray", "flat mean colour", "flat mean colour of the answers"}
    assert col["sketch as gray"]["colorfulness"] == 0.0 and col["flat mean colour"]["psnr"] > 0
    assert cv2.imread(str(grid)).shape[0] == 256 + 4  # one validation row: sketch | colorized | truth


def test_colorize_selection_prefers_colourful_checkpoints():
    grey = {"psnr": 12.0, "ssim": 0.7, "colorfulness_ratio": 0.3}
    colourful = {"psnr": 11.5, "ssim": 0.65, "colorfulness_ratio": 0.6}
    assert loop.selection_score(colourful) > loop.selection_score(grey)
    assert loop.selection_score({**colourful, "psnr": 11.0}) < loop.selection_score(colourful)
    assert loop.selection_score({"f1": 0.8}) == 0.8


def test_colorize_rgb_term_is_the_decoded_pictures_squared_error():
    from anisketch_desktop.core.unet_model import UNet, UNetConfig

    torch.manual_seed(0)
    model = UNet(UNetConfig.colorize(base_channels=4, depth=2, multiply_lines=True))
    x, target = torch.rand(2, 1, 32, 32), torch.rand(2, 3, 32, 32)
    raw = model(x)
    base, parts0 = losses.colorize_loss(raw, target, rebalance=None)
    total, parts = losses.colorize_loss(raw, target, rebalance=None, rgb_weight=3.0, to_image=model.to_image)
    mse = float(((model.to_image(raw) - target) ** 2).mean().detach())
    assert parts["mse_rgb"] == pytest.approx(mse) and "mse_rgb" not in parts0
    assert float(total.detach()) == pytest.approx(float(base.detach()) + 3.0 * mse, rel=1e-5)
    total.backward()  # the RGB term reaches the lightness head through the Lab decoding
    assert model.head.conv.weight.grad.abs().sum() > 0


def test_card_evaluation_section_is_inserted_once_and_replaced(tmp_path):
    from training import card

    path = tmp_path / "m.md"
    path.write_text(card.render({"name": "m", "task": "colorize", "stages": []}, {}, "cmd", 10, 2_000_000))
    res = {"model": {"psnr": 11.2, "ssim": 0.63, "colorfulness_ratio": 0.7}}
    card.add_evaluation(path, "colorize", res)
    card.add_evaluation(path, "colorize", {"model": {**res["model"], "psnr": 12.5}})
    text = path.read_text()
    assert text.count(card.EVAL_HEADER) == 1 and "| model | 12.50 | 0.630 | 0.70 |" in text and "11.20" not in text
    assert text.index(card.EVAL_HEADER) < text.index("## Limits")


def test_teacher_targets_are_the_teachers_line_art(pairs_dir, tmp_path, tiny_sketch_model, tiny_colorize_model,
                                                   monkeypatch):
    from training.teacher_targets import TeacherTarget

    monkeypatch.chdir(tmp_path)  # the target cache lives under ./runs/cache
    recipe = {"val_names": ["p4.png"]}
    stage = {"data": {"teacher": 1.0, "teacher_model": str(tiny_sketch_model)}}
    train, val = cli.build_samples(recipe, stage, str(pairs_dir))
    assert [s.name for s in val] == ["p4.png"]
    assert sorted(s.name for s in train) == [f"p{i}.png" for i in range(4)]  # never the validation picture
    assert {s.source for s in train} == {"teacher"} and sum(s.weight for s in train) == pytest.approx(1.0)
    teacher = TeacherTarget(tiny_sketch_model)
    assert teacher.engine.min_megapixels == 0.0  # targets at the picture's own size, whatever the model's setting
    for s in train:
        rgb = s.color.astype(np.float32) / 255.0
        expected = 0.5 * (teacher.engine.run(rgb)[..., 0] + teacher.engine.run(rgb[:, ::-1].copy())[:, ::-1, 0])
        assert s.sketch.shape == s.color.shape[:2] and s.sketch.dtype == np.uint8
        assert np.abs(s.sketch.astype(np.float32) - expected * 255).max() <= 0.51  # averaged over the mirror
    caches = list((tmp_path / "runs" / "cache").glob("teacher-tiny_sketch-*/*.png"))
    assert len(caches) == 4
    with pytest.raises(ValueError, match="must be a sketch model"):
        TeacherTarget(tiny_colorize_model)
    stage["data"]["teacher_model"] = str(tmp_path / "missing.safetensors")
    with pytest.raises(ModelLoadError, match="Teacher model"):  # library code raises errors, never SystemExit
        cli.build_samples(recipe, stage, str(pairs_dir))


def test_a_broken_recipe_is_one_line_naming_the_file_before_any_training(pairs_dir, tmp_path, capsys):
    from training.recipes import load_recipe, shipped_recipes

    assert {"sketch", "sketch_hq", "colorize"} <= set(shipped_recipes())
    for name in shipped_recipes():  # every shipped recipe passes its own check
        load_recipe(name)
    misspelt = _recipe(tmp_path, stamp_sise=0.4)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"name": "x", "stages": [')
    bad_model = tmp_path / "model.json"
    bad_model.write_text(json.dumps({**json.loads(misspelt.read_text()), "model": {"base_chanels": 8}}))
    cases = [(misspelt, "stage real: unknown training option(s) stamp_sise"), (bad_json, "not valid JSON"),
             (bad_model, "unknown model option(s) base_chanels"), (tmp_path / "gone.json", "no such recipe (shipped: ")]
    for path, reason in cases:
        code = cli.main(["--recipe", str(path), "--pairs", str(pairs_dir), "--runs", str(tmp_path / "runs")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 1 and len(err) == 1 and str(path) in err[0] and reason in err[0], err
    assert not (tmp_path / "runs").exists()  # nothing was trained or written
