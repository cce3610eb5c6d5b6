"""Which types a saved model file may contain: an exact allow-list, never a prefix.

skops' advice for files from elsewhere is to read the types a file holds
(``skops.io.get_untrusted_types``) and load only when each is on an explicit list.
halfcost goes one step further: it walks the whole schema of the file and checks every
node's type, also those skops trusts by default (so a ``FunctionTransformer``, which
halfcost never writes, is refused even before the function it wraps is looked at), and
refuses outright the node kinds that resolve a callable by name (functions, methods,
``functools.partial``, operators).

The list is computed in one place, :func:`trusted_type_names`, from
:data:`TRUSTED_CLASSES` (import paths of the classes halfcost's pipelines are built
from) and :data:`TRUSTED_BUILTIN_TYPES` (containers and NumPy scalar types a fitted
estimator's state holds). A new part of a saved pipeline (say, another scikit-learn
transformer) is trusted by adding its import path to :data:`TRUSTED_CLASSES`, or to
``ENCODER_TYPES`` beside the encoder when the encoder holds it.
"""

from __future__ import annotations

import functools
import importlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# "module:QualName" of each class halfcost writes into pipeline.skops. Imported (not
# written as strings) so a class scikit-learn moves between private modules is found
# where it now lives; its saved type name is `module.QualName` of the imported class.
TRUSTED_CLASSES: tuple[str, ...] = (
    # the pipeline and the encoder's parts are halfcost.automl._encoder.ENCODER_TYPES,
    # listed where the encoder is built; the label encoders a classifier keeps:
    "sklearn.preprocessing:LabelEncoder",
    "sklearn.preprocessing:LabelBinarizer",
    # the model families (automl/_families.py)
    "sklearn.linear_model:LogisticRegression",
    "sklearn.linear_model:Ridge",
    "sklearn.tree:DecisionTreeClassifier",
    "sklearn.tree:DecisionTreeRegressor",
    "sklearn.tree:ExtraTreeClassifier",
    "sklearn.tree:ExtraTreeRegressor",
    "sklearn.tree._tree:Tree",
    "sklearn.ensemble:ExtraTreesClassifier",
    "sklearn.ensemble:ExtraTreesRegressor",
    "sklearn.ensemble:RandomForestClassifier",
    "sklearn.ensemble:RandomForestRegressor",
    "sklearn.ensemble:HistGradientBoostingClassifier",
    "sklearn.ensemble:HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.binning:_BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor:TreePredictor",
    "sklearn.neural_network:MLPClassifier",
    "sklearn.neural_network:MLPRegressor",
    "sklearn.neural_network._stochastic_optimizers:AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers:SGDOptimizer",
    "lightgbm:LGBMClassifier",
    "lightgbm:LGBMRegressor",
    "lightgbm:Booster",
    # the losses and links gradient boosting keeps in its fitted state
    "sklearn._loss.loss:HalfBinomialLoss",
    "sklearn._loss.loss:HalfMultinomialLoss",
    "sklearn._loss.loss:HalfSquaredError",
    "sklearn._loss._loss:CyHalfBinomialLoss",
    "sklearn._loss._loss:CyHalfMultinomialLoss",
    "sklearn._loss._loss:CyHalfSquaredError",
    "sklearn._loss.link:IdentityLink",
    "sklearn._loss.link:LogitLink",
    "sklearn._loss.link:MultinomialLogit",
    "sklearn._loss.link:Interval",
)

# Containers, scalars and NumPy types the state of those classes is made of.
TRUSTED_BUILTIN_TYPES: frozenset[str] = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
        "builtins.slice",
        "collections.OrderedDict",
        "collections.defaultdict",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.random.mtrand.RandomState",
        "numpy.random._generator.Generator",
        *(
            f"numpy.{name}"
            for name in (
                "bool",
                "bool_",
                "object_",
                "str_",
                "int8",
                "int16",
                "int32",
                "int64",
                "uint8",
                "uint16",
                "uint32",
                "uint64",
                "float16",
                "float32",
                "float64",
            )
        ),
    }
)

# Node kinds that look a callable up by name: a model halfcost writes holds none.
_CALLABLE_NODES = frozenset({"FunctionNode", "MethodNode", "PartialNode", "OperatorFuncNode"})


def _type_name(path: str) -> str:
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return f"{obj.__module__}.{obj.__qualname__}"


@functools.cache
def trusted_type_names() -> frozenset[str]:
    """The exact type names (``module.QualName``) a saved model may contain."""
    from halfcost.automl._encoder import ENCODER_TYPES

    classes = {_type_name(path) for path in TRUSTED_CLASSES}
    return TRUSTED_BUILTIN_TYPES | classes | frozenset(ENCODER_TYPES) | {PASSTHROUGH_TYPE}


# ColumnTransformer keeps a column group it passes through as a FunctionTransformer
# whose functions are None (scikit-learn's "passthrough"); one holding a function is
# refused, as is any other FunctionTransformer.
_PASSTHROUGH = "sklearn.preprocessing._function_transformer.FunctionTransformer"
PASSTHROUGH_TYPE = f"{_PASSTHROUGH} (passthrough)"


def _is_passthrough(node: dict) -> bool:
    state = (node.get("content") or {}).get("content") or {}
    return all(
        isinstance(state.get(key), dict) and state[key].get("content") == "null"
        for key in ("func", "inverse_func", "kw_args", "inv_kw_args")
    )


def _schema_nodes(node: Any) -> Iterator[tuple[str, str]]:
    """(node kind, type name) of every node of a skops schema, depth first.

    A passthrough FunctionTransformer is named :data:`PASSTHROUGH_TYPE`, which is trusted.
    """
    if isinstance(node, dict):
        if "__module__" in node and "__class__" in node:
            name = f"{node['__module__']}.{node['__class__']}"
            if name == _PASSTHROUGH and _is_passthrough(node):
                name = PASSTHROUGH_TYPE
            yield str(node.get("__loader__")), name
        for value in node.values():
            yield from _schema_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_nodes(value)


def untrusted_types(pipeline_path: Path) -> list[str]:
    """Types in the skops file ``pipeline_path`` that halfcost does not write, sorted.

    Checks both the types skops itself reports as untrusted and every node of the file's
    schema (a callable looked up by name is always untrusted).

    Raises:
        zipfile.BadZipFile, KeyError, ValueError: the file is not a readable skops archive.
    """
    import skops.io

    trusted = trusted_type_names()
    with zipfile.ZipFile(pipeline_path) as archive:
        schema = json.loads(archive.read("schema.json"))
    passthrough = any(name == PASSTHROUGH_TYPE for _, name in _schema_nodes(schema))
    refused = {
        name
        for name in skops.io.get_untrusted_types(file=pipeline_path)
        # skops names every FunctionTransformer alike; the schema walk tells them apart
        if not (passthrough and name == _PASSTHROUGH)
    }
    refused.update(
        name
        for kind, name in _schema_nodes(schema)
        if kind in _CALLABLE_NODES or name not in trusted
    )
    callables = {name for kind, name in _schema_nodes(schema) if kind in _CALLABLE_NODES}
    return sorted(name for name in refused if name not in trusted or name in callables)
