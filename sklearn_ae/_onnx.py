"""The family as steps of a pipeline that ``skl2onnx`` converts: one converter, embedding
the graph :meth:`~sklearn_ae.AutoencoderTransformer.to_onnx` exports."""

from ._base import _BaseAutoencoder
from .nn.export import import_onnx_extra


def register_skl2onnx():
    """Register the family's members with skl2onnx, so that :func:`skl2onnx.to_onnx`
    converts pipelines that contain them.

    Each member becomes its encoder graph (:meth:`~sklearn_ae.AutoencoderTransformer.to_onnx`),
    exported at the conversion's target opset (18 or later), inputs of another float
    type cast to float32 first: the step outputs float32 codes, as ``transform`` does.
    Call it once per process, before converting; calling it again does no harm. Needs the
    ``onnx`` extra (``pip install 'sklearn-ae[onnx]'``).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from skl2onnx import to_onnx
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_ae import AutoencoderTransformer, register_skl2onnx
    >>> X = np.random.RandomState(0).normal(size=(100, 6)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> pipe = make_pipeline(
    ...     StandardScaler(),
    ...     AutoencoderTransformer(n_components=2, max_epochs=2, random_state=0),
    ...     LogisticRegression(),
    ... ).fit(X, y)
    >>> register_skl2onnx()
    >>> model = to_onnx(pipe, X[:1], options={"zipmap": False})
    >>> session = onnxruntime.InferenceSession(model.SerializeToString())
    >>> labels, proba = session.run(None, {"X": X})
    >>> bool(np.allclose(proba, pipe.predict_proba(X), atol=1e-5))
    True
    """
    skl2onnx = import_onnx_extra("skl2onnx")
    for name, cls in _BaseAutoencoder._members_by_name.items():
        if issubclass(cls, _BaseAutoencoder):  # transformers only: not the classifier
            skl2onnx.update_registered_converter(cls, f"SklearnAE{name}", _shape, _convert)


def _shape(operator):
    """One float or double input of ``n_features_in_`` columns; float32 codes out."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(operator, good_input_types=[FloatTensorType, DoubleTensorType])
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n_rows, operator.raw_operator.n_components])


def _convert(scope, operator, container):
    """The member's encoder graph, renamed into the pipeline's graph."""
    from skl2onnx.helpers import add_onnx_graph

    model = operator.raw_operator.to_onnx(opset=container.target_opset)
    elem_type = operator.inputs[0].type.to_onnx_type().tensor_type.elem_type
    add_onnx_graph(scope, operator, container, _with_input_type(model, elem_type))


def _with_input_type(model, elem_type):
    """``model`` (changed in place) taking its input as ``elem_type``, cast to float32
    inside the graph."""
    from onnx import TensorProto, helper

    if elem_type == TensorProto.FLOAT:
        return model
    graph_input = model.graph.input[0]
    cast = graph_input.name + "_float32"
    for node in model.graph.node:
        node.input[:] = [cast if name == graph_input.name else name for name in node.input]
    model.graph.node.insert(
        0, helper.make_node("Cast", [graph_input.name], [cast], name="cast", to=TensorProto.FLOAT)
    )
    graph_input.type.tensor_type.elem_type = elem_type
    return model
