"""The family as steps of a pipeline that ``skl2onnx`` converts: one converter, embedding
the graph :meth:`~sklearn_ae.AutoencoderTransformer.to_onnx` exports."""

from ._base import _BaseAutoencoder
from .nn.export import import_onnx_extra


def register_skl2onnx():
    """Register the family's members with skl2onnx, so that :func:`skl2onnx.to_onnx`
    converts pipelines that contain them.

    Each member becomes its encoder graph (:meth:`~sklearn_ae.AutoencoderTransformer.to_onnx`),
    exported at the conversion's target opset (18 or later). It computes in float32, as
    ``transform`` does; a double input (float64 rows) is cast to float32 first and the
    codes back to double, the type skl2onnx gives the steps after it.
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
    """One float or double input of ``n_features_in_`` columns; codes out in the input's
    type (the network computes in float32): skl2onnx gives the steps after it, and the
    pipeline's outputs, the input's type, and a float32 step among double ones makes a
    graph onnxruntime refuses."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(operator, good_input_types=[FloatTensorType, DoubleTensorType])
    n_rows = operator.inputs[0].get_first_dimension()
    out_type = type(operator.inputs[0].type)
    operator.outputs[0].type = out_type([n_rows, operator.raw_operator.n_components_])


def _convert(scope, operator, container):
    """The member's encoder graph, renamed into the pipeline's graph."""
    from skl2onnx.helpers import add_onnx_graph

    model = operator.raw_operator.to_onnx(opset=container.target_opset)
    elem_type = operator.inputs[0].type.to_onnx_type().tensor_type.elem_type
    add_onnx_graph(scope, operator, container, _with_input_type(model, elem_type))


def _with_input_type(model, elem_type):
    """``model`` (changed in place) taking its input as ``elem_type`` and giving its output
    in it, cast to and from float32 inside the graph."""
    from onnx import TensorProto, helper

    if elem_type == TensorProto.FLOAT:
        return model
    graph_input, graph_output = model.graph.input[0], model.graph.output[0]
    cast_in, cast_out = graph_input.name + "_float32", graph_output.name + "_float32"
    for node in model.graph.node:
        node.input[:] = [cast_in if name == graph_input.name else name for name in node.input]
        node.output[:] = [cast_out if name == graph_output.name else name
                          for name in node.output]
    model.graph.node.insert(0, helper.make_node(
        "Cast", [graph_input.name], [cast_in], name="cast_in", to=TensorProto.FLOAT))
    model.graph.node.append(helper.make_node(
        "Cast", [cast_out], [graph_output.name], name="cast_out", to=elem_type))
    graph_input.type.tensor_type.elem_type = elem_type
    graph_output.type.tensor_type.elem_type = elem_type
    return model
