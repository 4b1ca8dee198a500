"""The family as steps of a pipeline that ``skl2onnx`` converts: each member's converter
embeds the graph its ``to_onnx`` exports (a transformer's encoder, the classifier's or the
regressor's whole network); the classifier's adds the labels skl2onnx's classifiers give."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from ._base import _BaseAutoencoder
from .nn.export import import_onnx_extra


def register_skl2onnx():
    """Register the family's members with skl2onnx, so that :func:`skl2onnx.to_onnx`
    converts pipelines that contain them.

    Each transformer becomes its encoder graph
    (:meth:`~sklearn_ae.AutoencoderTransformer.to_onnx`), exported at the conversion's
    target opset (18 or later). :class:`~sklearn_ae.AutoencoderClassifier` gives the two
    outputs of skl2onnx's own classifiers: ``label`` (int64, or strings for string
    classes; ``classes_[argmax]``) and ``probabilities``, through skl2onnx's ``zipmap``
    option (default ``True``: a list of dicts; ``False``: a matrix; ``"columns"``: one
    output per class) and ``nocl`` (class indices as labels).
    :class:`~sklearn_ae.AutoencoderRegressor` gives ``variable`` of shape
    ``(n, n_outputs_)``. Every graph computes in float32, as ``transform`` and
    ``predict`` do up to rounding; a double input (float64 rows) is cast to float32 first
    and the outputs back to double, the type skl2onnx gives the steps after it (with a
    double input, the classifier needs ``zipmap=False`` or ``"columns"``: ONNX's ZipMap
    reads float32 only). Call it once per process, before converting; calling it again
    does no harm. Converting a member without it raises skl2onnx's
    ``MissingShapeCalculator`` naming this function. Needs the ``onnx`` extra
    (``pip install 'sklearn-ae[onnx]'``).

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
        if issubclass(cls, ClassifierMixin):
            # the options of skl2onnx's own classifiers; declaring zipmap also gives the
            # class skl2onnx's classifier parser, which adds the ZipMap step
            skl2onnx.update_registered_converter(
                cls, f"SklearnAE{name}", _classifier_shape, _convert_classifier,
                options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
            )
        else:
            skl2onnx.update_registered_converter(cls, f"SklearnAE{name}", _shape, _convert)


def shape_calculator(operator):
    """skl2onnx's own shape inference for a member, with a message that names the fix
    when no converter is registered.

    skl2onnx asks a model's ``onnx_shape_calculator()`` for its shape calculator before
    its registry, so the estimators' hook returns this function; an operator without an
    alias (``operator.type``) is one skl2onnx has no converter for."""
    from skl2onnx.common.exceptions import MissingShapeCalculator

    if operator.type is None:
        raise MissingShapeCalculator(
            f"skl2onnx has no converter for {type(operator.raw_operator).__name__}: call "
            "sklearn_ae.register_skl2onnx() once before converting a pipeline that holds "
            "a member of sklearn_ae."
        )
    operator.infer_types()


def _check_float_input(operator, n_outputs):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=n_outputs
    )
    check_input_and_output_types(operator, good_input_types=[FloatTensorType, DoubleTensorType])


def _shape(operator):
    """One float or double input of ``n_features_in_`` columns; codes (or the regressor's
    predictions) out in the input's type (the network computes in float32): skl2onnx
    gives the steps after it, and the pipeline's outputs, the input's type, and a float32
    step among double ones makes a graph onnxruntime refuses."""
    _check_float_input(operator, 1)
    est = operator.raw_operator
    width = est.n_outputs_ if isinstance(est, RegressorMixin) else est.n_components_
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = type(operator.inputs[0].type)([n_rows, width])


def _classifier_shape(operator):
    """As skl2onnx's linear classifiers: ``label`` (int64, or strings for string classes)
    and ``probabilities`` in the input's type, of shape (n, n_classes)."""
    from skl2onnx.common.data_types import DoubleTensorType
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    _check_float_input(operator, 2)
    options = operator.scope_inst.get_options(operator.raw_operator, {"zipmap": True})
    if options["zipmap"] is True and isinstance(operator.inputs[0].type, DoubleTensorType):
        # skl2onnx would build the graph (its own classifiers' too), but ONNX's ZipMap
        # takes float32 probabilities only, and onnxruntime refuses to load it
        raise ValueError(
            "A double (float64) input gives double probabilities, which the ZipMap step "
            "of zipmap=True cannot take (ONNX's ZipMap reads float32 only). Convert with "
            'options={"zipmap": False} (a probability matrix) or {"zipmap": "columns"}, '
            "or pass a float32 sample."
        )
    calculate_linear_classifier_output_shapes(operator)


def _convert(scope, operator, container):
    """The member's graph (the encoder, or the regressor's whole network), renamed into
    the pipeline's graph."""
    from skl2onnx.helpers import add_onnx_graph

    add_onnx_graph(scope, operator, container, _member_graph(operator, container))


def _convert_classifier(scope, operator, container):
    """The classifier's graph with its label output added (as ``classes_``, or the class
    indices for skl2onnx's ``nocl`` option)."""
    from skl2onnx.common.utils_classifier import get_label_classes
    from skl2onnx.helpers import add_onnx_graph

    classes = get_label_classes(scope, operator.raw_operator)
    model = _with_labels(_member_graph(operator, container), classes)
    add_onnx_graph(scope, operator, container, model)


def _member_graph(operator, container):
    """The member's ``to_onnx`` graph at the conversion's opset, taking and giving the
    operator's input type."""
    model = operator.raw_operator.to_onnx(opset=container.target_opset)
    elem_type = operator.inputs[0].type.to_onnx_type().tensor_type.elem_type
    return _with_input_type(model, elem_type)


def _with_labels(model, classes):
    """``model`` (changed in place), whose one output holds class probabilities, with a
    first output ``label``: the class of each row's largest probability (the first of
    equal ones, as ``np.argmax`` picks), in the types skl2onnx gives labels."""
    from onnx import helper, numpy_helper

    if all(isinstance(c, str) for c in classes):
        values = np.array(classes, dtype=object)
    else:  # integers, bools or whole floats: fit refuses other numbers as "continuous"
        values = np.asarray(classes).astype(np.int64)
    table = numpy_helper.from_array(values, "sklearn_ae_classes")
    proba = model.graph.output[0].name
    model.graph.initializer.append(table)
    model.graph.node.extend([  # named: skl2onnx's add_onnx_graph renames every node
        helper.make_node("ArgMax", [proba], ["sklearn_ae_argmax"], name="argmax", axis=1,
                         keepdims=0),
        helper.make_node("Gather", [table.name, "sklearn_ae_argmax"], ["label"],
                         name="gather_label", axis=0),
    ])
    label = helper.make_tensor_value_info("label", table.data_type, [None])
    model.graph.output.insert(0, label)
    return model


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
