"""docs/kubernetes/daskcluster.yaml is a usable dask-kubernetes DaskCluster for `synthdata run`."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from synthdata.runner.cli import run_command

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _objects() -> dict[str, dict]:
    docs = list(yaml.safe_load_all((DOCS / "kubernetes" / "daskcluster.yaml").read_text()))
    return {d["kind"]: d for d in docs}


def _container(pod_spec: dict, name: str) -> dict:
    return next(c for c in pod_spec["containers"] if c["name"] == name)


def _doc_command() -> list[str]:
    text = (DOCS / "kubernetes.md").read_text()
    block = re.search(r"```bash\n(synthdata run .*?)\n```", text, re.DOTALL)
    assert block, "docs/kubernetes.md shows no `synthdata run` command"
    return shlex.split(block.group(1).replace("\\\n", " "))


def test_daskcluster_has_a_scheduler_and_gpu_workers_offering_gpu_resource():
    cluster = _objects()["DaskCluster"]
    assert cluster["apiVersion"] == "kubernetes.dask.org/v1"
    name = cluster["metadata"]["name"]
    scheduler = _container(cluster["spec"]["scheduler"]["spec"], "scheduler")
    assert scheduler["args"][:2] == ["dask", "scheduler"]
    assert {"name": "tcp-comm", "containerPort": 8786, "protocol": "TCP"} in scheduler["ports"]
    service = cluster["spec"]["scheduler"]["service"]
    assert service["selector"]["dask.org/cluster-name"] == name
    assert any(p["port"] == 8786 and p["targetPort"] == "tcp-comm" for p in service["ports"])
    worker = _container(cluster["spec"]["worker"]["spec"], "worker")
    args = worker["args"]
    assert args[:2] == ["dask", "worker"]
    assert args[args.index("--resources") + 1] == "GPU=1"
    assert args[args.index("--nthreads") + 1] == "1"
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert cluster["spec"]["worker"]["replicas"] >= 1


def test_driver_job_and_doc_use_the_scheduler_service_and_shared_output():
    objects = _objects()
    name = objects["DaskCluster"]["metadata"]["name"]
    job = objects["Job"]["spec"]["template"]["spec"]
    command = _container(job, "driver")["command"]
    for cmd in (command, _doc_command()):
        assert cmd[:2] == ["synthdata", "run"]
        assert cmd[cmd.index("--scheduler") + 1] == f"tcp://{name}-scheduler:8786"
        assert cmd[cmd.index("--device") + 1] == "cuda"
        assert cmd[cmd.index("--out") + 1].startswith("/data/")
        ctx = run_command.make_context("run", cmd[2:])   # the options really exist
        assert ctx.params["scheduler"] == f"tcp://{name}-scheduler:8786"
    claim = objects["PersistentVolumeClaim"]
    assert "ReadWriteMany" in claim["spec"]["accessModes"]
    workers = objects["DaskCluster"]["spec"]["worker"]["spec"]
    for pod in (workers, job):
        assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        mounts = {m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", [])}
        assert "/data" in mounts


def test_image_installs_synthdata_with_torch():
    dockerfile = (DOCS / "kubernetes" / "Dockerfile").read_text()
    installs = [ln for ln in dockerfile.splitlines() if ln.startswith("RUN pip install")]
    assert any("torch==" in ln for ln in installs)
    assert any("/opt/synthdata" in ln for ln in installs) and "COPY . /opt/synthdata" in dockerfile
    tag = re.search(r"docker build .* -t (\S+) \.", dockerfile).group(1)
    objects = _objects()
    pods = [objects["DaskCluster"]["spec"]["scheduler"]["spec"], objects["DaskCluster"]["spec"]["worker"]["spec"],
            objects["Job"]["spec"]["template"]["spec"]]
    assert {c["image"] for pod in pods for c in pod["containers"]} == {tag}
    assert "docs/kubernetes/daskcluster.yaml" in (DOCS / "kubernetes.md").read_text()
