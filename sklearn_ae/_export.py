"""What a fitted member gives beyond the estimator contract: its encoder and decoder as
PyTorch modules and ONNX graphs, and statistics of its codes. A mixin of
:class:`~sklearn_ae._base._BaseAutoencoder`, kept apart so the contract stays readable."""

import copy

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._array_api import to_host
from .losses import hoyer_sparsity
from .nn import ScaledPart, onnx_model


class ExportMixin:
    """``to_torch``, ``to_onnx``, ``code_activations`` and ``code_sparsity`` of a fitted
    member, built on its ``net_``, scaling, ``_code_map`` and ``_map_batches``."""

    def to_torch(self, part="encoder"):
        """The fitted encoder or decoder as a plain :class:`torch.nn.Module`, the input
        scaling built in: for transfer to PyTorch code, fine-tuning, or export.

        ``to_torch()(torch.from_numpy(X))`` equals ``transform(X)`` (float32 rounding
        aside) and ``to_torch("decoder")(codes)`` equals ``inverse_transform(codes)``. The
        module is a copy in eval mode on ``device_``: training it leaves the estimator
        unchanged. For :class:`~sklearn_ae.VAETransformer` the encoder gives the posterior
        mean, as :meth:`transform` does.

        Parameters
        ----------
        part : {"encoder", "decoder"}, default="encoder"
            Which half of the network.

        Returns
        -------
        module : sklearn_ae.nn.ScaledPart
            Maps float32 tensors of shape ``(n, n_features_in_)`` to ``(n, n_components)``
            (encoder), or back (decoder).

        Examples
        --------
        >>> import numpy as np, torch
        >>> from sklearn_ae import AutoencoderTransformer
        >>> X = np.random.RandomState(0).normal(size=(64, 5)).astype(np.float32)
        >>> ae = AutoencoderTransformer(n_components=2, max_epochs=2, random_state=0).fit(X)
        >>> encoder = ae.to_torch()
        >>> with torch.no_grad():
        ...     codes = encoder(torch.from_numpy(X)).numpy()
        >>> bool(np.allclose(codes, ae.transform(X), atol=1e-5))
        True
        """
        check_is_fitted(self)
        network = copy.deepcopy(self.net_.module_)
        module = ScaledPart(network, part, self.mean_, self.scale_, self.loss == "bce",
                            self._code_map())
        return module.to(self.device_).eval()

    def to_onnx(self, part="encoder", *, opset=None):
        """The fitted encoder or decoder as an ONNX model, the input scaling built in: to
        serve :meth:`transform` or :meth:`inverse_transform` outside Python.

        The graph (from :meth:`to_torch`, exported with torch's ``dynamo=True`` exporter)
        takes float32 rows, any number of them: the encoder's input ``"X"`` of shape
        ``(n, n_features_in_)`` gives ``"codes"`` of shape ``(n, n_components)``, the
        decoder's input ``"codes"`` gives ``"X_decoded"`` of shape ``(n, n_features_in_)``
        in the data's units. For :class:`~sklearn_ae.VAETransformer` the encoder gives the
        posterior mean, as :meth:`transform` does. Write it to a file with
        ``onnx.save(model, path)``; to convert a whole pipeline, see
        :func:`sklearn_ae.register_skl2onnx`. Needs the ``onnx`` extra
        (``pip install 'sklearn-ae[onnx]'``).

        Parameters
        ----------
        part : {"encoder", "decoder"}, default="encoder"
            Which half of the network.
        opset : int, default=None
            ONNX opset of the graph (18 or later); None for the exporter's default.

        Returns
        -------
        model : onnx.ModelProto

        Examples
        --------
        >>> import numpy as np, onnxruntime
        >>> from sklearn_ae import AutoencoderTransformer
        >>> X = np.random.RandomState(0).normal(size=(64, 5)).astype(np.float32)
        >>> ae = AutoencoderTransformer(n_components=2, max_epochs=2, random_state=0).fit(X)
        >>> session = onnxruntime.InferenceSession(ae.to_onnx().SerializeToString())
        >>> (codes,) = session.run(None, {"X": X})
        >>> bool(np.allclose(codes, ae.transform(X), atol=1e-5))
        True
        """
        check_is_fitted(self)
        if part == "encoder":
            n_inputs, names = self.n_features_in_, ("X", "codes")
        else:
            n_inputs, names = self.n_components_, ("codes", "X_decoded")
        return onnx_model(self.to_torch(part).cpu(), n_inputs, *names, opset=opset)

    def code_activations(self, X):
        """How strongly each code unit responds to each sample (what the sparsity penalty
        acts on).

        The codes in scaled units (``transform(X)`` divided by ``scale_`` when
        ``init="pca"``, whose codes are in the data's units), in absolute value; or, with
        ``sparsity="kl"``, their sigmoid, the activation the KL penalty pulls towards
        ``sparsity_target``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        activations : ndarray of shape (n_samples, n_components), dtype float32
        """
        codes = self.transform(X)
        if self.whiten:  # the penalty acts on the network's own codes
            std, mean = (to_host(a).astype(np.float32) for a in (self.code_std_, self.code_mean_))
            codes = codes * std + mean
        codes = codes / np.float32(self._code_unit())
        if self.sparsity == "kl":
            return (1.0 / (1.0 + np.exp(-codes))).astype(np.float32)
        return np.abs(codes)

    def code_sparsity(self, X):
        """Mean Hoyer sparsity of the codes of ``X``, from 0 (every unit equally active) to
        1 (one active unit per sample).

        Hoyer's measure ``(sqrt(k) - L1 / L2) / (sqrt(k) - 1)`` of each row of
        :meth:`code_activations` (``k = n_components``), averaged over samples. It does not
        change when all codes are rescaled, so it compares models fitted with and without
        a penalty fairly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        sparsity : float
        """
        activations = torch.as_tensor(self.code_activations(X), dtype=torch.float64)
        return float(hoyer_sparsity(activations).mean())
