"""One process of the data-parallel tests (tests/test_parallel.py), launched by torchrun:

    torchrun --standalone --nproc-per-node 2 tests/ddp_worker.py DATA.npy OUT_DIR PARAMS_JSON

Fits every member with ``data_parallel=True`` on the rows in DATA.npy and writes what this
rank saw to OUT_DIR/rank<r>.json; rank 0 alone saves the AutoencoderTransformer to
OUT_DIR/model.safetensors. Then it fits on data whose width differs by rank and records the
error.
"""

import contextlib
import io
import json
import sys
from pathlib import Path

MEMBERS = ("AutoencoderTransformer", "ContractiveAutoencoder", "DenoisingAutoencoder",
           "VAETransformer")


def fit_every_member(X, params, out_dir):
    import sklearn_ae
    from sklearn_ae._parallel import rank

    seen = {}
    for name in MEMBERS:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            est = getattr(sklearn_ae, name)(data_parallel=True, verbose=1, **params).fit(X)
        if name == "AutoencoderTransformer" and rank() == 0:
            sklearn_ae.save(est, out_dir / "model.safetensors")
        seen[name] = {
            "codes": est.transform(X).tolist(),
            "loss_curve": est.loss_curve_.tolist(),
            "printed": bool(printed.getvalue()),
        }
    return seen


def width_error(X, params):
    """The error of a fit where rank r drops r columns."""
    from sklearn_ae import AutoencoderTransformer
    from sklearn_ae._parallel import rank

    try:
        AutoencoderTransformer(data_parallel=True, **params).fit(X[:, : X.shape[1] - rank()])
    except ValueError as exc:
        return str(exc)
    return None


def defaults_fit(X):
    """A fit with the default precision ("auto", measured on each rank) and schedule, and
    early stopping's floor (a test over every rank's validation rows)."""
    from sklearn_ae import AutoencoderTransformer

    est = AutoencoderTransformer(n_components=1, max_epochs=3, random_state=0,
                                 data_parallel=True).fit(X)
    stopper = dict(est.net_.callbacks_)["early_stopping"]
    return {"precision": est.precision_, "best_epoch": est.best_epoch_,
            "p_value": stopper.floor_p_value_, "codes": est.transform(X).tolist()}


def main(data_path, out_dir, params):
    import numpy as np
    import torch

    from sklearn_ae._parallel import rank

    torch.set_num_threads(1)
    X, out_dir, params = np.load(data_path), Path(out_dir), json.loads(params)
    result = {
        "members": fit_every_member(X, params, out_dir),
        "width_error": width_error(X, params),
        "defaults": defaults_fit(X),
    }
    (out_dir / f"rank{rank()}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
