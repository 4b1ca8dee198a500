"""A persistence format that runs no code when it is loaded.

``pickle`` and ``joblib`` restore any object, so loading a file runs whatever code its
author put there. :func:`save` writes a fitted estimator as a `safetensors
<https://huggingface.co/docs/safetensors>`_ file instead: tensors (the network's weights,
numeric fitted arrays) and a header of JSON strings (parameters, the other fitted
attributes, the training history). :func:`load` reads data only; it builds the estimator
from a fixed whitelist of classes and never unpickles or imports anything by name.

JSON cannot hold tuples, non-finite floats or numpy arrays, so those are written as small
marker objects ``{"__type__": ...}``; every other JSON value stands for itself.

An estimator built on another (a classifier's ``autoencoder`` parameter and its fitted
``autoencoder_``) stores it as an ``"estimator"`` marker in place of the value: its class,
parameters and, if fitted, its fitted attributes and history, with its tensors under the
value's name (``autoencoder_.module.*``, ``autoencoder_.attr.*``); a
:class:`~sklearn.frozen.FrozenEstimator` around it is a ``"frozen"`` marker. Such files
have ``format_version`` 2; the others keep 1, so older versions still read them.
"""

import errno
import hashlib
import json
import math
import os
import re
import stat
from numbers import Integral, Real

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as serialize
from sklearn.base import BaseEstimator
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from ._array_api import is_fitted_attribute_name, to_host
from ._base import _BaseAutoencoder
from ._device import cpu_copy
from ._restore import estimator_from_params
from ._warn import warn

FORMAT = "sklearn_ae"
# the network is rebuilt from its sizes alone: files written by 0.1.0 also carry the shapes
# of the PCA start ("module_start_spec"), which loading ignores. Version 2 adds estimators
# nested in parameters and fitted attributes; files without them are written as version 1.
FORMAT_VERSION = 2
_NESTED = frozenset({"estimator", "frozen"})

# the only classes a file can name: loading looks the name up here, never imports it
_CLASSES = _BaseAutoencoder._members_by_name

# the header (safetensors' JSON: tensor offsets and the metadata) is at most this long.
# A real header is about 3 KB plus ~210 bytes per epoch of history (2.1 MB for 10,000
# epochs); decoding crafted JSON takes up to ~50 times its length in memory (measured:
# 790 MB for 16 MB of empty dicts), so this keeps it near 400 MB while leaving room for
# ~35,000 epochs or wide feature names
MAX_HEADER_BYTES = 8 * 2**20
# values nested deeper than this are refused (a real file nests 4 deep)
MAX_DEPTH = 32
# the header entries save writes (and module_start_spec, written by 0.1.0)
_HEADER_KEYS = frozenset({
    "format", "format_version", "class", "sklearn_ae_version", "params", "attributes",
    "history", "checksum", "module_start_spec",
})

_MODULE_PREFIX = "module."
_ATTR_PREFIX = "attr."
_MARKER = "__type__"

# numpy dtypes stored as tensors; safetensors and torch share these exactly
_TENSOR_DTYPES = {
    np.dtype(name)
    for name in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                 "float64")
}


