"""Every benchmark script runs with --quick and ends with its RESULT line.

Whether a target is met is not asserted (that depends on the machine); a benchmark that crashes,
or finishes without its RESULT line, fails here. Optional peers (bpy, CUDA) must skip cleanly.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
RESULT = re.compile(r"^RESULT (?P<name>\w+) ratio=(?P<ratio>\d+(\.\d+)?|n/a) target=\S+ (?P<verdict>pass|fail|skip)\b")


def run_bench(script: str, *args: str, timeout: float = 240) -> tuple[subprocess.CompletedProcess, re.Match | None]:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=BENCH.parent, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return proc, RESULT.match(lines[-1]) if lines else None


def check(script: str, name: str, *args: str) -> re.Match:
    proc, m = run_bench(script, "--quick", *args)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    assert m is not None, f"{script} printed no final RESULT line:\n{proc.stdout[-2000:]}"
    assert m["name"] == name
    if m["verdict"] != "skip":
        assert float(m["ratio"]) > 0
    return m


def test_e2e_reports_stage_split():
    proc, m = run_bench("bench_e2e.py", "--quick")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert m is not None and m["name"] == "e2e" and m["verdict"] in ("pass", "fail")
    for stage in ("simulate", "render", "label", "encode", "write", "wall"):
        assert re.search(rf"^\s+{stage}\s+\d+\.\d+ s", proc.stdout, re.MULTILINE), f"no {stage} line:\n{proc.stdout}"


def test_e2e_takes_recipe_overrides():
    """--set takes a recipe override as `synthdata run` does (a PTZ patrol here, which the
    recipe line names); a bad one gets the recipe loader's one line and a non-zero exit."""
    proc, m = run_bench("bench_e2e.py", "--quick", "--set", "scene.sensor.ptz.enabled=true")
    assert proc.returncode == 0 and m is not None and m["name"] == "e2e", proc.stderr[-3000:]
    assert "recipes/parking_lot_day.yaml scene.sensor.ptz.enabled=true;" in proc.stdout
    proc, m = run_bench("bench_e2e.py", "--quick", "--set", "scene.sensor.ptz.nope=1")
    assert proc.returncode != 0 and m is None
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "scene.sensor.ptz.nope: unknown key" in proc.stderr and "Traceback" not in proc.stderr


def test_recipes_table():
    assert check("bench_recipes.py", "recipes", "--only", "indoor_lobby")["verdict"] in ("pass", "fail")


def test_recipes_cpu_time_against_another_checkout():
    m = check("bench_recipes.py", "recipes_against", "--only", "indoor_lobby", "--against", str(BENCH.parent))
    assert m["verdict"] in ("pass", "fail")


def test_scaling():
    assert check("bench_scaling.py", "scaling")["verdict"] in ("pass", "fail")


def test_loader():
    assert check("bench_loader.py", "loader")["verdict"] in ("pass", "fail")


def test_memory():
    m = check("bench_memory.py", "memory")
    assert m["verdict"] in ("pass", "fail")


def test_peer_bpy_runs_or_skips_cleanly():
    check("bench_peer_bpy.py", "peer_bpy")


def test_peer_bpy_synthdata_side_in_worker_processes():
    """Without bpy, --blender-ms stands in for Blender: synthdata's side (two worker processes,
    each its share of the chunks) runs and labels every object of every frame."""
    proc, m = run_bench("bench_peer_bpy.py", "--quick", "--blender-ms", "200", "--workers", "2")
    assert proc.returncode == 0 and m is not None and m["verdict"] in ("pass", "fail"), proc.stderr[-3000:]
    rows = re.search(r"\((\d+) frames, (\d+) object rows, 2 worker", proc.stdout)
    alone, _ = run_bench("bench_peer_bpy.py", "--quick", "--blender-ms", "200", "--workers", "1")
    assert rows and int(rows[1]) == 64 and int(rows[2]) > 0, proc.stdout
    assert f"({rows[1]} frames, {rows[2]} object rows, 1 worker" in alone.stdout, alone.stdout


