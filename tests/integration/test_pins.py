# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""--pin-dir is not trusted blindly (docs/security.md, "Pins"): skiffd
removes only pins it can prove are its own (its owner map), refuses a
directory that is not on bpffs or that someone other than root can change,
resolves relative paths, and says what to do about each refusal.  Each
refusal leaves the directory and the interface untouched."""

import os
import signal
import subprocess

import pytest

import skiffnet as sn
from conftest import standard_args

pytestmark = pytest.mark.usefixtures("need_skiff")


def run_skiffd(topo, pin, cwd=None, timeout=20):
    argv = [sn.SKIFFD, "--iface", topo.dut_if, "--pin-dir", pin, *standard_args(topo)]
    if cwd:
        argv = ["env", "-C", cwd, *argv]
    p = sn.ns_run(topo.dut_ns, argv, check=False, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


@pytest.fixture
def scratch(topo):
    """A directory on bpffs for the test to furnish; removed afterwards."""
    d = topo.new_pin_dir()
    os.mkdir(d, 0o755)
    yield d
    subprocess.run(["rm", "-rf", str(d)], check=False)


def bpftool_map(path, name):
    sn.run(["bpftool", "map", "create", path, "type", "array", "key", "4", "value", "4",
            "entries", "1", "name", name])


def test_another_programs_pin_dir_is_refused_and_left_intact(topo, scratch):
    # another application's maps, one of them named like one of skiffd's
    bpftool_map(scratch / "config", "config")
    bpftool_map(scratch / "otherapp", "otherapp")
    rc, out = run_skiffd(topo, scratch)
    assert rc == 2, out
    assert "cannot prove" in out and str(scratch) in out, out
    assert "removed" not in out, out
    assert sorted(os.listdir(scratch)) == ["config", "otherapp"], os.listdir(scratch)
    assert topo.dut_xdp() is None


def test_a_previous_skiffds_pins_beside_a_foreign_one_are_all_left(topo):
    d = sn.Skiffd(topo, standard_args(topo)).start()
    d.proc.kill()
    d.proc.wait()
    d._forget()
    # what the killed skiffd pinned, besides the owner map that proves it
    names = os.listdir(d.pin_dir)
    assert "skiffd_owner" in names and "stats" in names, names
    left = len(names) - 1
    try:
        bpftool_map(d.pin_dir / "otherapp", "otherapp")
        rc, out = run_skiffd(topo, d.pin_dir)
        assert rc == 2, out
        assert "otherapp" in out and "not a skiffd map" in out, out
        assert (d.pin_dir / "otherapp").exists() and (d.pin_dir / "stats").exists()
    finally:
        os.unlink(d.pin_dir / "otherapp")
    # a clean start now: the owner map proves the rest is skiffd's
    again = sn.Skiffd(topo, standard_args(topo), pin_dir=d.pin_dir).start()
    try:
        assert f"removed {left} stale pins of a previous skiffd" in again.output(), again.output()
    finally:
        assert again.stop() == 0, again.output()
    assert not d.pin_dir.exists(), list(d.pin_dir.iterdir())


def test_a_killed_skiffds_pins_are_removed_by_the_next(topo):
    first = sn.Skiffd(topo, standard_args(topo)).start()
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    first._forget()
    assert (first.pin_dir / "skiffd_owner").exists()
    second = sn.Skiffd(topo, standard_args(topo), pin_dir=first.pin_dir).start()
    try:
        assert f"previous skiffd (pid {first.proc.pid})" in second.output(), second.output()
    finally:
        assert second.stop() == 0, second.output()
    assert not first.pin_dir.exists()


def test_an_existing_empty_directory_is_used_and_left_in_place(topo, scratch):
    d = sn.Skiffd(topo, standard_args(topo), pin_dir=scratch).start()
    assert (scratch / "skiffd_owner").exists() and (scratch / "stats").exists()
    assert d.stop() == 0, d.output()
    assert scratch.is_dir() and os.listdir(scratch) == [], os.listdir(scratch)


@pytest.mark.parametrize("how", ["owned_by_nobody", "world_writable", "group_writable",
                                 "parent_owned_by_nobody"])
def test_a_pin_dir_others_can_change_is_refused(topo, scratch, how):
    target = scratch
    if how == "owned_by_nobody":
        os.chown(scratch, 65534, 65534)
        want = "belongs to uid 65534"
    elif how == "world_writable":
        os.chmod(scratch, 0o777)
        want = "writable by others"
    elif how == "group_writable":
        os.chmod(scratch, 0o775)
        want = "writable by its group"
    else:
        os.chown(scratch, 65534, 65534)
        target = scratch / "pins"
        want = "belongs to uid 65534"
    rc, out = run_skiffd(topo, target)
    assert rc == 2, out
    assert want in out and ("chown root" in out or "chmod go-w" in out), out
    assert len(out.strip().splitlines()) == 1, out
    assert topo.dut_xdp() is None
    assert not (target / "stats").exists()


def test_a_relative_pin_dir_not_on_bpffs_names_the_resolved_path(topo, tmp_path):
    rc, out = run_skiffd(topo, "relpins", cwd=tmp_path)
    assert rc == 2, out
    assert f"{tmp_path}/relpins (from relpins)" in out, out
    assert "not on bpffs" in out and "under /sys/fs/bpf" in out, out
    assert "mount -t bpf bpf /`" not in out, out
    assert not (tmp_path / "relpins").exists()


def test_an_absolute_pin_dir_not_on_bpffs_says_which_file_system(topo, tmp_path):
    rc, out = run_skiffd(topo, tmp_path / "pins")
    assert rc == 2, out
    assert f"--pin-dir {tmp_path}/pins is on " in out and "not on bpffs" in out, out


def test_a_relative_pin_dir_on_bpffs_is_resolved(topo):
    name = topo.new_pin_dir().name
    d = sn.Skiffd(topo, standard_args(topo), pin_dir=sn.BPFFS / name)
    i = d.argv.index("--pin-dir")
    d.argv[i + 1] = name
    d.argv = ["env", "-C", sn.BPFFS, *d.argv]
    d.start()
    try:
        assert d.ctl_json("status")["pin_dir"] == str(sn.BPFFS / name)
    finally:
        assert d.stop() == 0, d.output()
    assert not (sn.BPFFS / name).exists()