# ------------------------------------------------------------------------ public API
def save(estimator, path):
    """Save a fitted estimator to a file that can be loaded without running code.

    The file is a `safetensors <https://huggingface.co/docs/safetensors>`_ file holding
    the network's weights and the numeric fitted arrays as tensors, and the parameters,
    the other fitted attributes and the training history as JSON in its header, with a
    SHA-256 checksum over all of it. Unlike a pickle, it can be read with
    :func:`load` from an untrusted source.

    Parameters
    ----------
    estimator : a member of the family
        A fitted ``AutoencoderTransformer``, ``DenoisingAutoencoder``, ``VAETransformer``,
        ``ContractiveAutoencoder``, ``AutoencoderClassifier``, ``AutoencoderRegressor``
        (or any other public class of the package), not a subclass of one. A classifier
        or regressor is stored with its fitted autoencoder and its ``autoencoder``
        parameter (a ``FrozenEstimator`` with the prefit autoencoder's weights).
    path : str or os.PathLike
        Where to write the file (conventionally ending in ``.safetensors``); an existing
        file is overwritten. A new file gets the mode ``open()`` gives (``0o666`` less
        the umask).

    Raises
    ------
    TypeError
        If ``estimator`` is not one of the classes above, a parameter or fitted
        attribute has a type the format cannot hold (the message names it), or ``path``
        is ``bytes``.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``optimizer`` is an optimizer class rather than a name (a class cannot be
        stored without its code), or the header would exceed ``MAX_HEADER_BYTES``
        (8 MiB, about 35,000 epochs of history), which :func:`load` refuses.
    OSError
        If the file cannot be written (missing folder, no permission, full disk), as
        from ``open()``.

    Warns
    -----
    UserWarning
        If ``callbacks`` is set, or ``random_state`` is a ``RandomState`` instance:
        neither can be stored as data, and the loaded estimator has ``None`` instead.
        Also for fitted attributes set by hand (not ones a fit sets): they are not saved.

    See Also
    --------
    load : Load an estimator saved by this function.

    Notes
    -----
    The optimizer's state (e.g. Adam's moment estimates) is not stored: a loaded
    estimator refitted with ``warm_start=True`` continues from the saved weights with a
    fresh optimizer.

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> import numpy as np
    >>> from sklearn_ae import AutoencoderTransformer, save, load
    >>> X = np.random.RandomState(0).randn(50, 4)
    >>> est = AutoencoderTransformer(n_components=2, max_epochs=2, random_state=0).fit(X)
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "model.safetensors")
    >>> save(est, path)
    >>> loaded = load(path)
    >>> np.array_equal(loaded.transform(X), est.transform(X))
    True
    >>> shutil.rmtree(folder)
    """
    path = _check_path(path)
    cls = type(estimator)
    if _CLASSES.get(cls.__name__) is not cls:
        raise TypeError(
            f"save() writes {', '.join(sorted(_CLASSES))} estimators; got an object of "
            f"type {cls.__module__}.{cls.__qualname__}. Use pickle or joblib for other "
            "objects."
        )
    check_is_fitted(estimator)

    import sklearn_ae  # the package, fully imported by now (not at this module's import)

    tensors = {}
    record = _record(estimator, tensors, prefix="")
    nested = any(
        isinstance(value, dict) and value.get(_MARKER) in _NESTED
        for entry in ("params", "attributes") for value in record[entry].values()
    )
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION if nested else 1),
        "class": cls.__name__,
        "sklearn_ae_version": str(getattr(sklearn_ae, "__version__", "unknown")),
        **{entry: _dumps(record[entry]) for entry in ("params", "attributes", "history")},
    }
    metadata["checksum"] = _checksum(metadata, tensors)
    _write(path, serialize(tensors, metadata=metadata))


def _record(estimator, tensors, prefix):
    """A fitted estimator's parameters, fitted attributes and per-epoch history, JSON-ready;
    its weights and numeric arrays go to ``tensors``, under ``prefix``."""
    for name, value in estimator._module_to_save().state_dict().items():
        # a private contiguous copy: safetensors refuses tensors that share storage
        tensors[prefix + _MODULE_PREFIX + name] = cpu_copy(value).contiguous()
    return {
        "params": _encode_params(estimator.get_params(deep=False), tensors, prefix),
        "attributes": _encode_attributes(estimator, tensors, prefix),
        # per-epoch entries only: the per-batch losses would make the header grow with
        # the number of batches
        "history": _encode(_epoch_history(estimator.net_.history), "the training history"),
    }


def _encode_estimator(value, tensors, prefix, what):
    """The marker of an estimator held by a parameter or fitted attribute: a member of the
    family (with its fitted state, if fitted), or a FrozenEstimator around a fitted one."""
    if isinstance(value, FrozenEstimator):
        if not hasattr(value.estimator, "net_"):  # load would refuse it
            raise ValueError(
                f"Cannot save {what}: a FrozenEstimator around an unfitted "
                f"{type(value.estimator).__name__} (fit it first, or pass it unwrapped)."
            )
        inner = _encode_estimator(value.estimator, tensors, prefix, what)
        return {_MARKER: "frozen", "estimator": inner}
    cls = type(value)
    if _CLASSES.get(cls.__name__) is not cls or not issubclass(cls, _BaseAutoencoder):
        raise TypeError(
            f"Cannot save {what}: an estimator of type {cls.__module__}.{cls.__qualname__}, "
            "not a member of the family."
        )
    if not hasattr(value, "net_"):
        params = _encode_params(value.get_params(deep=False), tensors, prefix)
        return {_MARKER: "estimator", "class": cls.__name__, "params": params}
    return {_MARKER: "estimator", "class": cls.__name__, **_record(value, tensors, prefix)}