def test_gpu_runs_or_skips_cleanly():
    check("bench_gpu.py", "gpu")


def test_gpu_script_on_cpu_stand_in():
    m = check("bench_gpu.py", "gpu", "--dry-run-on-cpu", "--skip-e2e")
    assert m["verdict"] in ("pass", "fail")
    check("bench_gpu.py", "gpu_recipes", "--dry-run-on-cpu", "--recipes", "--only", "security_lobby")


def test_gpu_host_share_under_the_simulator():
    """--host-share measures the GPU path's host share with no GPU: a row per case, the host's
    and the CPU's milliseconds a frame and their ratio."""
    proc, m = run_bench("bench_gpu.py", "--quick", "--host-share", "--only", "security_lobby")
    assert proc.returncode == 0 and m is not None and m["name"] == "gpu_host_share", proc.stderr[-3000:]
    row = next(ln for ln in proc.stdout.splitlines() if ln.startswith("security_lobby"))
    host, cpu, ceiling = row.split()[1:4]
    assert float(host) > 0 and float(cpu) > 0 and abs(float(ceiling[:-1]) - float(cpu) / float(host)) < 0.06


def test_report():
    assert check("bench_report.py", "report")["verdict"] in ("pass", "fail")


def test_first_run():
    assert check("bench_first_run.py", "first_run")["verdict"] in ("pass", "fail")


def test_a_crashing_benchmark_is_caught():
    proc, m = run_bench("bench_e2e.py", "--quick", "--recipe", "no/such/recipe.yaml")
    assert proc.returncode != 0 and m is None


def test_every_benchmark_script_is_smoke_tested():
    covered = {"bench_e2e.py", "bench_recipes.py", "bench_scaling.py", "bench_loader.py", "bench_memory.py",
               "bench_peer_bpy.py", "bench_gpu.py", "bench_report.py", "bench_dense.py", "bench_scale.py",
               "bench_cameras.py", "bench_refiner.py", "bench_realism.py", "bench_sim2real.py",
               "bench_first_run.py"}
    assert {p.name for p in BENCH.glob("bench_*.py")} == covered


def test_realism():
    proc, m = run_bench("bench_realism.py", "--quick", "--steady", "--matched")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert m is not None and m["name"] == "realism" and m["verdict"] in ("pass", "fail")
    assert "AP41" in proc.stdout and "reach%" in proc.stdout and "AP50~" in proc.stdout and "inAP50" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.startswith("street_plaza "))
    # scale, inAP50, in%, AP50~, render s, hog s
    assert re.search(r"\d\.\d{2} +\d\.\d{3} +\d+% +\d\.\d{3} +\d+\.\d +\d+\.\d$", row)
    assert re.search(r"^real: one-by-one-person-detection +\d\.\d{3} ", proc.stdout, re.MULTILINE) or \
        "real reference: skipped" in proc.stdout
    assert "real reference: skipped" in proc.stdout or re.search(
        r"^matched geometry, .*: real people median -?\d\.\d\d, \d+ % above 0 of \d+ windows; plate_lobby's", proc.stdout,
        re.MULTILINE)


def test_matched_windows_keep_upright_whole_people():
    """bench_realism --matched: windows on plate_lobby's people who stand as the real clip's do."""
    sys.path.insert(0, str(BENCH))
    try:
        import hog_people as hp
    finally:
        sys.path.remove(str(BENCH))
    import cv2
    import numpy as np

    recipe = BENCH.parent / "recipes" / "plate_lobby.yaml"
    wins, who = hp.matched_windows(recipe, 2, 24, 1, 0.0)      # people come in over the first seconds
    assert wins and all(w.shape == (hp.WIN_H, hp.WIN_W, 3) and w.dtype == np.uint8 for w in wins)
    assert len(who) == len(wins) and {c for c, _ in who} <= {0, 1} and len(set(who)) < len(who)  # people in many frames
    scores = hp.window_scores(cv2.HOGDescriptor_getDefaultPeopleDetector().reshape(-1), wins)
    assert scores.shape == (len(wins),) and np.all(np.isfinite(scores))
    assert hp.matched_windows(recipe, 2, 24, 1, 1e6) == ([], [])       # none that tall
    assert len(hp.matched_windows(recipe, 2, 24, 3, 0.0)[0]) < len(wins)   # every third frame


