"""Run of benchmarks/bench_floor.py in its quick setting (wine, two k, two seeds)."""

import json

from benchmarks import bench_floor


def test_quick_run_reports_every_fit_and_judges_the_floor(tmp_path, capsys):
    out = tmp_path / "floor.json"
    bench_floor.main(["--quick", "--members", "AutoencoderTransformer", "VAETransformer",
                      "--n-jobs", "1", "--out", str(out)])
    result = json.loads(out.read_text())
    rows = result["rows"]
    assert len(rows) == 2 * 2 * 2  # k in (2, 12), seeds 0 and 1, two members
    for row in rows:
        assert row["set"] == "wine" and row["k"] in (2, 12)
        assert row["best_epoch"] >= 0
        assert (row["p_value"] is None) or 0 <= row["p_value"] <= 1
        key = "elbo_minus_ppca" if row["member"] == "VAETransformer" else "ratio"
        assert key in row
    printed = capsys.readouterr().out
    assert "| AutoencoderTransformer | wine" in printed and "| VAETransformer" in printed
    assert printed.count("broken:") == sum(map(bench_floor.is_broken, rows))