def _is_estimator(value):
    return isinstance(value, (BaseEstimator, FrozenEstimator))


def _encode_attributes(estimator, tensors, prefix=""):
    """The fitted attributes the format stores, JSON-ready; numeric arrays go to
    ``tensors``. Others (set by hand: ``load`` would refuse them) are dropped with a
    warning."""
    attributes, dropped = {}, []
    for name, value in vars(estimator).items():
        if not is_fitted_attribute_name(name) or name == "net_":
            continue
        value = to_host(value)  # a tensor, where a fit under array_api_dispatch left one
        if name not in estimator._fitted_attributes:
            dropped.append(name)
        elif _is_estimator(value):
            what = f"fitted attribute {name!r}"
            attributes[name] = _encode_estimator(value, tensors, f"{prefix}{name}.", what)
        elif isinstance(value, np.ndarray) and value.dtype in _TENSOR_DTYPES:
            key = prefix + _ATTR_PREFIX + name
            # a private, native-endian, C-ordered copy: safetensors rejects tensors that
            # share memory, and a read-only array (from pandas) makes torch warn
            array = np.array(value, dtype=value.dtype.newbyteorder("="), order="C")
            tensors[key] = torch.from_numpy(array)
            attributes[name] = {_MARKER: "tensor", "key": key, "dtype": array.dtype.name}
        else:
            attributes[name] = _encode(value, f"fitted attribute {name!r}")
    if dropped:
        warn(
            f"The fitted attributes {dropped} are not part of a fitted "
            f"{type(estimator).__name__} and were not saved.",
            UserWarning,
        )
    return attributes


def _write(path, data):
    """Write the file as ``open`` does: ``OSError`` on failure, the mode the umask gives."""
    size = int.from_bytes(data[:8], "little")
    if size > MAX_HEADER_BYTES:
        raise ValueError(
            f"Cannot save: the file's header would take {size} bytes, more than the "
            f"{MAX_HEADER_BYTES} load accepts (the training history has one entry per "
            "epoch; shorten est.net_.history)."
        )
    with open(path, "wb") as file:
        file.write(data)


def load(path):
    """Load an estimator saved with :func:`save`, without running code from the file.

    The file is read as data only: the class comes from a fixed whitelist
    (the family's public classes, registered when they are defined), the
    network is rebuilt from the stored architecture and filled with the stored weights.
    Nothing is unpickled or imported by name.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    estimator : a member of the family
        The fitted estimator; its ``transform``, ``inverse_transform``, ``reconstruct``
        and ``score_samples`` (a classifier's or regressor's ``predict`` and the like)
        return exactly what the saved one returned.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    OSError
        If ``path`` cannot be opened as ``open`` would say: a directory
        (``IsADirectoryError``), a path through a file (``NotADirectoryError``), a name
        too long, no permission.
    TypeError
        If ``path`` is ``bytes`` (or an ``os.PathLike`` giving bytes).
    ValueError
        If ``path`` is not a regular file (a FIFO, a socket, a device: refused before
        anything is read, so loading never waits on one), or if the file is not a valid
        sklearn_ae model file: truncated, not safetensors,
        written by something else, a header over ``MAX_HEADER_BYTES`` (8 MiB) or nested
        over ``MAX_DEPTH`` (32), a checksum that does not match its contents (corrupted,
        or edited without recomputing it: the checksum is no signature), a newer
        ``format_version``, a class outside the whitelist, invalid parameters, an
        unknown, missing or invalid fitted attribute (type, range, shape, finiteness),
        a history that does not match ``n_iter_``, or weights that are not finite or
        do not have the shapes the declared sizes give. All of this is checked before
        the network is built, so loading takes memory in proportion to the file's size.

    Warns
    -----
    UserWarning
        If the model was fitted on a CUDA device that is not available here; it is then
        loaded onto the CPU.

    See Also
    --------
    save : Save a fitted estimator in this format.

    Notes
    -----
    Loading leaves the global torch random state untouched. The loaded estimator can be
    refitted, or trained further with ``warm_start=True`` (with a fresh optimizer state).
    """
    path = _check_path(path)
    metadata, tensors = _read(path)
    _check_header(path, metadata)
    if _checksum(metadata, tensors) != metadata.get("checksum"):
        raise ValueError(
            f"Cannot load {path!r}: checksum mismatch: the file was modified or corrupted."
        )
    name = metadata["class"]
    if name not in _CLASSES:
        raise ValueError(
            f"Cannot load {path!r}: it holds a {name!r}, which is not one of the classes "
            f"this format loads ({', '.join(sorted(_CLASSES))})."
        )
    try:
        params, attributes, history, state = _decode_contents(metadata, tensors)
        return _CLASSES[name]._from_saved(params, attributes, state, history)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ValueError(f"{path!r} is not a valid sklearn_ae model file: {exc}") from exc