def test_recipe_frames_ignore_people_the_frame_cuts_when_asked():
    """bench_sim2real's positives: people whole in the frame; those the edge cuts become ignored."""
    sys.path.insert(0, str(BENCH))
    try:
        import hog_people as hp
    finally:
        sys.path.remove(str(BENCH))
    import numpy as np

    recipe = BENCH.parent / "recipes" / "plate_lobby.yaml"      # people come in from under the camera, cut
    every = hp.recipe_frames(recipe, 12, 3, clip_frames=40)
    whole = hp.recipe_frames(recipe, 12, 3, clip_frames=40, max_truncation=0.02)
    moved = 0
    for (img, t0, i0, *_), (img1, t1, i1, *_) in zip(every, whole):
        assert np.array_equal(img, img1)
        rows = lambda a: {tuple(np.round(b, 3)) for b in a}            # noqa: E731
        assert rows(t1) <= rows(t0) and rows(t0) | rows(i0) == rows(t1) | rows(i1)
        H, W = img.shape[:2]
        for x, y, w, h in t1:                                        # a whole person's box lies inside
            assert x >= 0 and y >= 0 and x + w <= W and y + h <= H
        moved += len(t0) - len(t1)
    assert moved > 0
    later = hp.recipe_frames(recipe, 8, 2, clip_frames=40, first_clip=1)    # clips 1 and 2 (--draws)
    assert len(later) == 8 and all(np.array_equal(a[0], b[0]) for a, b in zip(later, every[4:]))
    sides = np.concatenate([s for *_, s in whole])
    assert sides.dtype == bool and len(sides) == sum(len(t) for _, t, *_ in whole)
    # bench_realism's "front" column: a person walking along +x is seen from behind, ahead of the
    # camera on the x axis, and side-on beside it on the y axis (or walking across it)
    assert not hp.side_on(0.0, 5.0, 0.0) and not hp.side_on(np.pi, 5.0, 0.0)
    assert hp.side_on(0.0, 0.0, 5.0) and hp.side_on(np.pi / 2, 5.0, 0.0) and not hp.side_on(np.pi / 2, 0.0, -5.0)


def test_sim2real_trains_and_tests_or_skips_without_the_real_clip():
    proc, m = run_bench("bench_sim2real.py", "--quick", "--draws", "2", timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert m is not None and m["name"] == "sim2real"
    if m["verdict"] != "skip":
        assert "synthdata: people_general_mix" in proc.stdout and "real photos (INRIA" in proc.stdout
        assert re.search(r"round 2: \d+ hard negatives", proc.stdout)
        assert "people_general_mix (draw 2)" in proc.stdout
        each = re.search(r"synthdata: people_general_mix +([\d.]+) .*%  ([\d.]+) ([\d.]+)$", proc.stdout, re.M)
        assert each and abs(float(each[1]) - (float(each[2]) + float(each[3])) / 2) < 1e-3     # the draws' mean


def test_sim2real_svm_separates_what_it_was_shown():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_sim2real as s2r
    finally:
        sys.path.remove(str(BENCH))
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3780)).astype(np.float32) * 0.1
    y = np.where(np.arange(400) < 150, 1.0, -1.0)
    X[y > 0, :40] += 0.3                       # positives differ in a few features
    w = s2r.train_svm(X, y)
    assert w.shape == (3781,) and w.dtype == np.float32
    score = X @ w[:-1] + w[-1]
    assert (score[y > 0] > 0).mean() > 0.95 and (score[y < 0] < 0).mean() > 0.95
    box = np.array([100.0, 40.0, 30.0, 90.0])
    x0, y0, ww, hh = s2r.window_of(box)
    assert hh == 120.0 and ww == 60.0 and x0 + ww / 2 == 115.0 and y0 + hh / 2 == 85.0
    back = s2r.person_boxes(np.array([[x0, y0, ww, hh]]))[0]     # window -> the box it was trained for
    assert np.allclose(back[[1, 3]], [40.0, 90.0]) and np.isclose(back[0] + back[2] / 2, 115.0)


