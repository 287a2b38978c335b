"""``anisketch crawl|import|pairs|export`` end to end against the local Moebooru server."""

from __future__ import annotations

import io
import json

import pytest
from moebooru_server import MoebooruServer, encode, make_picture

from anisketch_desktop import cli
from anisketch_desktop.cli_dataset import main
from anisketch_desktop.core import xdog
from anisketch_desktop.dataset.approval import review_pairs, set_decision
from anisketch_desktop.dataset.crawl import NOTICE
from anisketch_desktop.dataset.store import DatasetStore


@pytest.fixture
def server():
    with MoebooruServer(n_posts=8) as srv:
        yield srv


def crawl_args(server, dataset, *extra):
    return ["crawl", "--site", server.url, "--dataset", str(dataset), "--delay", "0.01", *extra]


def test_crawl_needs_the_notice_accepted(server, tmp_path, capsys):
    assert main(crawl_args(server, tmp_path / "ds", "--count", "2")) == 2
    err = capsys.readouterr().err
    assert NOTICE in err and "--yes" in err
    assert not server.log and not (tmp_path / "ds").exists()


def test_crawl_accepts_an_interactive_yes(server, tmp_path, capsys, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Tty("y\n"))
    assert main(crawl_args(server, tmp_path / "ds", "--count", "1")) == 0
    assert "Continue? [y/N]" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", Tty("n\n"))
    assert main(crawl_args(server, tmp_path / "ds2", "--count", "1")) == 2


def test_crawl_resume_import_pairs_export(server, tmp_path, capsys):
    dataset = tmp_path / "ds"
    agent = "TestAgent/1.0 (+tests@example.org)"
    code = cli.main(crawl_args(server, dataset, "--count", "3", "--tags", "1girl", "--yes",
                               "--user-agent", agent))
    out, err = capsys.readouterr()
    assert code == 0 and "3 pictures for '1girl rating:safe'" in out
    assert "crawl: 100.0%" in err and "saved images/1000.jpg" in err
    assert {r.headers["User-Agent"] for r in server.log} == {agent}
    # running again with a larger count resumes: 2 more, no duplicates
    assert cli.main(crawl_args(server, dataset, "--count", "5", "--tags", "1girl", "--yes", "-q")) == 0
    with DatasetStore(dataset) as store:
        assert sorted(r.post_id for r in store.images()) == [996, 997, 998, 999, 1000]
    assert len(server.requests("/sample/")) == 5

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "own.png").write_bytes(encode(make_picture(77, 90, 70), "png"))
    assert cli.main(["import", "--dataset", str(dataset), str(mine)]) == 0
    assert "1 pictures imported" in capsys.readouterr().out

    assert cli.main(["pairs", "--dataset", str(dataset), "--preset", "pencil", "--sigma", "0.9"]) == 0
    assert "6 sketches written" in capsys.readouterr().out
    with DatasetStore(dataset) as store:
        rows = store.images()
        assert all(json.loads(r.sketch_params)["params"]["sigma"] == 0.9 for r in rows)
        pencil = xdog.PRESETS["pencil"]
        assert all(json.loads(r.sketch_params)["params"]["p"] == round(pencil.p, 6) for r in rows)
        set_decision(store, [r.id for r in review_pairs(store)[:2]], "approved")

    out_dir = tmp_path / "export"
    assert cli.main(["export", "--dataset", str(dataset), str(out_dir)]) == 0
    assert "2 approved pairs written" in capsys.readouterr().out
    assert len(list((out_dir / "color").iterdir())) == len(list((out_dir / "sketch").iterdir())) == 2


def test_clear_errors_and_exit_status(server, tmp_path, capsys):
    server.inject("/post.xml", "challenge")
    assert main(crawl_args(server, tmp_path / "ds", "--count", "2", "--yes")) == 1
    assert "error: " in (err := capsys.readouterr().err) and "browser challenge (Cloudflare)" in err
    assert main(["pairs", "--dataset", str(tmp_path / "nothing")]) == 1
    assert "not a dataset" in capsys.readouterr().err
    assert main(["pairs", "--dataset", str(tmp_path / "ds"), "--preset", "nope"]) == 1
    assert "Unknown XDoG preset" in capsys.readouterr().err
    assert main(["export", "--dataset", str(tmp_path / "ds"), str(tmp_path / "out")]) == 1
    assert "No approved pairs" in capsys.readouterr().err
    assert main(crawl_args(server, tmp_path / "ds", "--tags", "order:score", "--yes")) == 1
    assert "pages by post id" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(crawl_args(server, tmp_path / "ds", "--count", "0", "--yes"))
    assert exit_info.value.code == 2