def _check_path(path):
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"path must be a str or an os.PathLike giving one; got {path!r}.")
    return path


def _read(path):
    """The header's metadata and the tensors, refusing a header over the limit before
    anything is parsed."""
    with _open_regular_file(path) as file:
        prefix = file.read(8)
    try:
        size = int.from_bytes(prefix, "little")
        if len(prefix) < 8:
            raise ValueError(f"it has {len(prefix)} bytes, fewer than a header's length")
        if size > MAX_HEADER_BYTES:
            raise ValueError(
                f"its header length ({size} bytes) is beyond the {MAX_HEADER_BYTES} bytes "
                "save writes at most"
            )
        with safe_open(path, framework="pt", device="cpu") as f:
            return f.metadata(), {key: f.get_tensor(key) for key in f.keys()}
    except (SafetensorError, ValueError) as exc:
        raise ValueError(f"{path!r} is not a valid sklearn_ae model file: {exc}") from exc


def _open_regular_file(path):
    """``path`` opened for reading in binary mode: the errors of ``open`` for a path that
    cannot be opened (missing, a directory, a component that is a file, a name too long),
    ValueError for anything but a regular file. Opened without blocking, then checked: a
    plain ``open`` of a FIFO waits for a writer forever."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return os.fdopen(fd, "rb")
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    raise ValueError(
        f"Cannot load {path!r}: it is not a regular file (a FIFO, socket or device); "
        "sklearn_ae.load reads files written by sklearn_ae.save."
    )


def _decode_contents(metadata, tensors):
    """Parameters, fitted attributes, history and module state from the header and the
    tensors, estimators nested in the parameters and attributes rebuilt; every tensor must
    be used exactly once."""
    pool = dict(tensors)  # each use takes its tensors out
    params = _decode_entries(_loads(metadata["params"]), pool, tensors_allowed=False)
    attributes = _decode_entries(_loads(metadata["attributes"]), pool, tensors_allowed=True)
    history = _history(_decode(_loads(metadata["history"]), {}))
    state = _take_module_state(pool, "")
    if pool:
        raise ValueError(f"tensors {sorted(pool)} belong to no fitted attribute")
    return params, attributes, history, state


def _decode_entries(entries, pool, tensors_allowed):
    """A parameters or fitted attributes object of the header, decoded; a nested
    estimator's marker is rebuilt from the tensors under its name."""
    if not isinstance(entries, dict):
        raise ValueError("the parameters and fitted attributes must be JSON objects")
    decoded = {
        name: _decode_estimator(value, pool, f"{name}.")
        if isinstance(value, dict) and value.get(_MARKER) in _NESTED
        else _decode(value, pool if tensors_allowed else {})
        for name, value in entries.items()
    }
    _check_no_callbacks(decoded)
    return decoded


def _check_no_callbacks(params):
    if params.get("callbacks") is not None:
        raise ValueError("callbacks are code, which the format never stores")


def _decode_estimator(marker, pool, prefix):
    """The estimator a nested marker describes: an unfitted member of the family, a fitted
    one (rebuilt and checked as :func:`load` rebuilds a file's), or a FrozenEstimator
    around a fitted one. Its own parameters and attributes hold no further estimators."""
    if marker[_MARKER] == "frozen":
        inner = _field(marker, "estimator", dict)
        if inner.get(_MARKER) != "estimator" or "attributes" not in inner:
            raise ValueError("a frozen estimator must hold a fitted member of the family")
        return FrozenEstimator(_decode_estimator(inner, pool, prefix))
    name = _field(marker, "class", str)
    cls = _CLASSES.get(name)
    if cls is None or not issubclass(cls, _BaseAutoencoder):
        raise ValueError(f"a nested estimator of class {name!r}, not a member of the family")
    params = _decode(_field(marker, "params", dict), {})
    _check_no_callbacks(params)
    if "attributes" not in marker:
        return estimator_from_params(cls, params)
    attributes = _decode(_field(marker, "attributes", dict), pool)
    history = _history(_decode(marker["history"], {}))
    return cls._from_saved(params, attributes, _take_module_state(pool, prefix), history)