def test_realism_scoring_and_caltech_boxes():
    sys.path.insert(0, str(BENCH))
    try:
        import hog_people as br
    finally:
        sys.path.remove(str(BENCH))
    import numpy as np

    slim = np.array([[100.0, 50.0, 28.0, 100.0]])           # a side-on person: width 0.28 x height
    hog = np.array([[90.5, 44.0, 47.0, 120.0]])             # HOG's box on it: right centre, aspect 0.39, 1.2x tall
    assert br.iou(hog, slim)[0, 0] < 0.5
    assert br.iou(br.caltech_boxes(hog), br.caltech_boxes(slim))[0, 0] >= 0.5
    std = br.caltech_boxes(slim)
    assert np.allclose(std, [[93.5, 50.0, 41.0, 100.0]])    # centre and height kept
    frames = [(hog, np.array([1.0]), slim, np.zeros((0, 4)))]
    assert br.average_precision(frames)[0] == 0.0
    frames41 = [(br.caltech_boxes(d), s, br.caltech_boxes(t), i) for d, s, t, i in frames]
    assert br.average_precision(frames41)[0] == 1.0
    # an unmatched detection above the match halves precision at full recall
    two = [(np.concatenate([slim + [300, 0, 0, 0], slim]), np.array([2.0, 1.0]), slim, np.zeros((0, 4)))]
    assert abs(br.average_precision(two)[0] - 0.5) < 1e-9
    # a detection on the upper half of an ignored person (one the frame's edge cuts): inside its
    # box by all of its area, IoU 0.5 at most; Caltech's rule leaves it out, IoU's counts it wrong
    cut = np.array([[300.0, 0.0, 41.0, 100.0]])
    part = np.array([[300.0, 0.0, 41.0, 45.0]])
    frames = [(np.concatenate([part, slim]), np.array([2.0, 1.0]), slim, cut)]
    assert np.allclose(br.covered(part, cut), 1.0) and br.iou(part, cut)[0, 0] < 0.5
    assert br.average_precision(frames)[0] == 1.0 and abs(br.average_precision(frames, "iou")[0] - 0.5) < 1e-9
    beside = [(np.concatenate([part + [60, 0, 0, 0], slim]), np.array([2.0, 1.0]), slim, cut)]  # outside it: wrong
    assert abs(br.average_precision(beside)[0] - 0.5) < 1e-9


def test_dense_reports_cost_size_and_codecs():
    proc, m = run_bench("bench_dense.py", "--quick")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert m is not None and m["name"] == "dense" and m["verdict"] in ("pass", "fail")
    for word in ("make ms", "encode ms", "read ms", "FFV1 KiB", "backflow", "classes"):
        assert word in proc.stdout


def test_cameras_simulates_once():
    proc, m = run_bench("bench_cameras.py", "--quick")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert m is not None and m["name"] == "cameras" and m["verdict"] in ("pass", "fail")
    assert "1 simulation(s) for 4 cameras" in proc.stdout and float(m["ratio"]) > 0


def test_scale():
    assert check("bench_scale.py", "scale")["verdict"] in ("pass", "fail")


def test_refiner_reports_cost_gap_and_flicker():
    proc, m = run_bench("bench_refiner.py", "--quick")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert m is not None and m["name"] == "refiner" and m["verdict"] in ("pass", "fail")
    for word in ("refine", "ms/frame", "classifier acc", "feature dist", "flicker", "renders", "refined"):
        assert word in proc.stdout