def _take_module_state(pool, prefix):
    """The weights stored under ``prefix``, taken out of ``pool``, by their names in the
    module."""
    start = prefix + _MODULE_PREFIX
    return {key[len(start):]: pool.pop(key) for key in [k for k in pool if k.startswith(start)]}


def _epoch_history(history):
    return [{key: value for key, value in row.items() if key != "batches"} for row in history]


# ------------------------------------------------------------------- the checksum
def _checksum(metadata, tensors):
    """SHA-256 (hex) over the metadata (except ``"checksum"``) and every tensor.

    The metadata enters as canonical JSON; each tensor, in sorted name order, as its name,
    dtype, shape and raw bytes, each field length-prefixed so no two files collide by
    moving bytes from one field to the next.
    """
    digest = hashlib.sha256()

    def feed(data):
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)

    entries = {key: value for key, value in metadata.items() if key != "checksum"}
    feed(json.dumps(entries, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        feed(name.encode())
        feed(str(tensor.dtype).encode())
        feed(json.dumps(list(tensor.shape)).encode())
        # (an empty tensor, such as the loss curve of a fit interrupted in its first
        # epoch, cannot be viewed as bytes: it has none)
        feed(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


# ---------------------------------------------------------------------- encoding
def _encode_params(params, tensors, prefix=""):
    encoded = {}
    for name, value in params.items():
        if _is_estimator(value):
            what = f"parameter {name!r}"
            encoded[name] = _encode_estimator(value, tensors, f"{prefix}{name}.", what)
            continue
        if name == "callbacks" and value is not None:
            warn(
                "callbacks cannot be saved without their code and were dropped: the "
                "loaded estimator has callbacks=None.",
                UserWarning,
            )
            value = None
        elif name == "optimizer" and not isinstance(value, str):
            raise ValueError(
                f"optimizer={value!r} cannot be saved: a class cannot be stored without "
                "its code. Save an estimator whose optimizer is given by name (e.g. "
                "'adamw'), or use pickle for trusted files."
            )
        elif name == "random_state" and isinstance(value, np.random.RandomState):
            warn(
                "random_state is a RandomState instance, whose state is not saved: the "
                "loaded estimator has random_state=None.",
                UserWarning,
            )
            value = None
        encoded[name] = _encode(value, f"parameter {name!r}")
    return encoded


def _encode(value, what):
    """A JSON-ready form of ``value``; TypeError naming ``what`` for any other type."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (Integral, np.integer)):
        return int(value)
    if isinstance(value, (Real, np.floating)):
        value = float(value)
        return value if np.isfinite(value) else {_MARKER: "float", "value": repr(value)}
    if isinstance(value, tuple):
        return {_MARKER: "tuple", "items": [_encode(v, what) for v in value]}
    if isinstance(value, list):
        return [_encode(v, what) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError(f"Cannot save {what}: a dict with non-string keys.")
        items = {key: _encode(v, what) for key, v in value.items()}
        # a dict that happens to use the marker key is wrapped, so it is not read as one
        return {_MARKER: "dict", "items": items} if _MARKER in value else items
    if isinstance(value, np.ndarray):
        return _encode_array(value, what)
    raise TypeError(
        f"Cannot save {what}: values of type {type(value).__module__}."
        f"{type(value).__qualname__} have no safe representation."
    )


def _encode_array(value, what):
    """The ``"ndarray"`` marker of a numpy array (its values encoded one by one)."""
    # longdouble would lose digits through a Python float; fixed-width strings are stored
    # without their width ("str", e.g. a classifier's classes_), which loading derives
    # from the values; others have no JSON form
    kind = value.dtype.kind
    if kind not in "biufOU" or kind == "f" and value.dtype.itemsize > 8:
        raise TypeError(f"Cannot save {what}: arrays of dtype {value.dtype} are not supported.")
    dtype = {"O": "object", "U": "str"}.get(kind, value.dtype.newbyteorder("=").str)
    return {
        _MARKER: "ndarray",
        "dtype": dtype,
        "shape": list(value.shape),
        "values": [_encode(v, what) for v in value.ravel(order="C").tolist()],
    }


def _decode(value, tensors, depth=0):
    """Inverse of :func:`_encode`; ``tensors`` resolves ``"tensor"`` markers, each once
    (it is removed from ``tensors``). ValueError for values nested over ``MAX_DEPTH``."""
    if depth >= MAX_DEPTH:
        raise ValueError(f"values nested more than {MAX_DEPTH} deep")
    if isinstance(value, list):
        return [_decode(v, tensors, depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(_MARKER)
    if kind is None or kind == "dict":
        # a "dict" marker wraps a dict that uses the marker key itself
        items = value if kind is None else _field(value, "items", dict)
        return {key: _decode(v, tensors, depth + 1) for key, v in items.items()}
    if kind == "tuple":
        return tuple(_decode(_field(value, "items", list), tensors, depth + 1))
    if kind == "float":
        if value["value"] not in ("inf", "-inf", "nan"):
            raise ValueError(f"bad float marker {value['value']!r}")
        return float(value["value"])
    if kind == "tensor":
        dtype = np.dtype(_field(value, "dtype", str))
        if dtype not in _TENSOR_DTYPES:
            raise ValueError(f"unsupported tensor dtype {value['dtype']!r}")
        array = tensors.pop(value["key"]).numpy()
        if array.dtype != dtype:
            raise ValueError(f"tensor {value['key']!r} is {array.dtype}, not {dtype}")
        return array
    if kind == "ndarray":
        return _decode_array(value, _decode(_field(value, "values", list), tensors, depth))
    raise ValueError(f"unknown marker {kind!r}")


def _decode_array(marker, values):
    """The array an ``"ndarray"`` marker describes: as many elements as values given
    (so its memory follows the header's length), numbers for a numeric dtype."""
    shape = _field(marker, "shape", list)
    if not all(type(n) is int and n >= 0 for n in shape) or math.prod(shape) != len(values):
        raise ValueError(f"an array of shape {shape!r} cannot hold {len(values)} values")
    if _field(marker, "dtype", str) == "object":
        array = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            array[i] = v
        return array.reshape(shape)
    if marker["dtype"] == "str":
        return _decode_str_array(values).reshape(shape)
    dtype = np.dtype(marker["dtype"])
    if dtype.kind not in "biuf" or dtype.itemsize > 8:
        raise ValueError(f"unsupported array dtype {marker['dtype']!r}")
    if not all(isinstance(v, (int, float)) for v in values):
        raise ValueError(f"an array of dtype {dtype} holds values that are not numbers")
    return np.array(values, dtype=dtype).reshape(shape)


def _decode_str_array(values):
    """A fixed-width string array of ``values``, refused where the width the longest value
    sets would pad the others into much more memory than the header holds."""
    if not all(isinstance(v, str) for v in values):
        raise ValueError("a string array holds values that are not strings")
    width = max(map(len, values), default=1)
    if len(values) * width > 8 * sum(map(len, values)) + 4096:
        raise ValueError("a string array whose longest value would pad the others too wide")
    return np.array(values, dtype=f"<U{width}")


def _field(marker, key, kind):
    value = marker[key]
    if not isinstance(value, kind):
        raise ValueError(f"a {marker[_MARKER]!r} marker's {key!r} is not a {kind.__name__}")
    return value


def _dumps(obj):
    return json.dumps(obj, allow_nan=False, separators=(",", ":"))


def _loads(text):
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"JSON nested more than {MAX_DEPTH} deep") from None


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


# ----------------------------------------------------------------------- helpers
def _check_header(path, metadata):
    """ValueError unless the metadata is this format's, in a version this code reads,
    with exactly the entries save writes."""
    if not metadata or metadata.get("format") != FORMAT:
        raise ValueError(
            f"{path!r} is not a valid sklearn_ae model file: it is a safetensors file, but "
            "not one written by sklearn_ae.save."
        )
    version = metadata.get("format_version", "")
    # a positive integer, as save writes it ("1", not "01", " 1" or "1_0")
    if not re.fullmatch(r"[1-9][0-9]{0,8}", version):
        raise ValueError(
            f"{path!r} is not a valid sklearn_ae model file: bad format_version "
            f"{version!r}."
        )
    if int(version) > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} has format_version {version}, but this version of sklearn_ae reads "
            f"format_version {FORMAT_VERSION} at most; upgrade sklearn_ae to load it."
        )
    missing = _HEADER_KEYS - {"module_start_spec"} - set(metadata)
    unknown = set(metadata) - _HEADER_KEYS
    if missing or unknown:
        raise ValueError(
            f"{path!r} is not a valid sklearn_ae model file: missing header entries "
            f"{sorted(missing)}, unknown ones {sorted(unknown)}."
        )


def _history(entries):
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError("the training history is not a list of dicts")
    return entries
